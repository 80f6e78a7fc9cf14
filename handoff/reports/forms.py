"""The base of the report pages' filter forms: a period of whole days or
weeks, checked and filled in with its defaults. A page's form adds its own
dimensions (a queue, an SDR, a source) and builds its filters from
:meth:`PeriodFilterForm.period`."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django import forms

from handoff.reports.periods import Granularity


class PeriodFilterForm(forms.Form):
    granularity: ClassVar[Granularity]
    default_periods: ClassVar[int]
    longest_periods: ClassVar[int]
    # Open-ended: a period without an end runs up to now (and its length is
    # checked up to today); else it ends with the current period.
    open_ended: ClassVar[bool]
    # (label, help text) of each end of the period
    start_text: ClassVar[tuple[str, str]]
    end_text: ClassVar[tuple[str, str]]

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        for name, (label, help_text) in (("start", self.start_text), ("end", self.end_text)):
            self.fields[name].label, self.fields[name].help_text = label, help_text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        periods, unit, longest = self.granularity, self.granularity.value, self.longest_periods
        if start and end and periods.period_of(end) < periods.period_of(start):
            raise forms.ValidationError(f"The period must end on or after the {unit} it starts.")
        # Bounded, so the per-period charts and the scans stay small.
        checked = start and (end or self.open_ended)
        if start and checked and periods.count(start, max(end or self.today, start)) > longest:
            raise forms.ValidationError(f"Choose a period of at most {longest} {unit}s.")
        return cleaned

    def period(self) -> tuple[date, date | None]:
        """The first and last periods, defaults filled in: the
        ``default_periods`` to the end (or to the current period); a start
        without an end runs to the current period, or to now when open-ended
        (last None), at most ``longest_periods``."""
        periods, data = self.granularity, self.cleaned_data
        start, end = data.get("start"), data.get("end")
        last = periods.period_of(end or self.today)
        if start is None:
            first = last - (self.default_periods - 1) * periods.length
        else:
            first = periods.period_of(start)
            if end is None and first > last:
                last = first
            first = max(first, last - (self.longest_periods - 1) * periods.length)
        return first, None if end is None and self.open_ended else last
