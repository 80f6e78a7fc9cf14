"""The daily rollup behind the manager's SLA page.

With a hundred thousand open MQLs the page cannot count every assignment on
each request, so it reads ``SLADay`` and ``SLAFirstTouch`` rows (per day,
queue and SDR, and per minute of first touch) for every deadline before
``SLARollupState.covered_until``, and counts only the deadlines from that
moment on (a minute's worth that passed, and the few future ones already
touched) from the assignments themselves.

The SLA watcher calls :func:`refresh_sla_rollup` at the end of every pass
(each minute): it recounts today's deadlines up to that moment, the days
that ended since the last refresh, and the days marked changed. A passed
deadline changes afterwards only by a late first touch or a breach marked
late; both mark its day (``SLAChangedDay``) in their own transaction, so such
a change shows on the page at the next pass, within a minute. Everything else
is exact at once.

The first refresh (or ``full=True``, or a change of ``TIME_ZONE``) counts
every day. Deleting assignments (with their lead) changes past days without
a mark: the nightly full rebuild (``routing.rebuild_sla_rollup``) puts that
right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, DateField, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from routing.models import (
    BREACHED,
    TOUCHED,
    TOUCHED_LATE,
    Assignment,
    AssignmentStatus,
    SLAChangedDay,
    SLADay,
    SLAFirstTouch,
    SLARollupState,
)


def _tz():
    return timezone.get_default_timezone()


def midnight(day: date) -> datetime:
    """The first moment of a day in the site's time zone."""
    return datetime.combine(day, time.min, tzinfo=_tz())


