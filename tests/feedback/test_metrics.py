"""The manager's metrics on one worked example, counted from raw rows by the
weekly rollup and read back by the selectors; and the alerts' conditions at
their edges."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from feedback.metrics import (
    Acceptance,
    FunnelStep,
    MetricFilters,
    ReasonSeries,
    RuleLift,
    ScoreBucket,
    WeekVolume,
    acceptance_by,
    acceptance_total,
    dashboard_report,
    funnel,
    median_time_to_first_touch,
    reject_reasons,
    rule_lift,
    score_distribution,
    volume_alert_weeks,
    volume_and_pipeline,
)
from feedback.models import ChangedWeek, Measure, Opportunity, WeeklyCount
from feedback.rollup import SETTLE, last_refreshed, refresh_weekly_counts, week_of
from leads.models import LeadSource, Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Queue, Touch
from scoring.models import Layer, ModelStatus, MQLSnapshot, Rule, ScoringModel
from tests import factories

W1 = date(2025, 3, 3)  # Monday
W2 = date(2025, 3, 10)
PERIOD = MetricFilters(first_week=W1, last_week=W2)


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def stage_change(lead, to_stage: str, when: datetime, from_stage: str = "") -> StageChange:
    change = StageChange.objects.create(
        lead=lead, from_stage=from_stage or lead.stage, to_stage=to_stage
    )
    StageChange.objects.filter(pk=change.pk).update(changed_at=when)
    return change


def handoff(
    *,
    source: str,
    crossed: datetime,
    total: int,
    model: ScoringModel,
    fired: list[Rule],
    queue,
    sdr,
    touched_after: int,
    status: str,
    decided: datetime,
    reason: str = "",
):
    """An MQL crossing with its snapshot, routed a minute later, first touched
    ``touched_after`` minutes after that, and decided at ``decided``."""
    lead = factories.make_lead(source_slug=source)
    stage_change(lead, Stage.MQL, crossed, from_stage=Stage.LEAD)
    snapshot = MQLSnapshot.objects.create(
        lead=lead,
        model=model,
        fit=0,
        engagement=0,
        total=total,
        grade="B",
        explanation=[
            {
                "rule_id": rule.pk,
                "rule": rule.name,
                "layer": rule.layer,
                "count": 1,
                "points": rule.points,
            }
            for rule in fired
        ],
    )
    MQLSnapshot.objects.filter(pk=snapshot.pk).update(created_at=crossed)
    assigned = crossed + timedelta(minutes=1)
    assignment = Assignment.objects.create(
        lead=lead,
        queue=queue,
        sdr=sdr,
        status=status,
        assigned_at=assigned,
        due_at=assigned + timedelta(hours=24),
        first_touch_at=assigned + timedelta(minutes=touched_after),
        closed_at=decided,
    )
    Assignment.objects.filter(pk=assignment.pk).update(created_at=assigned)
    if status == AssignmentStatus.REJECTED:
        touch = Touch.objects.create(
            assignment=assignment, kind=Touch.Kind.REJECT, by=sdr, reason=reason
        )
        Touch.objects.filter(pk=touch.pk).update(at=decided)
    return lead


@pytest.fixture
def inbound(db) -> Queue:
    return Queue.objects.get(name="Inbound MQLs")


@pytest.fixture
def demo_queue(db) -> Queue:
    return Queue.objects.get(name="Demo requests")


@pytest.fixture
def versions(db):
    """v1 (the default model) and v2, each with a demo-request and a title rule."""
    v1 = ScoringModel.objects.get(version=1)
    v2 = ScoringModel.objects.create(name="Stricter", version=2, status=ModelStatus.ARCHIVED)
    rules = {}
    for model in (v1, v2):
        rules[model.version] = {
            "demo": Rule.objects.create(
                model=model,
                layer=Layer.ENGAGEMENT,
                name="Demo request",
                points=30,
                activity_kinds=["demo_request"],
            ),
            "title": Rule.objects.create(
                model=model,
                layer=Layer.DEMOGRAPHIC,
                name="Title is VP",
                points=15,
                field="title",
                operator="contains",
                value="VP",
            ),
        }
    return v1, v2, rules


@pytest.fixture
def example(versions, inbound, demo_queue, sdr, other_sdr):
    """Seven hand-offs over two weeks, and what became of two of them.

    lead  week source        queue  SDR     model score rules        touch  decision
    L1    W1   inbound_form  Inb.   Sam     v1    72    demo, title  10 min accepted
    L2    W1   inbound_form  Inb.   Sam     v1    55    title        20 min rejected (no budget)
    L3    W1   webinar       Demo   Olivia  v1    81    demo         90 min accepted
    L4    W1   webinar       Demo   Olivia  v1    64    title         5 min recycled
    L5    W2   webinar       Inb.   Sam     v2    77    demo, title  30 min accepted
    L6    W2   inbound_form  Inb.   Sam     v2    48    (none)       45 min rejected (not a fit)
    L7    W2   webinar       Demo   Sam     v2    90    demo         60 min accepted

    L1: SQL 11 Mar, opportunity of 10,000 created 12 Mar (still open).
    L3: SQL 12 Mar, opportunity of 5,000 created 13 Mar, won 14 Mar.
    """
    v1, v2, rules = versions
    r1, r2 = rules[1], rules[2]
    A, J, C = AssignmentStatus.ACCEPTED, AssignmentStatus.REJECTED, AssignmentStatus.RECYCLED
    leads = {
        "L1": handoff(
            source="inbound_form",
            crossed=at(3, 9),
            total=72,
            model=v1,
            fired=[r1["demo"], r1["title"]],
            queue=inbound,
            sdr=sdr,
            touched_after=10,
            status=A,
            decided=at(4, 10),
        ),
        "L2": handoff(
            source="inbound_form",
            crossed=at(3, 10),
            total=55,
            model=v1,
            fired=[r1["title"]],
            queue=inbound,
            sdr=sdr,
            touched_after=20,
            status=J,
            decided=at(3, 10, 21),
            reason="no_budget",
        ),
        "L3": handoff(
            source="webinar",
            crossed=at(4, 9),
            total=81,
            model=v1,
            fired=[r1["demo"]],
            queue=demo_queue,
            sdr=other_sdr,
            touched_after=90,
            status=A,
            decided=at(4, 10, 31),
        ),
        "L4": handoff(
            source="webinar",
            crossed=at(5, 9),
            total=64,
            model=v1,
            fired=[r1["title"]],
            queue=demo_queue,
            sdr=other_sdr,
            touched_after=5,
            status=C,
            decided=at(5, 9, 6),
        ),
        "L5": handoff(
            source="webinar",
            crossed=at(10, 9),
            total=77,
            model=v2,
            fired=[r2["demo"], r2["title"]],
            queue=inbound,
            sdr=sdr,
            touched_after=30,
            status=A,
            decided=at(11, 9),
        ),
        "L6": handoff(
            source="inbound_form",
            crossed=at(10, 10),
            total=48,
            model=v2,
            fired=[],
            queue=inbound,
            sdr=sdr,
            touched_after=45,
            status=J,
            decided=at(10, 10, 46),
            reason="not_a_fit",
        ),
        "L7": handoff(
            source="webinar",
            crossed=at(11, 9),
            total=90,
            model=v2,
            fired=[r2["demo"]],
            queue=demo_queue,
            sdr=sdr,
            touched_after=60,
            status=A,
            decided=at(11, 10, 1),
        ),
    }
    l1, l3 = leads["L1"], leads["L3"]
    stage_change(l1, Stage.SQL, at(11, 12), from_stage=Stage.SAL)
    stage_change(l1, Stage.OPPORTUNITY, at(12, 12), from_stage=Stage.SQL)
    Opportunity.objects.create(
        crm_id="OPP-1", lead=l1, amount=Decimal("10000"), created_on=date(2025, 3, 12)
    )
    stage_change(l3, Stage.SQL, at(12, 12), from_stage=Stage.SAL)
    stage_change(l3, Stage.OPPORTUNITY, at(13, 12), from_stage=Stage.SQL)
    stage_change(l3, Stage.WON, at(14, 12), from_stage=Stage.OPPORTUNITY)
    Opportunity.objects.create(
        crm_id="OPP-3",
        lead=l3,
        amount=Decimal("5000"),
        created_on=date(2025, 3, 13),
        status=Opportunity.Status.WON,
        closed_on=date(2025, 3, 14),
    )
    refresh_weekly_counts(full=True)
    return {"v1": v1, "v2": v2, "rules": rules, **leads}


# --- Acceptance -----------------------------------------------------------------------------


def test_acceptance_is_accepted_over_everything_decided_in_the_period(example):
    total = acceptance_total(PERIOD)

    assert (total.accepted, total.rejected, total.recycled) == (4, 2, 1)
    assert round(total.rate, 1) == 57.1  # 4 of 7
    assert total.band == "below"


def test_acceptance_by_week_counts_each_decision_in_the_week_it_was_made(example):
    assert acceptance_by(PERIOD, "week") == [
        Acceptance("3 Mar 2025", accepted=2, rejected=1, recycled=1, key=W1),  # 50.0 %
        Acceptance("10 Mar 2025", accepted=2, rejected=1, recycled=0, key=W2),  # 66.7 %
    ]


def test_acceptance_by_source_with_its_band(example, versions):
    rows = acceptance_by(PERIOD, "source")

    assert [(r.label, r.accepted, r.decided, round(r.rate, 1), r.band) for r in rows] == [
        ("Webinar", 3, 4, 75.0, "healthy"),  # 75 % is inside the band
        ("Inbound form", 1, 3, 33.3, "below"),
    ]


def test_acceptance_by_queue_sdr_and_model_version(example):
    def table(by):
        return [
            (r.label, r.accepted, r.decided, round(r.rate, 1), r.band)
            for r in acceptance_by(PERIOD, by)
        ]

    assert table("queue") == [
        ("Inbound MQLs", 2, 4, 50.0, "below"),
        ("Demo requests", 2, 3, 66.7, "healthy"),
    ]
    assert table("sdr") == [
        ("Sam Reyes", 3, 5, 60.0, "healthy"),  # 60 % is inside too
        ("Olivia Park", 1, 2, 50.0, "below"),
    ]
    assert table("model") == [
        ("v1 Default (textbook) model", 2, 4, 50.0, "below"),
        ("v2 Stricter", 2, 3, 66.7, "healthy"),
    ]


def test_above_the_band_is_flagged_too():
    assert Acceptance("x", accepted=4, rejected=1).band == "above"  # 80 %
    assert Acceptance("x").band is None


def test_filters_narrow_every_number_to_one_source_or_queue(example, demo_queue):
    webinar = factories.source("webinar")

    by_source = acceptance_total(MetricFilters(W1, W2, source=webinar))
    by_queue = acceptance_total(MetricFilters(W1, W2, queue=demo_queue))
    one_week = acceptance_total(MetricFilters(W2, W2))

    assert (by_source.accepted, by_source.decided) == (3, 4)
    assert (by_queue.accepted, by_queue.decided) == (2, 3)
    assert (one_week.accepted, one_week.decided) == (2, 3)


# --- Funnel -----------------------------------------------------------------------------------


def test_the_funnel_counts_each_stage_entered_in_the_period(example):
    result = funnel(PERIOD)

    assert [(s.name, s.count) for s in result.steps] == [
        ("MQL", 7),
        ("SAL", 4),
        ("SQL", 2),
        ("Opportunity", 2),
        ("Won", 1),
    ]
    assert [round(s.conversion, 1) if s.conversion is not None else None for s in result.steps] == [
        None,
        57.1,
        50.0,
        100.0,
        50.0,
    ]
    assert round(result.sal_to_sql, 1) == 50.0  # 2 SQLs of 4 SALs
    assert round(result.sql_to_won, 1) == 50.0  # 1 won of 2 SQLs


def test_later_stages_count_for_the_queue_that_accepted_the_lead(example, demo_queue, inbound):
    demo = funnel(MetricFilters(W1, W2, queue=demo_queue))
    inbound_ = funnel(MetricFilters(W1, W2, queue=inbound))

    # L3 (Demo) reached SQL and won; L1 (Inbound) reached SQL and an opportunity.
    assert [(s.name, s.count) for s in demo.steps] == [
        ("MQL", 3),
        ("SAL", 2),
        ("SQL", 1),
        ("Opportunity", 1),
        ("Won", 1),
    ]
    assert [(s.name, s.count) for s in inbound_.steps] == [
        ("MQL", 4),
        ("SAL", 2),
        ("SQL", 1),
        ("Opportunity", 1),
        ("Won", 0),
    ]


def test_a_step_with_nothing_before_it_has_no_conversion(db):
    assert funnel(PERIOD).steps[1] == FunnelStep("SAL", 0, None)


# --- Time to first touch ------------------------------------------------------------------------


def test_the_median_first_touch_is_the_middle_one(example):
    # 5, 10, 20, 30, 45, 60, 90 minutes: the fourth of seven.
    assert median_time_to_first_touch(PERIOD) == timedelta(minutes=30)


def test_with_an_even_number_of_touches_the_median_is_the_mean_of_the_middle_two(example):
    webinar = MetricFilters(W1, W2, source=factories.source("webinar"))

    # L3 90, L4 5, L5 30, L7 60: (30 + 60) / 2.
    assert median_time_to_first_touch(webinar) == timedelta(minutes=45)


def test_without_touches_there_is_no_median(db):
    assert median_time_to_first_touch(PERIOD) is None


# --- Volume against pipeline ----------------------------------------------------------------


def test_mql_volume_and_pipeline_created_per_week(example):
    assert volume_and_pipeline(PERIOD) == [
        WeekVolume(W1, mqls=4, opportunities=0, pipeline=Decimal("0.00")),
        WeekVolume(W2, mqls=3, opportunities=2, pipeline=Decimal("15000.00")),
    ]


# --- Reject reasons ---------------------------------------------------------------------------


def test_reject_reasons_per_week(example):
    assert reject_reasons(PERIOD) == [
        ReasonSeries("no_budget", "No budget", [1, 0]),
        ReasonSeries("not_a_fit", "Not a fit", [0, 1]),
    ]


# --- Score distribution ---------------------------------------------------------------------


def test_scores_of_accepted_and_rejected_mqls_in_buckets_of_ten(example):
    # Recycled L4 (64) is in neither column; its bucket stays, empty.
    assert score_distribution(PERIOD) == [
        ScoreBucket(40, accepted=0, rejected=1),  # L6 48
        ScoreBucket(50, accepted=0, rejected=1),  # L2 55
        ScoreBucket(60, accepted=0, rejected=0),
        ScoreBucket(70, accepted=2, rejected=0),  # L1 72, L5 77
        ScoreBucket(80, accepted=1, rejected=0),  # L3 81
        ScoreBucket(90, accepted=1, rejected=0),  # L7 90
    ]
    assert ScoreBucket(70, 2, 0).label == "70\N{EN DASH}79"


# --- Rule lift ------------------------------------------------------------------------------------


def test_rule_lift_compares_acceptance_when_the_rule_fired_and_when_it_did_not(example):
    r1, r2 = example["rules"][1], example["rules"][2]

    rows = rule_lift(PERIOD)

    assert rows == [
        # v1 title: fired in L1 (accepted), L2, L4; not in L3 (accepted).
        RuleLift(
            r1["title"].pk,
            "Title is VP",
            1,
            fired=3,
            fired_accepted=1,
            not_fired=1,
            not_fired_accepted=1,
        ),
        # v1 demo: fired in L1, L3 (both accepted); not in L2, L4.
        RuleLift(
            r1["demo"].pk,
            "Demo request",
            1,
            fired=2,
            fired_accepted=2,
            not_fired=2,
            not_fired_accepted=0,
        ),
        # v2 demo: fired in L5, L7 (accepted); not in L6 (rejected).
        RuleLift(
            r2["demo"].pk,
            "Demo request",
            2,
            fired=2,
            fired_accepted=2,
            not_fired=1,
            not_fired_accepted=0,
        ),
        # v2 title: fired in L5 (accepted); not in L6 (rejected) and L7 (accepted).
        RuleLift(
            r2["title"].pk,
            "Title is VP",
            2,
            fired=1,
            fired_accepted=1,
            not_fired=2,
            not_fired_accepted=1,
        ),
    ]
    assert [round(r.lift, 1) for r in rows] == [-66.7, 100.0, 100.0, 50.0]


# --- The rollup stays current ------------------------------------------------------------------


def test_a_second_refresh_with_nothing_new_changes_nothing(example):
    def rows():
        return sorted(
            WeeklyCount.objects.values_list(
                "week", "measure", "key", "source_id", "queue_id", "sdr_id", "model_id", "value"
            )
        )

    before = rows()
    refresh_weekly_counts()
    refresh_weekly_counts(full=True)

    assert rows() == before


def test_a_refresh_recomputes_only_the_weeks_since_the_previous_one(example):
    lead = factories.make_lead()
    StageChange.objects.create(lead=lead, from_stage=Stage.LEAD, to_stage=Stage.MQL)
    previous = last_refreshed()

    result = refresh_weekly_counts()

    this_week = week_of(result.as_of)
    # From the previous run's week (less the margin: the week before, just
    # after a Monday midnight) to this one.
    assert [(r.first, r.last) for r in result.ranges] == [(week_of(previous - SETTLE), this_week)]
    assert volume_and_pipeline(MetricFilters(this_week, this_week))[0].mqls == 1
    assert volume_and_pipeline(PERIOD)[1].mqls == 3  # W2 untouched


def test_an_opportunity_dated_in_a_past_week_marks_that_week_for_the_next_refresh(example):
    from feedback.services import record_opportunity

    lead = example["L5"]  # accepted by Sam
    type(lead).objects.filter(pk=lead.pk).update(stage=Stage.SAL)
    lead.refresh_from_db()

    record_opportunity(
        crm_id="OPP-5",
        lead=lead,
        amount=Decimal("2500"),
        status="open",
        created_on=date(2025, 3, 11),
    )
    assert list(ChangedWeek.objects.values_list("week", flat=True)) == [W2]

    result = refresh_weekly_counts()

    assert [(r.first, r.last) for r in result.ranges][1:] == [(W2, W2)]
    assert volume_and_pipeline(PERIOD)[1].pipeline == Decimal("17500.00")


# --- Alerts -----------------------------------------------------------------------------------

NOW = datetime(2025, 4, 2, 12, tzinfo=UTC)  # a Wednesday; its week starts 31 March


def put(week: date, measure: str, value, **dims) -> None:
    WeeklyCount.objects.create(week=week, measure=measure, value=value, **dims)


def alert_kinds(filters: MetricFilters, now: datetime = NOW) -> list[str]:
    return [alert.kind for alert in dashboard_report(filters, now=now).alerts]


@pytest.fixture
def recent_model(db):
    """The live version, published a month before NOW: not due for review."""
    ScoringModel.objects.filter(status=ModelStatus.PUBLISHED).update(
        published_at=NOW - timedelta(days=30)
    )


MARCH = MetricFilters(date(2025, 3, 3), date(2025, 3, 31))


@pytest.mark.parametrize(
    ("accepted", "decided", "alerted"),
    [
        (4, 10, True),  # 40 %
        (4, 9, False),  # 44 %, but fewer than ten decisions
        (5, 10, False),  # exactly 50 % is not under 50 %
        (49, 100, True),  # 49 %
    ],
)
def test_the_low_acceptance_alert(recent_model, accepted, decided, alerted):
    put(date(2025, 3, 10), Measure.ACCEPTED, accepted)
    put(date(2025, 3, 17), Measure.REJECTED, decided - accepted)

    assert alert_kinds(MARCH) == (["low-acceptance"] if alerted else [])


def test_the_low_acceptance_alert_names_the_rules_with_the_lowest_acceptance(example, recent_model):
    put(W2, Measure.REJECTED, 8)  # 4 of 15 accepted: 26.7 %

    [alert] = dashboard_report(PERIOD, now=NOW).alerts

    assert alert.title == "Acceptance is 26.7 %, under 50 % (4 of 15 MQLs accepted)."
    assert alert.action == (
        "The MQL definition or the scoring is broken: review the rules with the lowest acceptance."
    )
    assert alert.details == [
        "Title is VP (v1): 33.3 % accepted when it fired, 3 hand-offs",
        "Demo request (v1): 100.0 % accepted when it fired, 2 hand-offs",
        "Demo request (v2): 100.0 % accepted when it fired, 2 hand-offs",
    ]


@pytest.mark.parametrize(
    ("accepted", "decided", "alerted"),
    [
        (4, 10, True),  # 40 % of ten
        (4, 9, False),  # 44 %, but fewer than ten decisions
        (5, 10, False),  # exactly half
    ],
)
def test_one_source_falling_under_half_while_the_total_holds(
    recent_model, accepted, decided, alerted
):
    webinar = LeadSource.objects.get(slug="webinar")
    form = LeadSource.objects.get(slug="inbound_form")
    put(date(2025, 3, 10), Measure.ACCEPTED, 40, source=form)
    put(date(2025, 3, 17), Measure.REJECTED, 10, source=form)
    put(date(2025, 3, 17), Measure.ACCEPTED, accepted, source=webinar)
    put(date(2025, 3, 24), Measure.REJECTED, decided - accepted, source=webinar)
    # Before the last four weeks, the webinar's fall does not count.
    put(date(2025, 2, 24), Measure.REJECTED, 30, source=webinar)

    report = dashboard_report(MARCH, now=NOW)

    assert [a.kind for a in report.alerts] == (["source-drift"] if alerted else [])
    if alerted:
        [alert] = report.alerts
        assert alert.title == "Webinar: under 50 % of MQLs accepted in the last 4 weeks."
        assert alert.details == [
            "Webinar: 40.0 % accepted (4 of 10 MQLs), weeks of 3 Mar 2025 to 24 Mar 2025"
        ]
    # Filtered to the source, the period's own acceptance alert speaks instead.
    only_webinar = MetricFilters(MARCH.first_week, MARCH.last_week, source=webinar)
    assert "source-drift" not in alert_kinds(only_webinar)


def test_the_volume_alert_compares_the_last_four_whole_weeks_with_the_four_before():
    assert volume_alert_weeks(MARCH, now=NOW) == (
        date(2025, 2, 3),
        date(2025, 3, 3),
        date(2025, 3, 24),
    )
    # A period ending earlier: its own last week is whole.
    assert volume_alert_weeks(MetricFilters(date(2025, 1, 6), date(2025, 2, 24)), now=NOW)[
        2
    ] == date(2025, 2, 24)


@pytest.mark.parametrize(
    ("mqls_after", "pipeline_after", "alerted"),
    [
        (50, "104999.99", True),  # MQLs +25 %, pipeline +4.99999 %
        (49, "100000", False),  # MQLs +22.5 %: not a rise of 25 %
        (50, "105000", False),  # pipeline +5 %: not flat
        (50, "95000.01", True),  # pipeline -4.99999 %: flat
        (50, "95000", False),  # pipeline -5 %: not flat
    ],
)
def test_the_volume_without_pipeline_alert(recent_model, mqls_after, pipeline_after, alerted):
    before = [date(2025, 2, 3), date(2025, 2, 10), date(2025, 2, 17), date(2025, 2, 24)]
    after = [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17), date(2025, 3, 24)]
    for week in before:
        put(week, Measure.MQL, 10)
        put(week, Measure.PIPELINE, Decimal(25000))
    put(after[0], Measure.MQL, mqls_after)
    put(after[1], Measure.PIPELINE, Decimal(pipeline_after))
    # The current, unfinished week counts in neither.
    put(date(2025, 3, 31), Measure.MQL, 1000)

    assert alert_kinds(MARCH) == (["volume-without-pipeline"] if alerted else [])


def test_no_volume_alert_from_no_mqls_at_all(recent_model):
    put(date(2025, 3, 10), Measure.MQL, 50)

    assert alert_kinds(MARCH) == []


@pytest.mark.parametrize(
    ("age", "alerted"),
    [
        (timedelta(days=90), False),
        (timedelta(days=90, seconds=1), True),
    ],
)
def test_the_model_review_alert_after_ninety_days(db, age, alerted):
    ScoringModel.objects.filter(status=ModelStatus.PUBLISHED).update(published_at=NOW - age)

    assert alert_kinds(MARCH) == (["model-not-reviewed"] if alerted else [])
