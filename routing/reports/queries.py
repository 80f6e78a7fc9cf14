"""Reads for the manager's SLA page: breaches, open MQLs by age, time to first touch.

Words, as the page uses them:

- An assignment is *due in the period* when its first-touch deadline
  (``due_at``) falls in the period and its outcome is known: it was touched,
  the watcher marked it breached, or the deadline has passed. A deadline
  still ahead and untouched has no outcome yet and counts nowhere.
- A *breach* is an assignment the watcher marked (``breached_at``) or one
  first touched after its deadline. A breach belongs to the day of its
  deadline, in the current time zone.
- The *breach rate* is breaches over assignments due in the period.
- *Time to first touch* runs from ``assigned_at`` to ``first_touch_at``;
  its median is over the assignments due in the period that were touched.
- The *age* of an open or waiting MQL runs from the assignment's
  ``created_at``, the moment it was routed to its queue: time spent waiting
  for a free SDR counts.

Every count and the median are computed by the database, grouped in SQL;
Python only fills days without breaches into the chart's series and
looks up the names of the rows' SDRs and queues. Each function runs a fixed
number of queries whatever the number of rows.

The words are queryset methods of ``Assignment`` (``due_between``,
``with_outcome``, ``breached``, ``touched``, ``sla_counts``), so that the
rollup counts with the same ones.

The page (``sla_report``) reads the days that have ended from the daily
rollup (``routing.services.sla_rollup``) when it holds them, on PostgreSQL,
and counts only today's and later deadlines from the assignments: the same
numbers, with the median first touch exact to the minute. The functions
called on their own count from the assignments.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from handoff.reports.report import Report, percent
from handoff.templatetags.handoff import duration
from routing.models import (
    TIME_TO_FIRST_TOUCH,
    TOUCHED,
    Assignment,
    AssignmentQuerySet,
    AssignmentStatus,
    Queue,
    sla_count_aggregates,
)
from routing.reports.filters import SLAFilters
from routing.services.sla_rollup import SLA_ROLLUP

# Outside PostgreSQL the median is taken in Python over at most this many
# touched assignments; beyond it the page says "n/a" rather than read more.
MEDIAN_IN_PYTHON_LIMIT = 10_000

AGE_BUCKETS: tuple[tuple[str, timedelta | None, timedelta | None], ...] = (
    # (label, at least this old, younger than this)
    ("< 1 h", None, timedelta(hours=1)),
    ("1\N{EN DASH}4 h", timedelta(hours=1), timedelta(hours=4)),
    ("4\N{EN DASH}24 h", timedelta(hours=4), timedelta(hours=24)),
    ("1\N{EN DASH}3 d", timedelta(days=1), timedelta(days=3)),
    ("> 3 d", timedelta(days=3), None),
)
WAITING_REASONS_SHOWN = 10
# Deadlines are never set further ahead than this (an SLA of weeks at most);
# it only bounds the index range the page reads.
LONGEST_FUTURE_DAYS = 366


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the middle value, or the mean of
    the two middle ones. Works on numbers and on intervals."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"


def _median_in_sql(using: str) -> bool:
    return connections[using].vendor == "postgresql"


@dataclass(frozen=True)
class BreachStats:
    """The SLA outcome of a set of assignments due in the period."""

    name: str
    due: int
    breached: int
    touched_late: int
    touched: int
    median_first_touch: timedelta | None

    @property
    def breach_rate(self) -> float | None:
        """Per cent of the assignments due that breached; None when none was due."""
        return percent(self.breached, self.due)

    @property
    def median_first_touch_text(self) -> str:
        return duration(self.median_first_touch)


@dataclass(frozen=True)
class AgeBucket:
    label: str
    open: int
    waiting: int


@dataclass(frozen=True)
class SLAReport(Report):
    summary: BreachStats
    by_sdr: list[BreachStats]
    by_queue: list[BreachStats]
    breaches_per_day: list[tuple[date, int]]
    open_by_age: list[AgeBucket]
    waiting_reasons: list[tuple[str, int]]

    @property
    def open_now(self) -> int:
        return sum(b.open + b.waiting for b in self.open_by_age)

    @property
    def waiting_now(self) -> int:
        return sum(b.waiting for b in self.open_by_age)

    @property
    def charts(self) -> dict[str, list[Any]]:
        """What ``sla_chart.js`` draws, through ``json_script``."""
        return {
            "labels": [day.isoformat() for day, _ in self.breaches_per_day],
            "breaches": [n for _, n in self.breaches_per_day],
        }


def any_assignments() -> bool:
    return Assignment.objects.exists()


def _in_scope(filters: SLAFilters) -> AssignmentQuerySet:
    queryset = Assignment.objects.all()
    if filters.queue is not None:
        queryset = queryset.filter(queue=filters.queue)
    if filters.sdr is not None:
        queryset = queryset.filter(sdr=filters.sdr)
    return queryset


def due_in_period(filters: SLAFilters, *, now: datetime) -> AssignmentQuerySet:
    """Assignments due in the period whose outcome is known (see the module)."""
    return _in_scope(filters).due_between(filters.since, filters.until).with_outcome(now=now)


def _stats_aggregates(using: str) -> dict[str, Aggregate]:
    aggregates = sla_count_aggregates()
    if _median_in_sql(using):
        aggregates["median_first_touch"] = Median(
            TIME_TO_FIRST_TOUCH, output_field=DurationField(), filter=TOUCHED
        )
    return aggregates


def _median_in_python(queryset: QuerySet[Assignment]) -> timedelta | None:
    """The median over a bounded set, for databases without percentile_cont."""
    durations = list(
        queryset.touched()
        .annotate(took=TIME_TO_FIRST_TOUCH)
        .values_list("took", flat=True)[: MEDIAN_IN_PYTHON_LIMIT + 1]
    )
    if not durations or len(durations) > MEDIAN_IN_PYTHON_LIMIT:
        return None
    return statistics.median(durations)


def sla_summary(filters: SLAFilters, *, now: datetime) -> BreachStats:
    queryset = due_in_period(filters, now=now)
    row = queryset.aggregate(**_stats_aggregates(queryset.db))
    if not _median_in_sql(queryset.db):
        row["median_first_touch"] = _median_in_python(queryset)
    return BreachStats(name="All", **row)


def _medians_in_python(queryset: QuerySet[Assignment], key: str) -> dict[Any, timedelta]:
    """Each group's median, for databases without percentile_cont: one query
    over a bounded set, as for the summary (none beyond the limit)."""
    rows = list(
        queryset.touched()
        .annotate(took=TIME_TO_FIRST_TOUCH)
        .values_list(key, "took")
        .order_by()[: MEDIAN_IN_PYTHON_LIMIT + 1]
    )
    if len(rows) > MEDIAN_IN_PYTHON_LIMIT:
        return {}
    durations: dict[Any, list[timedelta]] = defaultdict(list)
    for group, took in rows:
        durations[group].append(took)
    return {group: statistics.median(values) for group, values in durations.items()}


def _grouped(queryset: QuerySet[Assignment], key: str) -> list[dict[str, Any]]:
    rows = list(queryset.values(key).annotate(**_stats_aggregates(queryset.db)).order_by(key))
    if not _median_in_sql(queryset.db):
        medians = _medians_in_python(queryset, key)
        for row in rows:
            row["median_first_touch"] = medians.get(row[key])
    return rows


def _stats(row: dict[str, Any], name: str) -> BreachStats:
    return BreachStats(
        name=name,
        due=row["due"],
        breached=row["breached"],
        touched_late=row["touched_late"],
        touched=row["touched"],
        median_first_touch=row.get("median_first_touch"),
    )


def _worst_first(rows: list[BreachStats]) -> list[BreachStats]:
    return sorted(rows, key=lambda row: (-row.breached, -row.due, row.name))


# The tables group by the bare id and look the few names up afterwards: the
# median sorts every row of the period by its group, and a narrow integer key
# sorts about twice as fast as joined names (measured at 150,000 deadlines).


def breaches_by_sdr(filters: SLAFilters, *, now: datetime) -> list[BreachStats]:
    """One row per SDR with an assignment due in the period, most breaches first.
    Outside PostgreSQL each median is taken in Python (see _medians_in_python)."""
    rows = _grouped(due_in_period(filters, now=now).filter(sdr__isnull=False), "sdr")
    users = get_user_model().objects.filter(pk__in=[row["sdr"] for row in rows])
    names = {
        user.pk: user.get_full_name() or user.username
        for user in users.only("username", "first_name", "last_name")
    }
    return _worst_first([_stats(row, names[row["sdr"]]) for row in rows])


def breaches_by_queue(filters: SLAFilters, *, now: datetime) -> list[BreachStats]:
    """One row per queue with an assignment due in the period, most breaches first."""
    rows = _grouped(due_in_period(filters, now=now), "queue")
    names = dict(
        Queue.objects.filter(pk__in=[row["queue"] for row in rows]).values_list("pk", "name")
    )
    return _worst_first([_stats(row, names[row["queue"]]) for row in rows])


def breaches_per_day(filters: SLAFilters, *, now: datetime) -> list[tuple[date, int]]:
    """Every day of the period with its number of breaches, zeros included.
    An open-ended period runs to today, or to its last breach if later."""
    counted = dict(
        due_in_period(filters, now=now)
        .breached()
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
        .values_list("day", "n")
    )
    return _fill_days(filters, now, counted)


def _fill_days(
    filters: SLAFilters,
    now: datetime,
    counted: dict[date, int],
) -> list[tuple[date, int]]:
    last = filters.end or max([timezone.localdate(now), *counted])
    days = (last - filters.start).days + 1
    return [
        (day, counted.get(day, 0))
        for day in (filters.start + timedelta(days=i) for i in range(days))
    ]


def open_by_age(filters: SLAFilters, *, now: datetime) -> list[AgeBucket]:
    """Open and waiting MQLs now, by how long ago they were routed. The period
    does not apply; the queue and SDR do (a waiting MQL has no SDR). One
    count per status and bucket, read from the small partial index of open
    assignments (assignment_open_by_age) without touching the table."""
    bucket = Case(
        *[
            When(created_at__gt=now - youngest, then=Value(i))
            for i, (_, _, youngest) in enumerate(AGE_BUCKETS)
            if youngest is not None
        ],
        default=Value(len(AGE_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    counted = {
        (row["status"], row["bucket"]): row["n"]
        for row in _in_scope(filters)
        .open()
        .annotate(bucket=bucket)
        .values("status", "bucket")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return [
        AgeBucket(
            label,
            counted.get((AssignmentStatus.OPEN, i), 0),
            counted.get((AssignmentStatus.WAITING, i), 0),
        )
        for i, (label, _, _) in enumerate(AGE_BUCKETS)
    ]


def waiting_reasons(filters: SLAFilters) -> list[tuple[str, int]]:
    """Why MQLs wait for an SDR, most common first (the first few reasons)."""
    return list(
        _in_scope(filters)
        .filter(status=AssignmentStatus.WAITING)
        .values("waiting_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "waiting_reason")
        .values_list("waiting_reason", "n")[:WAITING_REASONS_SHOWN]
    )


def sla_report(filters: SLAFilters, *, now: datetime) -> SLAReport:
    """Everything the SLA page shows: from the rollup and today's deadlines
    when the rollup holds the period's past days (six queries), else from the
    assignments alone (nine)."""
    split = rollup_split(now=now)
    if split is None:
        return SLAReport(
            summary=sla_summary(filters, now=now),
            by_sdr=breaches_by_sdr(filters, now=now),
            by_queue=breaches_by_queue(filters, now=now),
            breaches_per_day=breaches_per_day(filters, now=now),
            open_by_age=open_by_age(filters, now=now),
            waiting_reasons=waiting_reasons(filters),
        )
    rolled = rolled_up(filters, now=now, split=split)
    users = get_user_model().objects.filter(pk__in=list(rolled.by_sdr))
    sdr_names = {
        user.pk: user.get_full_name() or user.username
        for user in users.only("username", "first_name", "last_name")
    }
    queue_names = dict(Queue.objects.filter(pk__in=list(rolled.by_queue)).values_list("pk", "name"))
    return SLAReport(
        summary=_stats(rolled.summary, "All"),
        by_sdr=_worst_first([_stats(row, sdr_names[pk]) for pk, row in rolled.by_sdr.items()]),
        by_queue=_worst_first(
            [_stats(row, queue_names[pk]) for pk, row in rolled.by_queue.items()]
        ),
        breaches_per_day=_fill_days(filters, now, rolled.breaches_per_day),
        open_by_age=open_by_age(filters, now=now),
        waiting_reasons=waiting_reasons(filters),
    )


# --- Reading the rollup ----------------------------------------------------------------------


def rollup_split(*, now: datetime) -> datetime | None:
    """The moment from which deadlines are counted from the assignments, the
    rollup holding every one before it; None when the page must count from
    the assignments alone (no rollup yet, another time zone, a ``now`` before
    the rollup's last refresh, or not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    state = SLA_ROLLUP.state()
    if (
        state is None
        or state.refreshed_at is None
        or state.refreshed_at > now
        or state.time_zone != timezone.get_current_timezone_name()
    ):
        return None
    return state.refreshed_at


@dataclass(frozen=True)
class RolledUp:
    summary: dict[str, Any]
    by_sdr: dict[int, dict[str, Any]]
    by_queue: dict[int, dict[str, Any]]
    breaches_per_day: dict[date, int]


def _scope(filters: SLAFilters) -> tuple[str, list[Any]]:
    sql, params = "", []
    if filters.queue is not None:
        sql, params = sql + " AND queue_id = %s", [*params, filters.queue.pk]
    if filters.sdr is not None:
        sql, params = sql + " AND sdr_id = %s", [*params, filters.sdr.pk]
    return sql, params


# The rollup's deadlines before the split, and those from the split on whose
# outcome is known (see due_in_period), in one query: each grouping set
# is one of the page's tables. GROUPING() says which (a bit per column not
# grouped by): 7 all, 3 a queue, 5 an SDR, 6 a day; for the minutes, half of
# that (3, 1, 2). The median is read off the counts per whole minute: the
# values at positions (n-1)//2 and n//2 of the sorted minutes.
ROLLED_UP_SQL = """
WITH live AS (
    -- Deadlines passed since the split: all of them. Later ones: only those
    -- with an outcome already (partial index assignment_due_with_outcome).
    SELECT queue_id, sdr_id, (due_at AT TIME ZONE %s)::date AS day, due_at, breached_at,
           first_touch_at, assigned_at
    FROM routing_assignment
    WHERE status = ANY(%s) AND due_at >= %s AND due_at < %s AND due_at <= %s{scope}
    UNION ALL
    SELECT queue_id, sdr_id, (due_at AT TIME ZONE %s)::date AS day, due_at, breached_at,
           first_touch_at, assigned_at
    FROM routing_assignment
    WHERE (first_touch_at IS NOT NULL OR breached_at IS NOT NULL)
      AND due_at >= %s AND due_at < %s AND due_at > %s{scope}
), deadlines AS (
    SELECT queue_id, sdr_id, day, due, breached, touched_late, touched
    FROM routing_sladay WHERE day >= %s AND day < %s{scope}
    UNION ALL
    SELECT queue_id, sdr_id, day, 1,
           CASE WHEN breached_at IS NOT NULL OR first_touch_at > due_at THEN 1 ELSE 0 END,
           CASE WHEN first_touch_at > due_at THEN 1 ELSE 0 END,
           CASE WHEN first_touch_at IS NOT NULL AND assigned_at IS NOT NULL THEN 1 ELSE 0 END
    FROM live
), totals AS (
    SELECT GROUPING(queue_id, sdr_id, day) AS g, queue_id, sdr_id, day, sum(due) AS due,
           sum(breached) AS breached, sum(touched_late) AS touched_late,
           sum(touched) AS touched
    FROM deadlines GROUP BY GROUPING SETS ((), (queue_id), (sdr_id), (day))
), touches AS (
    SELECT queue_id, sdr_id, minutes, touches AS n
    FROM routing_slafirsttouch WHERE day >= %s AND day < %s{scope}
    UNION ALL
    SELECT queue_id, sdr_id,
           greatest(0, floor((extract(epoch FROM first_touch_at - assigned_at) + 30) / 60))::int,
           1
    FROM live WHERE first_touch_at IS NOT NULL AND assigned_at IS NOT NULL
), minutes AS (
    SELECT GROUPING(queue_id, sdr_id) AS g, queue_id, sdr_id, minutes, sum(n) AS n
    FROM touches GROUP BY GROUPING SETS ((minutes), (queue_id, minutes), (sdr_id, minutes))
), running AS (
    SELECT g, queue_id, sdr_id, minutes,
           sum(n) OVER (PARTITION BY g, queue_id, sdr_id ORDER BY minutes) AS upto,
           sum(n) OVER (PARTITION BY g, queue_id, sdr_id) AS total
    FROM minutes
), medians AS (
    SELECT g, queue_id, sdr_id, min(minutes) FILTER (WHERE upto > (total - 1) / 2) AS low,
           min(minutes) FILTER (WHERE upto > total / 2) AS high
    FROM running GROUP BY g, queue_id, sdr_id
)
SELECT t.g, t.queue_id, t.sdr_id, t.day, t.due, t.breached, t.touched_late, t.touched,
       m.low, m.high
FROM totals t LEFT JOIN medians m
  ON t.g <> 6 AND m.g = t.g / 2 AND m.queue_id IS NOT DISTINCT FROM t.queue_id
     AND m.sdr_id IS NOT DISTINCT FROM t.sdr_id
"""
ALL, BY_QUEUE, BY_SDR, BY_DAY = 7, 3, 5, 6


def rolled_up(filters: SLAFilters, *, now: datetime, split: datetime) -> RolledUp:
    """Summary, SDR and queue tables and breaches per day of the period, from
    the rollup for the deadlines before ``split`` and from the assignments
    after."""
    scope, scope_params = _scope(filters)
    split_day = timezone.localdate(split)
    rolled_until = split_day + timedelta(days=1)
    if filters.end is not None:
        rolled_until = min(rolled_until, filters.end + timedelta(days=1))
    live_from = max(filters.since, split)
    live_until = filters.until or now + timedelta(days=LONGEST_FUTURE_DAYS)
    zone = timezone.get_current_timezone_name()
    rolled_params = [filters.start, rolled_until, *scope_params]
    params = [
        zone,
        list(AssignmentStatus.values),
        live_from,
        live_until,
        now,
        *scope_params,
        zone,
        live_from,
        live_until,
        now,
        *scope_params,
        *rolled_params,
        *rolled_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(ROLLED_UP_SQL.format(scope=scope), params)
        rows = cursor.fetchall()
    summary = {"due": 0, "breached": 0, "touched_late": 0, "touched": 0, "median_first_touch": None}
    by_sdr, by_queue, per_day = {}, {}, {}
    for g, queue_id, sdr_id, day, due, breached, late, touched, low, high in rows:
        # The empty grouping set sums nothing to NULL when no deadline falls
        # in the period (e.g. only touches of assignments due later).
        row = {
            "due": int(due or 0),
            "breached": int(breached or 0),
            "touched_late": int(late or 0),
            "touched": int(touched or 0),
            "median_first_touch": None if low is None else timedelta(minutes=(low + high) / 2),
        }
        if g == ALL:
            summary = row
        elif g == BY_QUEUE:
            by_queue[queue_id] = row
        elif g == BY_SDR and sdr_id is not None:
            by_sdr[sdr_id] = row
        elif g == BY_DAY and row["breached"]:
            per_day[day] = row["breached"]
    return RolledUp(summary, by_sdr, by_queue, per_day)


@dataclass(frozen=True)
class BreachLine:
    """One breached assignment, as the CSV export writes it."""

    lead_id: int
    lead_email: str
    lead_name: str
    queue: str
    sdr: str
    assigned_at: datetime | None
    due_at: datetime
    first_touch_at: datetime | None
    breached_at: datetime | None
    minutes_overdue: int


BREACH_FIELDS = (
    "lead_id",
    "lead__email",
    "lead__first_name",
    "lead__last_name",
    "queue__name",
    "sdr__username",
    "sdr__first_name",
    "sdr__last_name",
    "assigned_at",
    "due_at",
    "first_touch_at",
    "breached_at",
    "closed_at",
)


def breach_lines(filters: SLAFilters, *, now: datetime) -> Iterator[BreachLine]:
    """Every breach of the period, by deadline, read in chunks so that a
    long export streams without holding every row in memory. Minutes
    overdue run from the deadline to the first touch, to the close (a
    reassignment), or to now while it is still untouched."""
    rows = (
        due_in_period(filters, now=now)
        .breached()
        .order_by("due_at", "pk")
        .values_list(*BREACH_FIELDS)
        .iterator(chunk_size=2000)
    )
    for (
        lead_id,
        email,
        first,
        last,
        queue,
        sdr_username,
        sdr_first,
        sdr_last,
        assigned_at,
        due_at,
        first_touch_at,
        breached_at,
        closed_at,
    ) in rows:
        overdue_until = first_touch_at or closed_at or now
        yield BreachLine(
            lead_id=lead_id,
            lead_email=email or "",
            lead_name=f"{first} {last}".strip(),
            queue=queue,
            sdr=f"{sdr_first or ''} {sdr_last or ''}".strip() or sdr_username or "",
            assigned_at=assigned_at,
            due_at=due_at,
            first_touch_at=first_touch_at,
            breached_at=breached_at,
            minutes_overdue=max(0, int((overdue_until - due_at).total_seconds() // 60)),
        )
