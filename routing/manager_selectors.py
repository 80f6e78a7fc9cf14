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
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from routing.manager_filters import SLAFilters
from routing.models import OPEN_STATUSES, Assignment, AssignmentStatus, Queue

BREACHED = Q(breached_at__isnull=False) | Q(first_touch_at__gt=F("due_at"))
TOUCHED_LATE = Q(first_touch_at__gt=F("due_at"))
TOUCHED = Q(first_touch_at__isnull=False, assigned_at__isnull=False)
TIME_TO_FIRST_TOUCH = F("first_touch_at") - F("assigned_at")

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


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the middle value, or the mean of
    the two middle ones. Works on numbers and on intervals."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"


def _median_in_sql(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def human_duration(value: timedelta | None) -> str:
    """“45 min”, “3 h 05 min”, “2 d 4 h”; "n/a" for no value."""
    if value is None:
        return "n/a"
    minutes = max(0, round(value.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


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
        return 100 * self.breached / self.due if self.due else None

    @property
    def median_first_touch_text(self) -> str:
        return human_duration(self.median_first_touch)


@dataclass(frozen=True)
class AgeBucket:
    label: str
    open: int
    waiting: int


@dataclass(frozen=True)
class SLAReport:
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
    def chart_data(self) -> dict[str, list[Any]]:
        """What ``sla_chart.js`` draws, through ``json_script``."""
        return {"labels": [day.isoformat() for day, _ in self.breaches_per_day],
                "breaches": [n for _, n in self.breaches_per_day]}


def any_assignments() -> bool:
    return Assignment.objects.exists()


def _in_scope(filters: SLAFilters) -> QuerySet[Assignment]:
    queryset = Assignment.objects.all()
    if filters.queue is not None:
        queryset = queryset.filter(queue=filters.queue)
    if filters.sdr is not None:
        queryset = queryset.filter(sdr=filters.sdr)
    return queryset


def due_in_period(filters: SLAFilters, *, now: datetime) -> QuerySet[Assignment]:
    """Assignments due in the period whose outcome is known (see the module)."""
    # "status IN (every status)" changes no result, but it lets PostgreSQL
    # read the deadline range from the (status, due_at) and (sdr, status,
    # due_at) indexes instead of scanning every assignment ever made.
    queryset = _in_scope(filters).filter(status__in=AssignmentStatus.values,
                                         due_at__gte=filters.since)
    if filters.until is not None:
        queryset = queryset.filter(due_at__lt=filters.until)
    return queryset.filter(Q(due_at__lte=now) | Q(first_touch_at__isnull=False)
                           | Q(breached_at__isnull=False))


def _stats_aggregates(using: str) -> dict[str, Aggregate]:
    aggregates = {
        "due": Count("pk"),
        "breached": Count("pk", filter=BREACHED),
        "touched_late": Count("pk", filter=TOUCHED_LATE),
        "touched": Count("pk", filter=TOUCHED),
    }
    if _median_in_sql(using):
        aggregates["median_first_touch"] = Median(TIME_TO_FIRST_TOUCH,
                                                  output_field=DurationField(), filter=TOUCHED)
    return aggregates


def _median_in_python(queryset: QuerySet[Assignment]) -> timedelta | None:
    """The median over a bounded set, for databases without percentile_cont."""
    durations = list(queryset.filter(TOUCHED).annotate(
        took=TIME_TO_FIRST_TOUCH).values_list("took", flat=True)[:MEDIAN_IN_PYTHON_LIMIT + 1])
    if not durations or len(durations) > MEDIAN_IN_PYTHON_LIMIT:
        return None
    return statistics.median(durations)


def sla_summary(filters: SLAFilters, *, now: datetime) -> BreachStats:
    queryset = due_in_period(filters, now=now)
    row = queryset.aggregate(**_stats_aggregates(queryset.db))
    if not _median_in_sql(queryset.db):
        row["median_first_touch"] = _median_in_python(queryset)
    return BreachStats(name="All", **row)


def _grouped(queryset: QuerySet[Assignment], key: str) -> list[dict[str, Any]]:
    return list(queryset.values(key).annotate(**_stats_aggregates(queryset.db)).order_by(key))


def _stats(row: dict[str, Any], name: str) -> BreachStats:
    return BreachStats(name=name, due=row["due"], breached=row["breached"],
                       touched_late=row["touched_late"], touched=row["touched"],
                       median_first_touch=row.get("median_first_touch"))


def _worst_first(rows: list[BreachStats]) -> list[BreachStats]:
    return sorted(rows, key=lambda row: (-row.breached, -row.due, row.name))


# The tables group by the bare id and look the few names up afterwards: the
# median sorts every row of the period by its group, and a narrow integer key
# sorts about twice as fast as joined names (measured at 150,000 deadlines).

def breaches_by_sdr(filters: SLAFilters, *, now: datetime) -> list[BreachStats]:
    """One row per SDR with an assignment due in the period, most breaches first.
    Outside PostgreSQL the rows carry no median."""
    rows = _grouped(due_in_period(filters, now=now).filter(sdr__isnull=False), "sdr")
    users = get_user_model().objects.filter(pk__in=[row["sdr"] for row in rows])
    names = {user.pk: user.get_full_name() or user.username
             for user in users.only("username", "first_name", "last_name")}
    return _worst_first([_stats(row, names[row["sdr"]]) for row in rows])


def breaches_by_queue(filters: SLAFilters, *, now: datetime) -> list[BreachStats]:
    """One row per queue with an assignment due in the period, most breaches first."""
    rows = _grouped(due_in_period(filters, now=now), "queue")
    names = dict(Queue.objects.filter(pk__in=[row["queue"] for row in rows])
                 .values_list("pk", "name"))
    return _worst_first([_stats(row, names[row["queue"]]) for row in rows])


def breaches_per_day(filters: SLAFilters, *, now: datetime) -> list[tuple[date, int]]:
    """Every day of the period with its number of breaches, zeros included.
    An open-ended period runs to today, or to its last breach if later."""
    counted = dict(
        due_in_period(filters, now=now).filter(BREACHED)
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day").annotate(n=Count("pk")).order_by("day").values_list("day", "n"))
    last = filters.end or max([timezone.localdate(now), *counted])
    days = (last - filters.start).days + 1
    return [(day, counted.get(day, 0))
            for day in (filters.start + timedelta(days=i) for i in range(days))]


def open_by_age(filters: SLAFilters, *, now: datetime) -> list[AgeBucket]:
    """Open and waiting MQLs now, by how long ago they were routed. The period
    does not apply; the queue and SDR do (a waiting MQL has no SDR)."""
    aggregates = {}
    for i, (_, oldest, youngest) in enumerate(AGE_BUCKETS):
        age = Q()
        if oldest is not None:
            age &= Q(created_at__lte=now - oldest)
        if youngest is not None:
            age &= Q(created_at__gt=now - youngest)
        aggregates[f"open_{i}"] = Count("pk", filter=age & Q(status=AssignmentStatus.OPEN))
        aggregates[f"waiting_{i}"] = Count("pk", filter=age & Q(status=AssignmentStatus.WAITING))
    row = _in_scope(filters).filter(status__in=OPEN_STATUSES).aggregate(**aggregates)
    return [AgeBucket(label, row[f"open_{i}"], row[f"waiting_{i}"])
            for i, (label, _, _) in enumerate(AGE_BUCKETS)]


def waiting_reasons(filters: SLAFilters) -> list[tuple[str, int]]:
    """Why MQLs wait for an SDR, most common first (the first few reasons)."""
    return list(
        _in_scope(filters).filter(status=AssignmentStatus.WAITING)
        .values("waiting_reason").annotate(n=Count("pk")).order_by("-n", "waiting_reason")
        .values_list("waiting_reason", "n")[:WAITING_REASONS_SHOWN])


def sla_report(filters: SLAFilters, *, now: datetime) -> SLAReport:
    """Everything the SLA page shows, in eight queries."""
    return SLAReport(
        summary=sla_summary(filters, now=now),
        by_sdr=breaches_by_sdr(filters, now=now),
        by_queue=breaches_by_queue(filters, now=now),
        breaches_per_day=breaches_per_day(filters, now=now),
        open_by_age=open_by_age(filters, now=now),
        waiting_reasons=waiting_reasons(filters),
    )


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


BREACH_FIELDS = ("lead_id", "lead__email", "lead__first_name", "lead__last_name", "queue__name",
                 "sdr__username", "sdr__first_name", "sdr__last_name", "assigned_at", "due_at",
                 "first_touch_at", "breached_at", "closed_at")


def breach_lines(filters: SLAFilters, *, now: datetime) -> Iterator[BreachLine]:
    """Every breach of the period, by deadline, read in chunks so that a
    long export streams without holding every row in memory. Minutes
    overdue run from the deadline to the first touch, to the close (a
    reassignment), or to now while it is still untouched."""
    rows = (due_in_period(filters, now=now).filter(BREACHED).order_by("due_at", "pk")
            .values_list(*BREACH_FIELDS).iterator(chunk_size=2000))
    for (lead_id, email, first, last, queue, sdr_username, sdr_first, sdr_last, assigned_at,
         due_at, first_touch_at, breached_at, closed_at) in rows:
        overdue_until = first_touch_at or closed_at or now
        yield BreachLine(
            lead_id=lead_id, lead_email=email or "", lead_name=f"{first} {last}".strip(),
            queue=queue,
            sdr=f"{sdr_first or ''} {sdr_last or ''}".strip() or sdr_username or "",
            assigned_at=assigned_at, due_at=due_at, first_touch_at=first_touch_at,
            breached_at=breached_at,
            minutes_overdue=max(0, int((overdue_until - due_at).total_seconds() // 60)),
        )
