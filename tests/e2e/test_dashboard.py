"""A sales manager opens the dashboard: Chart.js draws the funnel, the weekly
acceptance against its target band, MQL volume against pipeline and the
reject reasons from the real data, and an alert says what to do."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback.models import Opportunity
from feedback.rollup import refresh_weekly_counts
from leads.models import Lead, Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Queue, Touch
from scoring.models import ModelStatus, MQLSnapshot, Rule, ScoringModel
from tests import factories

pytestmark = pytest.mark.e2e

CANVASES = ["funnel-chart", "acceptance-chart", "volume-chart", "reasons-chart"]

# For each canvas, the number of datasets Chart.js drew, or null before it drew it.
DRAWN = """(ids) => {
  if (typeof Chart === "undefined") return null;
  return ids.map((id) => {
    const chart = Chart.getChart(document.getElementById(id));
    return chart ? chart.data.datasets.length : null;
  });
}"""
FUNNEL = """() => Chart.getChart(document.getElementById("funnel-chart")).data.datasets[0].data"""

# Eight weeks of hand-offs, oldest first: (accepted, rejected, recycled).
# Acceptance falls from 70 % to 20 %: 28 of 64 over the period, under 50 %.
WEEKS = [(7, 3, 0), (6, 3, 1), (5, 3, 0), (4, 4, 0), (2, 5, 1), (2, 6, 0), (1, 6, 1), (1, 3, 0)]
REASONS = ["not_a_fit", "no_budget", "bad_timing", "wrong_contact", "not_a_fit"]


def make_history(sdrs, queues):
    now = timezone.now()
    model = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    rules = list(Rule.objects.filter(model=model).order_by("pk")[:3])
    n = 0
    for age, (accepted, rejected, recycled) in enumerate(reversed(WEEKS)):
        when = now - timedelta(weeks=age, hours=1)
        statuses = (
            [AssignmentStatus.ACCEPTED] * accepted
            + [AssignmentStatus.REJECTED] * rejected
            + [AssignmentStatus.RECYCLED] * recycled
        )
        for status in statuses:
            n += 1
            lead = factories.make_lead(source_slug=["inbound_form", "webinar", "content"][n % 3])
            change = StageChange.objects.create(
                lead=lead, from_stage=Stage.LEAD, to_stage=Stage.MQL
            )
            snapshot = MQLSnapshot.objects.create(
                lead=lead,
                model=model,
                fit=20,
                engagement=40,
                total=50 + (n * 7) % 50,
                grade="B",
                explanation=[{"rule_id": r.pk, "rule": r.name} for r in rules[: 1 + n % 3]],
            )
            sdr, queue = sdrs[n % 2], queues[n % 2]
            assignment = Assignment.objects.create(
                lead=lead,
                queue=queue,
                sdr=sdr,
                status=status,
                assigned_at=when,
                first_touch_at=when + timedelta(minutes=5 + n % 40),
                closed_at=when,
            )
            StageChange.objects.filter(pk=change.pk).update(changed_at=when)
            MQLSnapshot.objects.filter(pk=snapshot.pk).update(created_at=when)
            Assignment.objects.filter(pk=assignment.pk).update(created_at=when)
            if status == AssignmentStatus.REJECTED:
                touch = Touch.objects.create(
                    assignment=assignment,
                    kind=Touch.Kind.REJECT,
                    by=sdr,
                    reason=REASONS[n % len(REASONS)],
                )
                Touch.objects.filter(pk=touch.pk).update(at=when)
            elif status == AssignmentStatus.ACCEPTED and n % 2:
                Lead.objects.filter(pk=lead.pk).update(stage=Stage.OPPORTUNITY)
                Opportunity.objects.create(
                    crm_id=f"006-{n}",
                    lead=lead,
                    amount=Decimal(8000 + 1000 * (n % 5)),
                    created_on=date.fromordinal(when.toordinal()),
                )


def test_a_manager_sees_the_charts_and_an_alert(
    page, live_server, log_in, manager, sdr, other_sdr, screenshot
):
    queues = [Queue.objects.get(name="Inbound MQLs"), Queue.objects.get(name="Demo requests")]
    make_history([sdr, other_sdr], queues)
    refresh_weekly_counts()

    log_in(manager)
    page.goto(f"{live_server.url}/manager/")

    expect(page.get_by_role("heading", name="Conversion and feedback")).to_be_visible()
    expect(page.locator("#tile-acceptance .dash-number")).to_have_text("43.8 %")  # 28 of 64
    alert = page.locator("#alert-low-acceptance")
    expect(alert).to_contain_text("Acceptance is 43.8 %, under 50 % (28 of 64 MQLs accepted).")
    expect(alert).to_contain_text(
        "The MQL definition or the scoring is broken: review the rules with the lowest acceptance."
    )
    page.wait_for_function(
        f"() => ({DRAWN})({CANVASES}) !== null && ({DRAWN})({CANVASES}).every((n) => n !== null)"
    )
    # Funnel 1; acceptance 3 (the band's two edges and the rate); volume 2 (MQLs,
    # pipeline); reasons: one per reason given.
    assert page.evaluate(DRAWN, CANVASES) == [1, 3, 2, 4]
    assert page.evaluate(FUNNEL) == [64, 28, 0, 0, 0]
    for canvas in CANVASES:
        assert page.locator(f"canvas#{canvas}").bounding_box()["height"] > 100
    expect(page.get_by_role("link", name="First-touch SLA and breaches →")).to_be_visible()
    screenshot("dashboard")
