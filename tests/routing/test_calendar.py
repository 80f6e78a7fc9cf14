"""Business-hour arithmetic: overnight, weekends, holidays, time zones."""

from datetime import UTC, date, datetime, time

import pytest

from routing.calendar import WorkingTime, add_working_minutes

BERLIN = WorkingTime(
    time_zone="Europe/Berlin",
    weekdays=frozenset({0, 1, 2, 3, 4}),
    day_start=time(9),
    day_end=time(17),
    holidays=frozenset({date(2026, 12, 25)}),
)


def berlin(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (berlin(2026, 11, 24, 10, 0), 120, berlin(2026, 11, 24, 12, 0)),  # inside the day
        (berlin(2026, 11, 24, 16, 0), 120, berlin(2026, 11, 25, 10, 0)),  # overnight
        (berlin(2026, 11, 24, 20, 0), 120, berlin(2026, 11, 25, 11, 0)),  # after hours
        (berlin(2026, 11, 27, 16, 30), 120, berlin(2026, 11, 30, 10, 30)),  # over the weekend
        (berlin(2026, 11, 28, 12, 0), 60, berlin(2026, 11, 30, 10, 0)),  # starts on Saturday
        (berlin(2026, 12, 24, 16, 0), 120, berlin(2026, 12, 28, 10, 0)),  # holiday + weekend
        (berlin(2026, 11, 24, 9, 0), 24 * 60, berlin(2026, 11, 26, 17, 0)),  # 3 working days
    ],
)
def test_due_times_count_only_working_hours(start, minutes, due):
    assert add_working_minutes(start, minutes, BERLIN) == due


def test_the_clock_is_read_in_the_calendars_time_zone():
    # 08:30 UTC is 09:30 in Berlin (winter time): the day has begun there.
    start = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)

    assert add_working_minutes(start, 60, BERLIN) == berlin(2026, 11, 24, 10, 30)


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError, match="must end after it starts"):
        WorkingTime(
            time_zone="UTC",
            weekdays=frozenset({0}),
            day_start=time(17),
            day_end=time(9),
            holidays=frozenset(),
        )
