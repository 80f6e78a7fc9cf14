"""The daily rollup behind the manager's SLA page.

With a hundred thousand open MQLs the page cannot count every assignment on
each request, so it reads ``SLADay`` and ``SLAFirstTouch`` rows (per day,
queue and SDR, and per minute of first touch) for every deadline before the
rollup's last refresh, and counts only the deadlines from that moment on (a
minute's worth that passed, and the few future ones already touched) from
the assignments themselves.

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
right. The refresh loop itself is the kernel's (``handoff.reports.rollups``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime

from django.db import models
from django.utils import timezone

from handoff.reports.periods import Granularity, PeriodRange
from handoff.reports.rollups import RefreshResult, Rollup
from routing.models import Assignment, SLAChangedDay, SLADay, SLAFirstTouch, SLARollupState


def first_touch_minutes(assigned_at: datetime, touched_at: datetime) -> int:
    """Whole minutes from assignment to first touch, half a minute rounded up
    (as the page's SQL does it), never negative."""
    return max(0, int(((touched_at - assigned_at).total_seconds() + 30) // 60))


class SLARollup(Rollup):
    granularity = Granularity.DAY
    tables = (SLADay, SLAFirstTouch)
    period_field = "day"
    state_model = SLARollupState
    mark_model = SLAChangedDay

    def full_range(self, now: datetime) -> PeriodRange:
        # Only passed deadlines are counted: nothing after today.
        return PeriodRange(self.granularity, None, self.granularity.period_of(now))

    def recount(self, periods: PeriodRange, *, now: datetime) -> Iterator[models.Model]:
        """The rollup rows of the days, from their deadlines before ``now``.
        Every deadline counted has passed, so each one is due (see
        ``routing.reports.queries`` for the words)."""
        until = now if periods.until is None else min(periods.until, now)
        deadlines = Assignment.objects.due_between(periods.since, until)
        day = self.granularity.trunc("due_at")
        # values() keeps the queryset's class; the type stubs forget it.
        grouped = deadlines.annotate(day=day).values("day", "queue_id", "sdr_id")
        counted = grouped.sla_counts()  # type: ignore[attr-defined]
        for row in counted.order_by():
            yield SLADay(**row)
        # Minutes counted in Python: the databases share no way to turn an
        # interval into minutes. One narrow row per touched deadline of the days.
        minutes: Counter[tuple[date, int, int | None, int]] = Counter()
        touched = (
            deadlines.touched()
            .annotate(day=day)
            .values_list("day", "queue_id", "sdr_id", "assigned_at", "first_touch_at")
            .order_by()
        )
        for row_day, queue_id, sdr_id, assigned_at, touched_at in touched.iterator(chunk_size=5000):
            minutes[(row_day, queue_id, sdr_id, first_touch_minutes(assigned_at, touched_at))] += 1
        for (d, q, s, m), n in minutes.items():
            yield SLAFirstTouch(day=d, queue_id=q, sdr_id=s, minutes=m, touches=n)


SLA_ROLLUP = SLARollup()


def refresh_sla_rollup(*, now: datetime | None = None, full: bool = False) -> RefreshResult:
    """Brings the rollup up to ``now``: today's deadlines so far, the days
    that ended since the last refresh and the days marked changed (every day
    on the first run, with ``full``, or when the time zone changed)."""
    return SLA_ROLLUP.refresh(now=now, full=full)


def mark_day_changed(due_at: datetime | None, *, now: datetime | None = None) -> None:
    """Tells the next refresh that a deadline that has passed (the only kind
    the rollup holds) changed: its day is recounted."""
    now = now or timezone.now()
    if due_at is None or due_at > now:
        return
    SLA_ROLLUP.mark_changed([SLA_ROLLUP.granularity.period_of(due_at)])
