"""Business-hours arithmetic for SLA clocks.

A calendar has a time zone, working weekdays, working hours and holidays. An
SLA of N business minutes started at any moment runs only inside working
hours: a lead arriving on Friday evening is due on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingTime:
    time_zone: str
    weekdays: frozenset[int]  # Monday = 0
    day_start: time
    day_end: time
    holidays: frozenset[date]

    def __post_init__(self) -> None:
        if self.day_start >= self.day_end:
            raise ValueError("The working day must end after it starts.")
        if not self.weekdays:
            raise ValueError("A calendar needs at least one working day.")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.time_zone)
        return (
            datetime.combine(day, self.day_start, zone),
            datetime.combine(day, self.day_end, zone),
        )


def add_working_minutes(start: datetime, minutes: float, calendar: WorkingTime) -> datetime:
    """The moment ``minutes`` of working time after ``start`` (aware datetimes)."""
    remaining = timedelta(minutes=minutes)
    zone = ZoneInfo(calendar.time_zone)
    cursor = start.astimezone(zone)
    day = cursor.date()
    # A year of days is far more than any SLA needs; the bound stops a
    # misconfigured calendar (every day a holiday) from looping forever.
    for _ in range(366 * 2):
        if calendar.is_working_day(day):
            opens, closes = calendar._window(day)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0), zone)
    raise ValueError("The calendar has no working time in the next two years.")
