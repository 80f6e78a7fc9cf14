"""An SDR's morning, in the browser: the queue, a lead, a rejection.

The MQLs are made through the services (scored by the default model and
routed to their account owner); only their SLA clocks are set by hand.
"""

import pytest
from playwright.sync_api import expect

from routing.models import Queue
from routing.services import watch_sla_clocks
from tests.routing.test_queue_pages import mql_for, seat, set_due

pytestmark = pytest.mark.e2e


def test_an_sdr_works_the_queue_and_rejects_a_lead_with_a_reason(
    page, live_server, log_in, sdr, screenshot
):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    grace = set_due(
        mql_for(
            sdr,
            1,
            first_name="Grace",
            last_name="Hopper",
            email="grace@navylabs.example",
            company="Navy Labs",
        ),
        minutes=-185,
    )
    set_due(
        mql_for(
            sdr,
            2,
            first_name="Alan",
            last_name="Turing",
            email="alan@bletchley.example",
            company="Bletchley Park",
            title="Head of Research",
        ),
        minutes=300,
    )
    set_due(
        mql_for(
            sdr,
            3,
            first_name="Ada",
            last_name="Lovelace",
            email="ada@engines.example",
            company="Analytical Engines",
            title="Founder",
            source="webinar",
        ),
        minutes=80,
    )
    watch_sla_clocks()  # Grace is overdue: Sam has a breach notice

    log_in(sdr)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My queue").click()

    expect(page.get_by_role("heading", name="My MQLs")).to_be_visible()
    leads = page.locator("tr.mql .lead-link")
    expect(leads).to_have_text(["Grace Hopper", "Ada Lovelace", "Alan Turing"])
    expect(page.locator("tr.mql").first.locator(".clock")).to_have_text("overdue by 3 h 05 min")
    expect(page.locator("#notices")).to_contain_text("SLA breached: grace@navylabs.example")
    screenshot("sdr-queue")

    leads.first.click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    why = page.locator("section", has=page.get_by_role("heading", name="Why is this an MQL"))
    expect(why.locator("table.explanation tbody tr td:first-child")).to_have_text(
        [
            "Senior title",
            "Company of 200 employees or more",
            "Demo request",
            "Pricing page visit",
            "Content download",
        ]
    )
    expect(why.locator("tfoot")).to_contain_text("77.50")
    expect(page.get_by_role("heading", name="Why you got it")).to_be_visible()
    expect(page.get_by_text("account owner", exact=True)).to_be_visible()

    page.get_by_label("Reason").select_option("not_a_fit")
    page.get_by_label("Rejection note").fill("An agency, not a buyer")
    page.get_by_role("button", name="Reject").click()

    # htmx swapped the panel in place: no reload, the outcome and the history are there.
    panel = page.locator("#mql-panel")
    expect(panel.locator(".done")).to_have_text(
        "Rejected: Grace Hopper has left your queue. Back to My MQLs"
    )
    expect(panel.get_by_role("heading", name="Rejected")).to_be_visible()
    expect(panel.locator("table.stage-history tbody tr").first).to_contain_text(
        "MQL → Disqualified"
    )
    expect(panel.locator("table.stage-history tbody tr").first).to_contain_text(
        "Rejected: Not a fit (An agency, not a buyer)"
    )
    assert page.url == f"{live_server.url}/queue/{grace.pk}/"

    panel.get_by_role("link", name="Back to My MQLs").click()
    expect(leads).to_have_text(["Ada Lovelace", "Alan Turing"])
