"""One FilterSet per listable model, shared by the API and the pages."""

import django_filters

from feedback.models import Opportunity
from handoff.filters import IdFilter


class OpportunityFilter(django_filters.FilterSet):
    # distinct=False: the status is a column of the row, so no duplicate rows to fold.
    status = django_filters.MultipleChoiceFilter(choices=Opportunity.Status.choices, distinct=False)
    created = django_filters.DateFromToRangeFilter(
        field_name="created_on", label="Created between (created_after, created_before)"
    )
    crm_id = django_filters.CharFilter()
    lead = IdFilter(label="Lead (id)")

    class Meta:
        model = Opportunity
        fields = ["status", "lead", "created", "crm_id"]
