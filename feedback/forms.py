"""Forms of the feedback pages: the SDR's SQL qualification, and the filters
of the manager's dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from feedback.metrics import MetricFilters
from feedback.models import SQLQualification
from feedback.rollup import week_of
from leads.models import LeadSource
from routing.models import Queue

DEFAULT_WEEKS = 12
LONGEST_PERIOD_WEEKS = 104


class SQLForm(forms.ModelForm):
    """BANT, as the SDR learned it on the call. The service checks the rest."""

    class Meta:
        model = SQLQualification
        fields = ["budget", "authority", "need", "timeline"]
        widgets = {name: forms.Textarea(attrs={"rows": 2, "maxlength": 300}) for name in fields}


class DashboardFilterForm(forms.Form):
    """A period of whole weeks (any day picks its week), a source and a queue."""

    start = forms.DateField(
        label="From the week of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"Default: {DEFAULT_WEEKS} weeks before the last one.",
    )
    end = forms.DateField(
        label="To the week of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: this week.",
    )
    source = forms.ModelChoiceField(
        queryset=LeadSource.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All sources",
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.order_by("name"), required=False, empty_label="All queues"
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and week_of(end) < week_of(start):
            raise forms.ValidationError("The period must end on or after the week it starts.")
        if start and end and (week_of(end) - week_of(start)).days // 7 + 1 > (LONGEST_PERIOD_WEEKS):
            raise forms.ValidationError(f"Choose a period of at most {LONGEST_PERIOD_WEEKS} weeks.")
        return cleaned

    def filters(self) -> MetricFilters:
        """The validated filters with the defaults filled in: the
        ``DEFAULT_WEEKS`` weeks to this one, or to ``end``; a start without an
        end runs to this week (at most ``LONGEST_PERIOD_WEEKS``)."""
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        last = week_of(end) if end else week_of(self.today)
        if start:
            first = week_of(start)
            if not end and first > last:
                last = first
            first = max(first, last - timedelta(weeks=LONGEST_PERIOD_WEEKS - 1))
        else:
            first = last - timedelta(weeks=DEFAULT_WEEKS - 1)
        return MetricFilters(
            first_week=first, last_week=last, source=data.get("source"), queue=data.get("queue")
        )
