"""REST API to read scores: lead scores and account (ABM) scores.

Read-only: scores are written by the scoring services only. Each user sees
the scores of the leads (and accounts) they may see.
"""

import django_filters
from rest_framework import mixins, serializers, viewsets

from handoff.api.change_feed import change_feed
from handoff.filters import IdFilter
from scoring.models import AccountScore, LeadScore
from scoring.selectors import account_scores_visible_to, lead_scores_visible_to

# --- filters --------------------------------------------------------------------------


class LeadScoreFilter(django_filters.FilterSet):
    grade = django_filters.MultipleChoiceFilter(
        choices=[(g, g) for g in "ABCD"], label="Grade (A to D; repeat for several)"
    )
    model_version = django_filters.NumberFilter(field_name="model__version")
    lead = IdFilter(label="Lead (id)")

    class Meta:
        model = LeadScore
        fields = ["lead", "model", "model_version", "qualifies", "disqualified", "grade"]


class AccountScoreFilter(django_filters.FilterSet):
    model_version = django_filters.NumberFilter(field_name="model__version")
    account = IdFilter(label="Account (id)")

    class Meta:
        model = AccountScore
        fields = ["account", "model", "model_version", "qualified", "disqualified"]


# --- serializers and viewsets ---------------------------------------------------------


class LeadScoreSerializer(serializers.ModelSerializer):
    model_version = serializers.IntegerField(source="model.version", read_only=True)

    class Meta:
        model = LeadScore
        fields = [
            "lead",
            "model",
            "model_version",
            "fit",
            "engagement",
            "total",
            "grade",
            "disqualified",
            "qualifies",
            "explanation",
            "scored_at",
        ]
        read_only_fields = fields


class LeadScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Lead scores under the version that gave them, with their explanation.
    ``/api/scores/{lead id}/`` is one lead's score."""

    serializer_class = LeadScoreSerializer
    filterset_class = LeadScoreFilter
    lookup_field = "lead"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return lead_scores_visible_to(self.request.user)

    changes = change_feed(LeadScoreSerializer, "LeadScore")


class AccountScoreSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    account_domain = serializers.CharField(source="account.domain", read_only=True)
    model_version = serializers.IntegerField(source="model.version", read_only=True)
    qualified = serializers.BooleanField(
        read_only=True, help_text="Marketing qualified account (MQA): meets the thresholds now."
    )

    class Meta:
        model = AccountScore
        fields = [
            "account",
            "account_name",
            "account_domain",
            "model",
            "model_version",
            "fit",
            "engagement",
            "total",
            "engaged_contacts",
            "coverage",
            "roles_filled",
            "disqualified",
            "qualified",
            "explanation",
            "scored_at",
        ]
        read_only_fields = fields


class AccountScoreViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Account (ABM) scores, MQAs first. ``/api/account-scores/{account id}/``
    is one account's score; ``?qualified=true`` lists the MQAs."""

    serializer_class = AccountScoreSerializer
    filterset_class = AccountScoreFilter
    lookup_field = "account"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return account_scores_visible_to(self.request.user)
