"""The manager's dashboard at /manager/: who may see it, what it shows from
the rollup, the alerts exactly when their conditions hold, and its locked
query count."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from feedback.forms import DEFAULT_WEEKS
from feedback.models import Measure, WeeklyCount
from feedback.rollup import refresh_weekly_counts, week_of
from leads.models import Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Queue, Touch
from scoring.models import ModelStatus, MQLSnapshot, Rule, ScoringModel
from tests import factories

URL = "/manager/"


def handoff(
    n: int,
    *,
    status: str,
    sdr: User,
    queue: Queue,
    source: str = "inbound_form",
    reason: str = "no_budget",
    total: int = 80,
) -> Assignment:
    """An MQL handed off now, first touched ``n`` minutes after assignment, decided."""
    model = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    rule = Rule.objects.filter(model=model).order_by("pk").first()
    lead = factories.make_lead(source_slug=source)
    StageChange.objects.create(lead=lead, from_stage=Stage.LEAD, to_stage=Stage.MQL)
    MQLSnapshot.objects.create(
        lead=lead,
        model=model,
        fit=0,
        engagement=0,
        total=total,
        grade="B",
        explanation=[{"rule_id": rule.pk, "rule": rule.name}],
    )
    now = timezone.now()
    assignment = Assignment.objects.create(
        lead=lead,
        queue=queue,
        sdr=sdr,
        status=status,
        assigned_at=now - timedelta(minutes=n),
        first_touch_at=now,
        closed_at=now,
    )
    if status == AssignmentStatus.REJECTED:
        Touch.objects.create(assignment=assignment, kind=Touch.Kind.REJECT, by=sdr, reason=reason)
    return assignment


@pytest.fixture
def inbound(db):
    return Queue.objects.get(name="Inbound MQLs")


@pytest.fixture
def demo_queue(db):
    return Queue.objects.get(name="Demo requests")


def this_week():
    return week_of(timezone.now())


def put(measure: str, value, *, week=None, **dims) -> None:
    WeeklyCount.objects.create(week=week or this_week(), measure=measure, value=value, **dims)


def alert_ids(response) -> list[str]:
    return [alert.kind for alert in response.context["report"].alerts]


# --- Who may see it ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/manager/"


@pytest.mark.parametrize("role", ["sdr", "marketing_ops"])
def test_sdrs_and_marketing_ops_get_403(db, request, client_as, role):
    assert client_as(request.getfixturevalue(role)).get(URL).status_code == 403


def test_managers_and_superusers_see_it(client_as, manager, admin_user):
    assert client_as(manager).get(URL).status_code == 200
    assert client_as(admin_user).get(URL).status_code == 200


# --- What it shows -------------------------------------------------------------------------


def test_it_shows_the_period_from_the_rollup_with_charts_and_tables(
    client_as, manager, sdr, inbound
):
    handoff(10, status=AssignmentStatus.ACCEPTED, sdr=sdr, queue=inbound, total=72)
    handoff(30, status=AssignmentStatus.REJECTED, sdr=sdr, queue=inbound, total=55)
    refresh_weekly_counts()

    response = client_as(manager).get(URL)

    report = response.context["report"]
    assert (report.total.accepted, report.total.decided) == (1, 2)
    assert [(s.name, s.count) for s in report.funnel.steps] == [
        ("MQL", 2),
        ("SAL", 1),
        ("SQL", 0),
        ("Opportunity", 0),
        ("Won", 0),
    ]
    assert report.median_first_touch == timedelta(minutes=20)
    html = response.content.decode()
    for canvas in ("funnel-chart", "acceptance-chart", "volume-chart", "reasons-chart"):
        assert f'<canvas id="{canvas}"' in html
    charts = json.loads(
        html.split('<script id="dashboard-charts" type="application/json">')[1].split("</script>")[
            0
        ]
    )
    assert charts["funnel"] == {
        "labels": ["MQL", "SAL", "SQL", "Opportunity", "Won"],
        "counts": [2, 1, 0, 0, 0],
    }
    assert charts["acceptance"]["band"] == [60, 75]
    assert charts["acceptance"]["rates"][-1] == 50.0
    assert len(charts["acceptance"]["labels"]) == DEFAULT_WEEKS
    assert charts["reasons"]["series"] == [
        {"label": "No budget", "data": [0] * (DEFAULT_WEEKS - 1) + [1]}
    ]
    assert re.search(r'<script src="/static/feedback/dashboard\.[0-9a-f]+\.js" defer>', html)
    assert "<script>" not in html  # no inline script: the data is in json_script


def test_it_links_to_the_sla_page(client_as, manager):
    assert b'href="/manager/sla/"' in client_as(manager).get(URL).content


def test_it_says_when_the_figures_were_computed(client_as, manager):
    before = client_as(manager).get(URL)
    refresh_weekly_counts()
    after = client_as(manager).get(URL)

    assert b"figures not computed yet" in before.content
    assert before.context["report"].as_of is None
    assert after.context["report"].as_of is not None


def test_source_and_queue_filters_narrow_the_numbers(client_as, manager, sdr, inbound, demo_queue):
    handoff(5, status=AssignmentStatus.ACCEPTED, sdr=sdr, queue=inbound, source="webinar")
    handoff(5, status=AssignmentStatus.REJECTED, sdr=sdr, queue=demo_queue)
    refresh_weekly_counts()
    client = client_as(manager)

    webinar = client.get(URL, {"source": "webinar"}).context["report"].total
    demo = client.get(URL, {"queue": demo_queue.pk}).context["report"].total

    assert (webinar.accepted, webinar.decided) == (1, 1)
    assert (demo.accepted, demo.decided) == (0, 1)


def test_the_period_is_whole_weeks(client_as, manager):
    response = client_as(manager).get(URL, {"start": "2025-03-05", "end": "2025-03-20"})

    filters = response.context["filters"]
    assert (filters.first_week.isoformat(), filters.last_week.isoformat()) == (
        "2025-03-03",
        "2025-03-17",
    )


def test_a_period_ending_before_it_starts_is_refused(client_as, manager):
    response = client_as(manager).get(URL, {"start": "2025-03-20", "end": "2025-03-01"})

    assert response.status_code == 400
    assert b"The period must end on or after the week it starts." in response.content


def test_a_period_longer_than_two_years_is_refused(client_as, manager):
    response = client_as(manager).get(URL, {"start": "2023-01-02", "end": "2025-03-01"})

    assert response.status_code == 400
    assert b"Choose a period of at most 104 weeks." in response.content


# --- Alerts, exactly when their condition holds -----------------------------------------------


def test_no_alert_when_all_is_well(client_as, manager):
    put(Measure.ACCEPTED, 13)
    put(Measure.REJECTED, 7)  # 65 %

    response = client_as(manager).get(URL)

    assert alert_ids(response) == []
    assert b'role="alert"' not in response.content


def test_acceptance_under_half_tells_to_review_the_rules(client_as, manager):
    put(Measure.ACCEPTED, 4)
    put(Measure.REJECTED, 6)  # 40 % of 10

    response = client_as(manager).get(URL)

    assert alert_ids(response) == ["low-acceptance"]
    assert (
        b"The MQL definition or the scoring is broken: review the rules with the lowest acceptance."
    ) in response.content


def test_half_accepted_is_not_under_half(client_as, manager):
    put(Measure.ACCEPTED, 5)
    put(Measure.REJECTED, 5)

    assert alert_ids(client_as(manager).get(URL)) == []


def test_mql_volume_rising_while_pipeline_is_flat(client_as, manager):
    last_whole = this_week() - timedelta(weeks=1)
    for i in range(4):
        put(Measure.MQL, 10, week=last_whole - timedelta(weeks=4 + i))
        put(Measure.PIPELINE, Decimal(1000), week=last_whole - timedelta(weeks=4 + i))
        put(Measure.MQL, 13, week=last_whole - timedelta(weeks=i))  # 52 against 40: +30 %
        put(Measure.PIPELINE, Decimal(1010), week=last_whole - timedelta(weeks=i))  # +1 %

    response = client_as(manager).get(URL)

    assert alert_ids(response) == ["volume-without-pipeline"]
    assert b"More MQLs are not making more pipeline" in response.content


def test_pipeline_growing_with_the_volume_raises_no_alert(client_as, manager):
    last_whole = this_week() - timedelta(weeks=1)
    for i in range(4):
        put(Measure.MQL, 10, week=last_whole - timedelta(weeks=4 + i))
        put(Measure.PIPELINE, Decimal(1000), week=last_whole - timedelta(weeks=4 + i))
        put(Measure.MQL, 13, week=last_whole - timedelta(weeks=i))
        put(Measure.PIPELINE, Decimal(1300), week=last_whole - timedelta(weeks=i))

    assert alert_ids(client_as(manager).get(URL)) == []


def test_a_live_model_not_reviewed_for_ninety_days(client_as, manager):
    ScoringModel.objects.filter(status=ModelStatus.PUBLISHED).update(
        published_at=timezone.now() - timedelta(days=91)
    )

    response = client_as(manager).get(URL)

    assert alert_ids(response) == ["model-not-reviewed"]
    assert b"Review it with marketing" in response.content


# --- Speed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 12])
def test_the_page_runs_the_same_queries_for_one_or_many_hand_offs(
    client_as, manager, inbound, demo_queue, sdr, other_sdr, django_assert_num_queries, count
):
    statuses = [AssignmentStatus.REJECTED, AssignmentStatus.ACCEPTED, AssignmentStatus.RECYCLED]
    reasons = ["no_budget", "not_a_fit", "bad_timing"]
    for n in range(count):
        handoff(
            n,
            status=statuses[n % 3],
            sdr=[sdr, other_sdr][n % 2],
            queue=[inbound, demo_queue][n % 2],
            source=["inbound_form", "webinar"][n % 2],
            reason=reasons[n % 3],
            total=40 + 5 * n,
        )
    refresh_weekly_counts()
    client = client_as(manager)

    # Session, user, roles; when the rollup ran; the total and the rule lift
    # (fired, decided per version, rule names) for the low-acceptance alert;
    # acceptance by source in the last four weeks for the source alert;
    # the weeks of the volume alert; the live version; funnel; acceptance by
    # week, source, queue, SDR, version; first touches; volume; reject
    # reasons; scores; the source and queue choices of the filters.
    with django_assert_num_queries(24):  # 23 + the unread notices in the navigation
        response = client.get(URL)

    assert response.status_code == 200
    assert response.context["report"].total.decided == count
