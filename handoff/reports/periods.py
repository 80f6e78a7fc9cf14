"""Days and weeks in the site's time zone: the periods rollups and report
filters are cut in. A period is named by the date it starts on (a week by
its Monday)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import DateField, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone


class Granularity(enum.Enum):
    DAY = "day"
    WEEK = "week"

    @property
    def length(self) -> timedelta:
        return timedelta(days=1 if self is Granularity.DAY else 7)

    def period_of(self, moment: datetime | date, zone: tzinfo | None = None) -> date:
        """The period a moment (in ``zone``, default the site's) or a day falls in."""
        day = (
            timezone.localtime(moment, zone or timezone.get_default_timezone()).date()
            if isinstance(moment, datetime)
            else moment
        )
        return day if self is Granularity.DAY else day - timedelta(days=day.weekday())

    def start(self, period: date, zone: tzinfo | None = None) -> datetime:
        """Midnight at the start of a period, in ``zone`` (default the site's)."""
        return datetime.combine(period, time.min, tzinfo=zone or timezone.get_default_timezone())

    def count(self, first: date, last: date) -> int:
        """How many periods from ``first`` to ``last``, both included."""
        return (self.period_of(last) - self.period_of(first)) // self.length + 1

    def trunc(self, field: str) -> TruncDate | TruncWeek:
        """The period of a moment column, computed by the database (site's zone)."""
        zone = timezone.get_default_timezone()
        if self is Granularity.DAY:
            return TruncDate(field, tzinfo=zone, output_field=DateField())
        return TruncWeek(field, tzinfo=zone, output_field=DateField())


@dataclass(frozen=True)
class PeriodRange:
    """Whole periods from ``first`` to ``last`` (both included); None: unbounded."""

    granularity: Granularity
    first: date | None = None
    last: date | None = None

    @property
    def since(self) -> datetime | None:
        """The first moment of the range (None: unbounded)."""
        return None if self.first is None else self.granularity.start(self.first)

    @property
    def until(self) -> datetime | None:
        """The first moment after the range (None: unbounded)."""
        if self.last is None:
            return None
        return self.granularity.start(self.last + self.granularity.length)

    def moments(self, queryset: QuerySet, field: str) -> QuerySet:
        """The rows whose moment ``field`` falls in the range."""
        if self.since is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.since})
        if self.until is not None:
            queryset = queryset.filter(**{f"{field}__lt": self.until})
        return queryset

    def days(self, queryset: QuerySet, field: str) -> QuerySet:
        """The rows whose date ``field`` falls in the range."""
        if self.first is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.first})
        if self.last is not None:
            queryset = queryset.filter(**{f"{field}__lt": self.last + self.granularity.length})
        return queryset

    def periods(self, queryset: QuerySet, field: str) -> QuerySet:
        """The rollup rows whose period ``field`` is in the range."""
        if self.first is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.first})
        if self.last is not None:
            queryset = queryset.filter(**{f"{field}__lte": self.last})
        return queryset


def runs(periods: list[date], granularity: Granularity) -> list[PeriodRange]:
    """Periods grouped into ranges of consecutive ones, so each range is one scan."""
    ranges: list[PeriodRange] = []
    for period in sorted(set(periods)):
        last = ranges[-1].last if ranges else None
        if last is not None and last + granularity.length == period:
            ranges[-1] = PeriodRange(granularity, ranges[-1].first, period)
        else:
            ranges.append(PeriodRange(granularity, period, period))
    return ranges
