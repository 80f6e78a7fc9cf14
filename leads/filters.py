"""One FilterSet per listable model, shared by the API and the pages."""

import django_filters
from django.db.models import Q

from handoff.filters import IdFilter, IsoDateTimeFromToRangeFilter
from leads.models import Account, Activity, Lead, Stage


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    source = django_filters.CharFilter(field_name="source__slug", label="Source (slug)")
    created = IsoDateTimeFromToRangeFilter(
        field_name="created_at", label="Created between (created_after, created_before)"
    )
    country = django_filters.CharFilter(lookup_expr="iexact")
    email = django_filters.CharFilter(lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search name, email or company")
    owner = IdFilter(label="Owner (user id)")
    account = IdFilter(label="Account (id)")

    class Meta:
        model = Lead
        fields = ["stage", "source", "owner", "account", "country", "email", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(company_name__icontains=value)
        )


class AccountFilter(django_filters.FilterSet):
    domain = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    employees_min = django_filters.NumberFilter(field_name="employee_count", lookup_expr="gte")
    employees_max = django_filters.NumberFilter(field_name="employee_count", lookup_expr="lte")
    owner = IdFilter(label="Owner (user id)")

    class Meta:
        model = Account
        fields = ["domain", "industry", "country", "owner", "is_target_account"]


class ActivityFilter(django_filters.FilterSet):
    occurred = IsoDateTimeFromToRangeFilter(field_name="occurred_at")
    lead = IdFilter(label="Lead (id)")

    class Meta:
        model = Activity
        fields = ["lead", "kind", "source_system"]