def first_touch_minutes(assigned_at: datetime, touched_at: datetime) -> int:
    """Whole minutes from assignment to first touch, half a minute rounded up
    (as the page's SQL does it), never negative."""
    return max(0, int(((touched_at - assigned_at).total_seconds() + 30) // 60))


@dataclass(frozen=True)
class Days:
    """Days ``first`` to ``last`` (both included; None: unbounded), counting
    the deadlines before ``before`` only."""

    first: date | None
    last: date | None
    before: datetime

    def deadlines(self) -> QuerySet[Assignment]:
        # "status IN (every status)" lets PostgreSQL read the deadline range
        # from the (status, due_at) index (see manager_selectors.due_in_period).
        queryset = Assignment.objects.filter(
            status__in=AssignmentStatus.values, due_at__lt=self.before
        )
        if self.first is not None:
            queryset = queryset.filter(due_at__gte=midnight(self.first))
        if self.last is not None:
            queryset = queryset.filter(due_at__lt=midnight(self.last + timedelta(days=1)))
        return queryset

    def rows(self, queryset: QuerySet) -> QuerySet:
        if self.first is not None:
            queryset = queryset.filter(day__gte=self.first)
        if self.last is not None:
            queryset = queryset.filter(day__lte=self.last)
        return queryset


def compute(days: Days) -> tuple[list[SLADay], list[SLAFirstTouch]]:
    """The rollup rows of the days, from the assignments. Every deadline
    counted has passed, so each one is due (see manager_selectors for the
    definitions)."""
    day = TruncDate("due_at", tzinfo=_tz(), output_field=DateField())
    counted = (
        days.deadlines()
        .annotate(day=day)
        .values("day", "queue_id", "sdr_id")
        .annotate(
            due=Count("pk"),
            breached=Count("pk", filter=BREACHED),
            touched_late=Count("pk", filter=TOUCHED_LATE),
            touched=Count("pk", filter=TOUCHED),
        )
        .order_by()
    )
    totals = [
        SLADay(
            day=row["day"],
            queue_id=row["queue_id"],
            sdr_id=row["sdr_id"],
            due=row["due"],
            breached=row["breached"],
            touched_late=row["touched_late"],
            touched=row["touched"],
        )
        for row in counted
    ]
    # Minutes counted in Python: the databases share no way to turn an
    # interval into minutes. One narrow row per touched deadline of the days.
    minutes: Counter[tuple[date, int, int | None, int]] = Counter()
    touched = (
        days.deadlines()
        .filter(TOUCHED)
        .annotate(day=day)
        .values_list("day", "queue_id", "sdr_id", "assigned_at", "first_touch_at")
        .order_by()
    )
    for row_day, queue_id, sdr_id, assigned_at, touched_at in touched.iterator(chunk_size=5000):
        minutes[(row_day, queue_id, sdr_id, first_touch_minutes(assigned_at, touched_at))] += 1
    histogram = [
        SLAFirstTouch(day=d, queue_id=q, sdr_id=s, minutes=m, touches=n)
        for (d, q, s, m), n in minutes.items()
    ]
    return totals, histogram


def _replace(days: Days) -> None:
    days.rows(SLADay.objects.all()).delete()
    days.rows(SLAFirstTouch.objects.all()).delete()
    totals, histogram = compute(days)
    SLADay.objects.bulk_create(totals, batch_size=2000)
    SLAFirstTouch.objects.bulk_create(histogram, batch_size=2000)


def _runs(days: Iterable[date], before: datetime) -> list[Days]:
    """Consecutive days grouped into ranges, so each range is one scan."""
    runs: list[Days] = []
    for day in sorted(set(days)):
        if runs and runs[-1].last == day - timedelta(days=1):
            runs[-1] = Days(runs[-1].first, day, before)
        else:
            runs.append(Days(day, day, before))
    return runs


@dataclass(frozen=True)
class RefreshResult:
    covered_until: datetime
    recomputed: list[Days]


@transaction.atomic
def refresh_sla_rollup(*, now: datetime | None = None, full: bool = False) -> RefreshResult:
    """Brings the rollup up to ``now``: today's deadlines so far, the days
    that ended since the last refresh and the days marked changed, recounted
    from the assignments (every day on the first run, with ``full``, or when
    the time zone changed).

    Guarantees: a day's rows are replaced at once (a reader sees the old
    numbers or the new ones); two refreshes never run at once (the state
    row is locked); running it again with nothing new changes nothing.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, _tz())
    zone = timezone.get_default_timezone_name()
    SLARollupState.objects.bulk_create([SLARollupState(pk=1)], ignore_conflicts=True)
    state = SLARollupState.objects.select_for_update().get(pk=1)
    marks = list(SLAChangedDay.objects.values_list("pk", "day", "version"))
    if full or state.covered_until is None or state.time_zone != zone or state.covered_until > now:
        SLADay.objects.all().delete()
        SLAFirstTouch.objects.all().delete()
        ranges = [Days(None, today, now)]
    else:
        since = timezone.localdate(state.covered_until, _tz())
        ranges = _runs([day for _, day, _ in marks if day < since], now)
        ranges.append(Days(since, today, now))
    for days in ranges:
        _replace(days)
    # Only the marks as read here: a day marked again meanwhile (by a touch
    # that committed after the recount began) has a higher version and stays
    # for the next refresh.
    for pk, _, version in marks:
        SLAChangedDay.objects.filter(pk=pk, version=version).delete()
    state.covered_until, state.time_zone, state.refreshed_at = now, zone, now
    state.save(update_fields=["covered_until", "time_zone", "refreshed_at"])
    return RefreshResult(covered_until=now, recomputed=ranges)


def mark_day_changed(due_at: datetime | None, *, now: datetime | None = None) -> None:
    """Tells the next refresh that a deadline that has passed (the only kind
    the rollup holds) changed: its day is recounted. An upsert that raises
    the day's version, so marks of one day at once never collide."""
    now = now or timezone.now()
    if due_at is None or due_at > now:
        return
    day = timezone.localtime(due_at, _tz()).date()
    table = SLAChangedDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, version) VALUES (%s, 1)"
            f" ON CONFLICT (day) DO UPDATE SET version = {table}.version + 1",
            [day],
        )


def rollup_state() -> SLARollupState | None:
    return SLARollupState.objects.filter(pk=1).first()
