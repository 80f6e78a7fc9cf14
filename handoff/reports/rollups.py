"""The refresh loop every rollup shares.

A rollup is a few tables of numbers per period (a day or a week) that a
subclass of :class:`Rollup` recounts, a whole period at a time, from the raw
rows. A refresh recounts the periods from the previous refresh (less
``settle``) to now, and the older periods marked changed since; the first
refresh, a change of ``TIME_ZONE``, a clock gone backwards or ``full=True``
(the nightly rebuild) recount everything.

Guarantees: a period's rows are replaced at once (a reader sees the old
numbers or the new ones); two refreshes never run at once (the state row is
locked); running it again with nothing new changes nothing; a mark made
while a refresh runs is kept for the next one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

from django.db import connection, models, transaction
from django.utils import timezone

from handoff.reports.models import BaseChangedPeriod, BaseRollupState
from handoff.reports.periods import Granularity, PeriodRange, runs

BATCH_SIZE = 2000


@dataclass(frozen=True)
class RefreshResult:
    as_of: datetime
    ranges: list[PeriodRange]
    rows: int


class Rollup:
    """One rollup: its tables, state row and marks, and how to recount a range."""

    granularity: ClassVar[Granularity]
    # The tables the rollup writes; each has a date column ``period_field``.
    tables: ClassVar[tuple[type[models.Model], ...]]
    period_field: ClassVar[str]
    state_model: ClassVar[type[BaseRollupState]]
    mark_model: ClassVar[type[BaseChangedPeriod]]
    # Also recount what happened this long before the previous refresh
    # started, for rows stamped before it and committed after it.
    settle: ClassVar[timedelta] = timedelta(0)

    def recount(self, periods: PeriodRange, *, now: datetime) -> Iterable[models.Model]:
        """The rows of the range, counted from the raw rows as of ``now``."""
        raise NotImplementedError

    def full_range(self, now: datetime) -> PeriodRange:
        """What a full refresh recounts: every period."""
        return PeriodRange(self.granularity)

    # --- Reading -------------------------------------------------------------------------

    def state(self) -> BaseRollupState | None:
        return self.state_model._default_manager.filter(pk=1).first()

    def last_refreshed(self) -> datetime | None:
        """When the numbers were counted (None: never)."""
        return (
            self.state_model._default_manager.filter(pk=1)
            .values_list("refreshed_at", flat=True)
            .first()
        )

    # --- Writing -------------------------------------------------------------------------

    @transaction.atomic
    def refresh(self, *, now: datetime | None = None, full: bool = False) -> RefreshResult:
        """Brings the rollup up to ``now`` (see the module for what it recounts)."""
        now = now or timezone.now()
        zone = timezone.get_default_timezone_name()
        one = self.state_model(pk=1)  # type: ignore[misc]  # pk of the concrete model
        self.state_model._default_manager.bulk_create([one], ignore_conflicts=True)
        state = self.state_model._default_manager.select_for_update().get(pk=1)
        marks = list(
            self.mark_model._default_manager.values_list("pk", self.period_field, "version")
        )
        previous = state.refreshed_at
        if full or previous is None or state.time_zone != zone or previous > now:
            self._clear(PeriodRange(self.granularity))
            ranges = [self.full_range(now)]
        else:
            recent = PeriodRange(
                self.granularity,
                self.granularity.period_of(previous - self.settle),
                self.granularity.period_of(now),
            )
            older = [period for _, period, _ in marks if period < recent.first]
            ranges = [recent, *runs(older, self.granularity)]
            for periods in ranges:
                self._clear(periods)
        written = 0
        for periods in ranges:
            written += self._write(self.recount(periods, now=now))
        # Only the marks as read here: a period marked again meanwhile (by a
        # change that committed after the recount began) has a higher
        # version and stays for the next refresh.
        for pk, _, version in marks:
            self.mark_model._default_manager.filter(pk=pk, version=version).delete()
        state.refreshed_at, state.time_zone = now, zone
        state.save(update_fields=["refreshed_at", "time_zone"])
        return RefreshResult(as_of=now, ranges=ranges, rows=written)

    def rebuild(self, *, now: datetime | None = None) -> RefreshResult:
        """The nightly full recount: it also corrects what changed without a
        mark (rows deleted with their lead, history rewritten by a merge)."""
        return self.refresh(now=now, full=True)

    def mark_changed(self, periods: Iterable[date]) -> None:
        """Tells the next refresh that these periods changed after they were
        counted. An upsert that raises the period's version, so concurrent
        marks of one period never collide; in order, so they never deadlock."""
        table = self.mark_model._meta.db_table
        column = self.mark_model._meta.get_field(self.period_field).column  # type: ignore[union-attr]
        with connection.cursor() as cursor:
            for period in sorted(set(periods)):
                cursor.execute(
                    f"INSERT INTO {table} ({column}, version) VALUES (%s, 1)"
                    f" ON CONFLICT ({column}) DO UPDATE SET version = {table}.version + 1",
                    [period],
                )

    def _clear(self, periods: PeriodRange) -> None:
        for table in self.tables:
            periods.periods(table._default_manager.all(), self.period_field).delete()

    def _write(self, rows: Iterable[models.Model]) -> int:
        by_table: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        for row in rows:
            by_table[type(row)].append(row)
        for table, table_rows in by_table.items():
            table._default_manager.bulk_create(table_rows, batch_size=BATCH_SIZE)
        return sum(len(table_rows) for table_rows in by_table.values())
