"""Template filters every app's pages share: ``{% load handoff %}``."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration(value: timedelta | str | None) -> str:
    """“45 min”, “3 h 05 min”, “2 d 4 h”, to the nearest minute (“less than
    a minute” short of one); “n/a” for no value. The one way the app writes a
    length of time, on pages and in text built in Python alike."""
    # A template hands over "" for a missing value.
    if not isinstance(value, timedelta):
        return "n/a"
    seconds = max(0.0, value.total_seconds())
    if 0 < seconds < 60:
        return "less than a minute"  # not "0 min" or "1 min": neither is true
    minutes = int(seconds / 60 + 0.5)  # halves up: 12.5 min reads "13 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
