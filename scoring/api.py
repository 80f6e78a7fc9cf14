"""REST API to read scores: lead scores and account (ABM) scores.

Read-only: scores are written by the scoring services only. Each user sees
the scores of the leads (and accounts) they may see.
"""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff.api.change_feed import change_feed
from handoff.api.permissions import TokenScopes
from handoff.filters import IdFilter
from handoff.roles import MARKETING_OPS, SALES_MANAGER, has_role
from leads.models import Stage
from leads.selectors import leads_visible_to
from scoring.models import AccountScore, LeadScore
from scoring.selectors import account_scores_visible_to, lead_scores_visible_to
from scoring.services import send_to_sales

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


# --- sending a lead to sales by hand ------------------------------------------------------


class SendToSalesSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the lead goes to sales.")


class SendsToSales(BasePermission):
    """Marketing ops and sales managers, signed in: a person's decision,
    closed to API tokens (handoff.api.scopes names no scope for it)."""

    message = "Only marketing ops and sales managers send a lead to sales by hand."

    def has_permission(self, request, view):
        return has_role(request.user, MARKETING_OPS, SALES_MANAGER)


@extend_schema(request=SendToSalesSerializer, responses={200: LeadScoreSerializer})
class SendToSalesView(APIView):
    """``POST /api/leads/{id}/send-to-sales/`` with a ``reason``: the lead
    becomes an MQL whatever its score and is routed like any other. Refused
    (400) for a lead already with sales or disqualified."""

    basename = "lead-send-to-sales"
    permission_classes = [IsAuthenticated, TokenScopes, SendsToSales]

    def post(self, request, pk: int):
        lead = get_object_or_404(leads_visible_to(request.user), pk=pk)
        serializer = SendToSalesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        send_to_sales(lead=lead, by=request.user, reason=serializer.validated_data["reason"])
        score = LeadScore.objects.select_related("model").get(lead=lead)
        return Response(LeadScoreSerializer(score).data | {"stage": Stage.MQL})
