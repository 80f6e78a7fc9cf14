"""What the manager's SLA page and its CSV export are filtered by.

The page aggregates rather than lists, so the filters are a plain form whose
cleaned values become one :class:`SLAFilters`; the selectors take that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from handoff import roles
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
    sdr: AbstractBaseUser | None = None

    @property
    def since(self) -> datetime:
        """The first moment of the period (midnight at the start, local time)."""
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def until(self) -> datetime | None:
        """The first moment after the period (midnight after the end), or None."""
        if self.end is None:
            return None
        return datetime.combine(
            self.end + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )


class SDRChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AbstractBaseUser) -> str:
        return obj.get_full_name() or obj.username


class SLAFilterForm(forms.Form):
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"Default: {DEFAULT_DAYS} days ago.",
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: open-ended, up to now.",
    )
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

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError("The period must end on or after the day it starts.")
        # Bounded, so the per-day chart and the scan of deadlines stay small.
        if start and (max(end or self.today, start) - start).days + 1 > LONGEST_PERIOD_DAYS:
            raise forms.ValidationError(f"Choose a period of at most {LONGEST_PERIOD_DAYS} days.")
        return cleaned

    def filters(self) -> SLAFilters:
        """The validated filters with the defaults filled in: the last
        ``DEFAULT_DAYS`` days (today included), or as many days up to ``end``."""
        data = self.cleaned_data
        end = data.get("end")
        start = data.get("start") or (end or self.today) - timedelta(days=DEFAULT_DAYS - 1)
        return SLAFilters(start=start, end=end, queue=data.get("queue"), sdr=data.get("sdr"))
