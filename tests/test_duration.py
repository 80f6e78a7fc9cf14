"""The one way the app writes a length of time (the ``duration`` filter)."""

from datetime import timedelta

import pytest
from django.template import Context, Template

from handoff.templatetags.handoff import duration


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (0.5, "less than a minute"),
        (12.5, "13 min"),
        (45, "45 min"),
        (60, "1 h 00 min"),
        (13 * 60 + 45, "13 h 45 min"),
        (27 * 60, "1 d 3 h"),
    ],
)
def test_durations_read_as_minutes_hours_and_days(minutes, text):
    assert duration(timedelta(minutes=minutes)) == text


def test_the_filter_reads_the_same_on_a_page():
    page = Template("{% load handoff %}{{ took|duration }} {{ nothing|duration }}")

    assert page.render(Context({"took": timedelta(hours=3, minutes=5)})) == "3 h 05 min n/a"
