"""The weekly rollup behind the manager's dashboard, and exactly how each number is counted.

The dashboard must answer in milliseconds with a million leads, so it never
aggregates the raw tables: it reads ``WeeklyCount`` rows (a few thousand a
year), which this module recomputes, a whole week at a time, from the raw rows.

A week starts on Monday at midnight in the site's time zone (``TIME_ZONE``).
Each measure is counted in the week of one moment, and split by the lead's
source and, where the measure has them, a queue, an SDR and a model version:

- ``mql``: stage changes to MQL (crossings), in the week of ``changed_at``.
  Queue and SDR of the assignment made for it (the lead's first assignment
  created at or after the crossing, not a reassignment); model of the
  snapshot taken at the crossing.
- ``accepted``, ``rejected``, ``recycled``: assignments closed with that
  status, in the week of ``closed_at``. The assignment's queue and SDR; the
  model of its hand-off snapshot.
- Stage changes a merge made (``by_merge``) count in neither: they repeat a
  crossing the duplicate's own rows, moved to the survivor, already count.
- ``sql``, ``opportunity``, ``won``, ``lost``: stage changes to that stage, in
  the week of ``changed_at``. Queue and SDR of the hand-off: the lead's latest
  accepted assignment closed at or before the change.
- ``opportunities_created``, ``pipeline``: opportunities, how many and the sum
  of their amounts (as recorded, currencies not converted), in the week of
  ``created_on``. Queue and SDR of the lead's latest accepted assignment.
- ``reject_reason`` (key: the reason): rejections (touches of kind reject), in
  the week of the touch. The assignment's queue and SDR.
- ``first_touch`` (key: whole minutes, rounded down, from ``assigned_at`` to
  ``first_touch_at``): assignments first touched, in the week of the first
  touch. The assignment's queue and SDR.
- ``score_accepted``, ``score_rejected`` (key: the bucket's lower bound, 70
  meaning 70 <= total < 80): accepted / rejected assignments by the total of
  their hand-off snapshot, in the week of ``closed_at``. The queue.
- ``rule_fired_decided``, ``rule_fired_accepted`` (key: the rule's id):
  decided (accepted, rejected or recycled) / accepted assignments whose
  hand-off snapshot's explanation has a line of that rule, in the week of
  ``closed_at``. The queue, and the snapshot's model (the rule's version).

The *hand-off snapshot* of an assignment is the lead's latest MQLSnapshot
created at or before the assignment: what sales saw when it was handed over.

Staying current: every moment above is "now" when its row is written, except
an opportunity's ``created_on``, a date the CRM sends. So a refresh
recomputes the weeks from its previous run (minus a margin for transactions
still open then) to now, plus the past weeks that ``record_opportunity``
marked changed. The first refresh (or ``full=True``) computes every week.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    FloatField,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Floor, TruncWeek

from feedback.models import ChangedWeek, Measure, Opportunity, RollupState, WeeklyCount
from handoff.reports.periods import Granularity, PeriodRange
from handoff.reports.rollups import RefreshResult, Rollup
from leads.models import Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Touch
from scoring.models import MQLSnapshot

# A refresh also recomputes what happened this long before the previous one
# started: a row stamped just before that start but committed just after it
# was not seen then. No transaction of the app stays open this long.
SETTLE = timedelta(minutes=10)
SCORE_BUCKET = 10

DECIDED = (AssignmentStatus.ACCEPTED, AssignmentStatus.REJECTED, AssignmentStatus.RECYCLED)
DECISION_MEASURES = {
    AssignmentStatus.ACCEPTED: Measure.ACCEPTED,
    AssignmentStatus.REJECTED: Measure.REJECTED,
    AssignmentStatus.RECYCLED: Measure.RECYCLED,
}
SCORE_MEASURES = {
    AssignmentStatus.ACCEPTED: Measure.SCORE_ACCEPTED,
    AssignmentStatus.REJECTED: Measure.SCORE_REJECTED,
}
LATER_STAGES = {
    Stage.SQL: Measure.SQL,
    Stage.OPPORTUNITY: Measure.OPPORTUNITY,
    Stage.WON: Measure.WON,
    Stage.LOST: Measure.LOST,
}

# (week, measure, key, source_id, queue_id, sdr_id, model_id)
Cell = tuple[date, str, str, int | None, int | None, int | None, int | None]
WEEK = Granularity.WEEK


def week_of(moment: datetime | date) -> date:
    """The Monday of the week a moment (in the site's time zone) or a day falls in."""
    return WEEK.period_of(moment)


# --- Attribution subqueries -------------------------------------------------------------------


def _handoff_snapshot() -> QuerySet[MQLSnapshot]:
    """The hand-off snapshot of the assignment in the outer query."""
    return MQLSnapshot.objects.filter(
        lead_id=OuterRef("lead_id"), created_at__lte=OuterRef("created_at")
    ).order_by("-created_at", "-pk")


def _latest_accepted(*, before: str | None = None) -> QuerySet[Assignment]:
    """The lead's latest accepted assignment (closed at or before ``before``)."""
    queryset = Assignment.objects.filter(
        lead_id=OuterRef("lead_id"), status=AssignmentStatus.ACCEPTED
    )
    if before is not None:
        queryset = queryset.filter(closed_at__lte=OuterRef(before))
    return queryset.order_by("-closed_at", "-pk")


# --- The measures -------------------------------------------------------------------------------


def _decisions(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    """accepted, rejected, recycled; and score_accepted, score_rejected."""
    snapshot = _handoff_snapshot()
    rows = (
        weeks.moments(Assignment.objects.filter(status__in=DECIDED), "closed_at")
        .annotate(
            week=WEEK.trunc("closed_at"),
            model=Subquery(snapshot.values("model_id")[:1]),
            bucket=Cast(
                Floor(Cast(Subquery(snapshot.values("total")[:1]), FloatField()) / SCORE_BUCKET)
                * SCORE_BUCKET,
                IntegerField(),
            ),
        )
        .values("week", "status", "lead__source_id", "queue_id", "sdr_id", "model", "bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        dims = (row["lead__source_id"], row["queue_id"])
        yield (
            (row["week"], DECISION_MEASURES[row["status"]], "", *dims, row["sdr_id"], row["model"]),
            row["n"],
        )
        if row["bucket"] is not None and row["status"] in SCORE_MEASURES:
            yield (
                (row["week"], SCORE_MEASURES[row["status"]], str(row["bucket"]), *dims, None, None),
                row["n"],
            )


def _rule_fires(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    """rule_fired_decided, rule_fired_accepted: read in Python, because which
    rules fired is inside each snapshot's JSON explanation. Bounded by the
    hand-offs decided in the weeks refreshed (a few thousand a week)."""
    snapshot = _handoff_snapshot()
    rows = (
        weeks.moments(Assignment.objects.filter(status__in=DECIDED), "closed_at")
        .annotate(
            week=WEEK.trunc("closed_at"),
            model=Subquery(snapshot.values("model_id")[:1]),
            explanation=Subquery(snapshot.values("explanation")[:1], output_field=JSONField()),
        )
        .filter(model__isnull=False)
        .values_list("week", "lead__source_id", "queue_id", "model", "status", "explanation")
        .order_by()
    )
    counts: Counter[Cell] = Counter()
    for week, source_id, queue_id, model_id, status, explanation in rows.iterator(chunk_size=2000):
        fired = {line.get("rule_id") for line in explanation or []} - {None}
        for rule_id in fired:
            counts[
                (
                    week,
                    Measure.RULE_FIRED_DECIDED,
                    str(rule_id),
                    source_id,
                    queue_id,
                    None,
                    model_id,
                )
            ] += 1
            if status == AssignmentStatus.ACCEPTED:
                counts[
                    (
                        week,
                        Measure.RULE_FIRED_ACCEPTED,
                        str(rule_id),
                        source_id,
                        queue_id,
                        None,
                        model_id,
                    )
                ] += 1
    yield from counts.items()


def _mql_crossings(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    routed = Assignment.objects.filter(
        lead_id=OuterRef("lead_id"),
        created_at__gte=OuterRef("changed_at"),
        reassigned_from__isnull=True,
    ).order_by("created_at", "pk")
    snapshot = MQLSnapshot.objects.filter(
        lead_id=OuterRef("lead_id"), created_at__gte=OuterRef("changed_at")
    ).order_by("created_at", "pk")
    rows = (
        weeks.moments(StageChange.objects.filter(to_stage=Stage.MQL, by_merge=False), "changed_at")
        .annotate(
            week=WEEK.trunc("changed_at"),
            queue=Subquery(routed.values("queue_id")[:1]),
            sdr=Subquery(routed.values("sdr_id")[:1]),
            model=Subquery(snapshot.values("model_id")[:1]),
        )
        .values("week", "lead__source_id", "queue", "sdr", "model")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        yield (
            (
                row["week"],
                Measure.MQL,
                "",
                row["lead__source_id"],
                row["queue"],
                row["sdr"],
                row["model"],
            ),
            row["n"],
        )


def _later_stages(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    handoff = _latest_accepted(before="changed_at")
    rows = (
        weeks.moments(
            StageChange.objects.filter(to_stage__in=list(LATER_STAGES), by_merge=False),
            "changed_at",
        )
        .annotate(
            week=WEEK.trunc("changed_at"),
            queue=Subquery(handoff.values("queue_id")[:1]),
            sdr=Subquery(handoff.values("sdr_id")[:1]),
        )
        .values("week", "to_stage", "lead__source_id", "queue", "sdr")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        yield (
            (
                row["week"],
                LATER_STAGES[row["to_stage"]],
                "",
                row["lead__source_id"],
                row["queue"],
                row["sdr"],
                None,
            ),
            row["n"],
        )


def _opportunities(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    handoff = _latest_accepted()
    rows = (
        weeks.days(Opportunity.objects.all(), "created_on")
        .annotate(
            week=TruncWeek("created_on", output_field=DateField()),
            queue=Subquery(handoff.values("queue_id")[:1]),
            sdr=Subquery(handoff.values("sdr_id")[:1]),
        )
        .values("week", "lead__source_id", "queue", "sdr")
        .annotate(n=Count("pk"), amount=Sum("amount", output_field=DecimalField()))
        .order_by()
    )
    for row in rows:
        dims = (row["lead__source_id"], row["queue"], row["sdr"], None)
        yield (row["week"], Measure.OPPORTUNITIES_CREATED, "", *dims), row["n"]
        yield (row["week"], Measure.PIPELINE, "", *dims), row["amount"]


def _reject_reasons(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    rows = (
        weeks.moments(Touch.objects.filter(kind=Touch.Kind.REJECT), "at")
        .annotate(week=WEEK.trunc("at"))
        .values(
            "week",
            "reason",
            "assignment__lead__source_id",
            "assignment__queue_id",
            "assignment__sdr_id",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        yield (
            (
                row["week"],
                Measure.REJECT_REASON,
                row["reason"],
                row["assignment__lead__source_id"],
                row["assignment__queue_id"],
                row["assignment__sdr_id"],
                None,
            ),
            row["n"],
        )


def _first_touches(weeks: PeriodRange) -> Iterator[tuple[Cell, Decimal]]:
    """Whole minutes, rounded down, counted in Python: the databases have no
    common way to turn an interval into minutes. One narrow row per touch."""
    rows = (
        weeks.moments(
            Assignment.objects.filter(first_touch_at__isnull=False, assigned_at__isnull=False),
            "first_touch_at",
        )
        .annotate(week=WEEK.trunc("first_touch_at"))
        .values_list(
            "week", "lead__source_id", "queue_id", "sdr_id", "assigned_at", "first_touch_at"
        )
        .order_by()
    )
    counts: Counter[Cell] = Counter()
    for week, source_id, queue_id, sdr_id, assigned_at, touched_at in rows.iterator(
        chunk_size=5000
    ):
        minutes = max(0, int((touched_at - assigned_at).total_seconds() // 60))
        counts[(week, Measure.FIRST_TOUCH, str(minutes), source_id, queue_id, sdr_id, None)] += 1
    yield from counts.items()


MEASURES = (
    _mql_crossings,
    _decisions,
    _rule_fires,
    _later_stages,
    _opportunities,
    _reject_reasons,
    _first_touches,
)


def compute(weeks: PeriodRange) -> dict[Cell, Decimal]:
    """Every number of the weeks in the range, from the raw rows."""
    cells: dict[Cell, Decimal] = {}
    for measure in MEASURES:
        for cell, value in measure(weeks):
            cells[cell] = cells.get(cell, Decimal(0)) + Decimal(value)
    return cells


# --- Refreshing -------------------------------------------------------------------------------


class WeeklyRollup(Rollup):
    granularity = WEEK
    tables = (WeeklyCount,)
    period_field = "week"
    state_model = RollupState
    mark_model = ChangedWeek
    settle = SETTLE

    def recount(self, periods: PeriodRange, *, now: datetime) -> Iterator[WeeklyCount]:
        for (week, measure, key, source_id, queue_id, sdr_id, model_id), value in compute(
            periods
        ).items():
            if value:
                yield WeeklyCount(
                    week=week,
                    measure=measure,
                    key=key,
                    source_id=source_id,
                    queue_id=queue_id,
                    sdr_id=sdr_id,
                    model_id=model_id,
                    value=value,
                )


WEEKLY_ROLLUP = WeeklyRollup()


def refresh_weekly_counts(*, now: datetime | None = None, full: bool = False) -> RefreshResult:
    """Recomputes the weeks that may have changed since the previous refresh
    (every week on the first run, or with ``full``) and replaces their rows."""
    return WEEKLY_ROLLUP.refresh(now=now, full=full)


def mark_weeks_changed(*, days: Iterable[date | None]) -> None:
    """Tells the next refresh that the weeks of these days changed after the fact."""
    WEEKLY_ROLLUP.mark_changed(week_of(day) for day in days if day is not None)


def last_refreshed() -> datetime | None:
    """When the numbers the dashboard reads were computed (None: never)."""
    return WEEKLY_ROLLUP.last_refreshed()
