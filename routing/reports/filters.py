"""What the manager's SLA page and its CSV export are filtered by.

The page aggregates rather than lists, so the filters are a plain form whose
cleaned values become one :class:`SLAFilters`; the selectors take that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from handoff import roles
from handoff.reports.forms import PeriodFilterForm
from handoff.reports.periods import Granularity
from routing.models import Queue

DEFAULT_DAYS = 30
LONGEST_PERIOD_DAYS = 366


@dataclass(frozen=True)
class SLAFilters:
    """A period of whole days in the current time zone, and optionally one
    queue and one SDR. ``end`` None means open-ended: up to now, and any
    deadline after it that already has an outcome."""

    start: date
    end: date | None = None
    queue: Queue | None = None
    sdr: User | None = None

    @property
    def since(self) -> datetime:
        """The first moment of the period (midnight at the start, local time)."""
        return Granularity.DAY.start(self.start, timezone.get_current_timezone())

    @property
    def until(self) -> datetime | None:
        """The first moment after the period (midnight after the end), or None."""
        if self.end is None:
            return None
        return Granularity.DAY.start(self.end + timedelta(days=1), timezone.get_current_timezone())


class SDRChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class SLAFilterForm(PeriodFilterForm):
    granularity = Granularity.DAY
    default_periods = DEFAULT_DAYS
    longest_periods = LONGEST_PERIOD_DAYS
    open_ended = True
    start_text = ("From", f"Default: {DEFAULT_DAYS} days ago.")
    end_text = ("To", "Default: open-ended, up to now.")

    queue = forms.ModelChoiceField(
        queryset=Queue.objects.order_by("name"), required=False, empty_label="All queues"
    )
    sdr = SDRChoiceField(
        label="SDR",
        required=False,
        empty_label="All SDRs",
        queryset=get_user_model()
        .objects.filter(groups__name=roles.SDR)
        .order_by("first_name", "last_name", "username"),
    )

    def filters(self) -> SLAFilters:
        """The validated filters with the defaults filled in: the last
        ``DEFAULT_DAYS`` days (today included), or as many days up to ``end``."""
        start, end = self.period()
        data = self.cleaned_data
        return SLAFilters(start=start, end=end, queue=data.get("queue"), sdr=data.get("sdr"))
