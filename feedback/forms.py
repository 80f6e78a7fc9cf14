"""Forms of the feedback pages: the SDR's SQL qualification, and the filters
of the manager's dashboard."""

from __future__ import annotations

from django import forms

from feedback.metrics import MetricFilters
from feedback.models import SQLQualification
from handoff.reports.forms import PeriodFilterForm
from handoff.reports.periods import Granularity
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


class DashboardFilterForm(PeriodFilterForm):
    """A period of whole weeks (any day picks its week), a source and a queue."""

    granularity = Granularity.WEEK
    default_periods = DEFAULT_WEEKS
    longest_periods = LONGEST_PERIOD_WEEKS
    open_ended = False
    start_text = ("From the week of", f"Default: {DEFAULT_WEEKS} weeks before the last one.")
    end_text = ("To the week of", "Default: this week.")

    source = forms.ModelChoiceField(
        queryset=LeadSource.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All sources",
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.order_by("name"), required=False, empty_label="All queues"
    )

    def filters(self) -> MetricFilters:
        """The validated filters with the defaults filled in: the
        ``DEFAULT_WEEKS`` weeks to this one, or to ``end``; a start without an
        end runs to this week (at most ``LONGEST_PERIOD_WEEKS``)."""
        first, last = self.period()
        data = self.cleaned_data
        return MetricFilters(
            first_week=first, last_week=last, source=data.get("source"), queue=data.get("queue")
        )
