"""The working day in a real browser: an SDR's own leads and availability,
a manager moving an SDR's queue to a colleague who is then told, and the
new pages on a phone (390 px) with no sideways scrolling."""

import pytest
from playwright.sync_api import expect

from routing.models import Assignment, Queue
from routing.services import accept_mql
from tests.e2e.test_phone import PHONE, page_width
from tests.routing.test_queue_pages import mql_for, seat

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(sdr, other_sdr):
    seat([sdr, other_sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))


def test_an_sdr_finds_an_accepted_lead_on_my_leads_and_marks_themselves_away(
    page, live_server, log_in, sdr, desk, screenshot
):
    grace = mql_for(sdr, 1, first_name="Grace", last_name="Hopper")
    accept_mql(assignment=grace, by=sdr)
    mql_for(sdr, 2, first_name="Alan", last_name="Turing")
    log_in(sdr)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My leads").click()
    page.get_by_label("Search").fill("hopper")
    page.get_by_label("Search").press("Enter")
    row = page.locator("tr", has_text="Grace Hopper")
    expect(row).to_contain_text("SAL")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(row.get_by_role("link", name="Qualify as SQL")).to_be_visible()

    page.goto(live_server.url + "/queue/availability/")
    page.get_by_label("Away until").fill("2099-01-02T09:00")
    page.get_by_role("button", name="Mark me away").click()
    expect(page.locator("#availability-status")).to_contain_text(
        "You are away until 2099-01-02 09:00"
    )
    page.get_by_role("button", name="I'm back").click()
    expect(page.locator("#availability-status")).to_contain_text("You are available")


def test_a_manager_moves_an_sdrs_queue_and_the_colleague_is_told(
    page, live_server, log_in, sdr, other_sdr, manager, desk, screenshot
):
    for n in range(3):
        mql_for(sdr, n)
    log_in(manager)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    sam = page.locator("tr[data-sdr='sam.sdr']")
    expect(sam).to_contain_text("3")
    sam.get_by_role("link", name="Open MQLs").click()
    page.get_by_label("To").select_option(label="Olivia Park")
    page.get_by_label("Why").fill("Sam is off sick today")
    screenshot("manager-team")
    page.get_by_role("button", name="Reassign all 3").click()
    expect(page.get_by_text("Reassigned 3 MQLs to Olivia Park; they were told.")).to_be_visible()
    assert Assignment.objects.filter(sdr=other_sdr, status="open").count() == 3

    page.get_by_role("button", name="Log out").click()
    log_in(other_sdr)
    page.goto(live_server.url + "/queue/")
    expect(page.locator("#notices")).to_contain_text("New MQL for you")
    expect(page.locator("tbody tr")).to_have_count(3)


def test_the_new_pages_fit_a_phone(page, live_server, log_in, sdr, manager, desk):
    mql_for(sdr, 1)
    log_in(sdr)
    page.set_viewport_size(PHONE)
    for path in ("/queue/mine/", "/queue/availability/"):
        page.goto(live_server.url + path)
        assert (path, page_width(page)) == (path, 390)
    page.context.clear_cookies()
    log_in(manager)
    for path in ("/manager/team/", f"/manager/team/?sdr={sdr.pk}", "/manager/", "/manager/sla/"):
        page.goto(live_server.url + path)
        assert (path, page_width(page)) == (path, 390)
