"""An SDR on a phone (390 px wide): the pages fit the screen, the menu folds
behind a button, and a wide table scrolls inside itself, never the page."""

import pytest
from playwright.sync_api import expect

from routing.models import Queue
from tests.routing.test_queue_pages import mql_for, seat, set_due

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_sdr_pages_fit_a_phone_without_sideways_scrolling(
    page, live_server, log_in, sdr, screenshot
):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    grace = set_due(
        mql_for(
            sdr,
            1,
            first_name="Grace",
            last_name="Hopper",
            email="grace.hopper.of.the.navy.labs@navylabs-and-research.example",
            company="Navy Laboratories of Computing Research and Development",
            title="Director of Engineering Operations and Research",
        ),
        minutes=-185,
    )
    log_in(sdr)
    page.set_viewport_size(PHONE)

    pages = {
        "queue": "/queue/",
        "lead": f"/queue/{grace.pk}/",
        "notices": "/notices/",
        "notice settings": "/settings/notices/",
    }
    widths = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        widths[name] = page_width(page)
    assert widths == dict.fromkeys(pages, 390)

    page.goto(live_server.url + "/queue/")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(menu.get_by_role("link", name="My queue")).to_be_visible()
    screenshot("sdr-queue-phone")


def test_the_menu_stays_open_on_a_wide_screen(page, live_server, log_in, sdr):
    log_in(sdr)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/queue/")

    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
