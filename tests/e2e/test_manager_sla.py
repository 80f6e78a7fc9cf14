"""A breach appears on the manager's SLA page once the clock has run out.

Time is moved forward, not waited for: the test runs the SLA watcher as if
25 hours had passed, as the beat schedule would run it then.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Stage
from leads.services import change_stage, upsert_lead
from routing.models import Queue
from routing.services import join_queue, route_mql, watch_sla_clocks
from tests import factories

pytestmark = pytest.mark.e2e

# The sum of the bars Chart.js drew; null until it has drawn them.
CHART_TOTAL = """() => {
  if (typeof Chart === "undefined") return null;
  const chart = Chart.getChart(document.getElementById("sla-breaches-chart"));
  return chart ? chart.data.datasets[0].data.reduce((a, b) => a + b, 0) : null;
}"""


def test_a_manager_sees_a_breach_appear_once_the_deadline_has_passed(
    page, live_server, log_in, manager, sdr, screenshot
):
    inbound = Queue.objects.get(name="Inbound MQLs")  # a plain 24-hour first-touch SLA
    join_queue(queue=inbound, sdr=sdr)
    lead, _ = upsert_lead(email="ada@example.com", source=factories.source())
    change_stage(lead=lead, to_stage=Stage.MQL, reason="test")
    assert route_mql(lead_id=lead.pk).sdr == sdr

    log_in(manager)
    page.goto(f"{live_server.url}/manager/sla/")
    expect(page.get_by_role("heading", name="First-touch SLA")).to_be_visible()
    expect(page.locator("#tile-open .sla-number")).to_have_text("1")
    expect(page.locator("#tile-breached .sla-number")).to_have_text("0")
    expect(page.locator("#sla-by-sdr")).to_have_count(0)
    page.wait_for_function(f"() => ({CHART_TOTAL})() !== null")
    assert page.evaluate(CHART_TOTAL) == 0  # drawn, every day at zero

    counts = watch_sla_clocks(now=timezone.now() + timedelta(hours=25))
    assert counts["breached"] == 1

    page.reload()
    expect(page.locator("#tile-breached .sla-number")).to_have_text("1")
    expect(page.locator("#tile-rate .sla-number")).to_have_text("100.0 %")
    sam = page.locator("#sla-by-sdr tbody tr")
    expect(sam).to_have_count(1)
    expect(sam.locator("th, td")).to_have_text(["Sam Reyes", "1", "1", "0", "100.0 %", "n/a"])
    page.wait_for_function(f"() => ({CHART_TOTAL})() === 1")
    assert page.locator("canvas#sla-breaches-chart").bounding_box()["height"] > 100
    screenshot("manager-sla")
