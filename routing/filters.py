"""One FilterSet per listable model, shared by the API and the pages."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from handoff.filters import IdFilter
from leads.models import LeadSource
from routing.models import Assignment, AssignmentStatus, Membership, Queue

GRADES = [(letter, letter) for letter in "ABCD"]


class AssignmentFilter(django_filters.FilterSet):
    """The queue page uses q, source, grade and overdue; the API all of them."""

    q = django_filters.CharFilter(method="search", label="Search name, email or company")
    source = django_filters.ModelChoiceFilter(
        field_name="lead__source",
        to_field_name="slug",
        queryset=LeadSource.objects.all(),
        label="Source (slug)",
        empty_label="Any source",
    )
    grade = django_filters.ChoiceFilter(
        field_name="lead__score__grade", choices=GRADES, label="Fit grade", empty_label="Any grade"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Overdue (past its SLA due time)"
    )
    # distinct=False: the status is a column of the row, so no duplicate rows to fold.
    status = django_filters.MultipleChoiceFilter(choices=AssignmentStatus.choices, distinct=False)
    queue = IdFilter(label="Queue (id)")
    sdr = IdFilter(label="SDR (user id)")

    class Meta:
        model = Assignment
        fields = ["q", "source", "grade", "overdue", "status", "queue", "sdr"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(lead__email__icontains=value)
            | Q(lead__first_name__icontains=value)
            | Q(lead__last_name__icontains=value)
            | Q(lead__company_name__icontains=value)
            | Q(lead__account__name__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        # Overdue means its first-touch clock ran out while it is still open.
        now = timezone.now()
        overdue = Q(due_at__lte=now, status=AssignmentStatus.OPEN)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class QueueFilter(django_filters.FilterSet):
    class Meta:
        model = Queue
        fields = ["is_active", "strategy", "sla_policy"]


class MembershipFilter(django_filters.FilterSet):
    queue = IdFilter(label="Queue (id)")
    sdr = IdFilter(label="SDR (user id)")

    class Meta:
        model = Membership
        fields = ["queue", "sdr", "is_active"]
