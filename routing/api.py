"""REST API of routing: queues and memberships (read), assignments (read,
and the SDR's actions on them through the same services as the pages).

Who sees what: an SDR sees their own assignments and memberships; marketing
ops, managers and integrations see all of them. Only the SDR an assignment is
assigned to may act on it: anybody else who can see it gets 403, another SDR
gets 404 (it is not in their list).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from handoff.api.change_feed import change_feed
from handoff.api.permissions import TokenScopes
from routing import services
from routing.filters import AssignmentFilter, MembershipFilter, QueueFilter
from routing.models import Assignment, AssignmentStatus, Membership, Queue, SLAPolicy, Touch
from routing.selectors import (
    assignments_visible_to,
    lead_score,
    memberships_visible_to,
    queues_visible_to,
)
from routing.services.decisions import RejectReason

# --- Queues and memberships -------------------------------------------------------------


class SLAPolicySerializer(serializers.ModelSerializer):
    calendar = serializers.CharField(source="calendar.name", default=None, read_only=True)

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "first_touch_minutes",
            "calendar",
            "remind_at_percent",
            "reassign_after_minutes",
            "escalate_to_manager",
        ]


class QueueSerializer(serializers.ModelSerializer):
    sources = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    sla_policy = SLAPolicySerializer(read_only=True)
    fallback_name = serializers.CharField(source="fallback.name", default=None, read_only=True)

    class Meta:
        model = Queue
        fields = [
            "id",
            "name",
            "priority",
            "is_active",
            "sources",
            "activity_kinds",
            "countries",
            "min_employees",
            "max_employees",
            "named_accounts_only",
            "fallback",
            "fallback_name",
            "sla_policy",
            "strategy",
            "manager",
        ]
        read_only_fields = fields


class QueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Queues, in the order they are tried, with their SLA policy."""

    serializer_class = QueueSerializer
    filterset_class = QueueFilter

    def get_queryset(self):
        return queues_visible_to(self.request.user)


class MembershipSerializer(serializers.ModelSerializer):
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    sdr_username = serializers.CharField(source="sdr.username", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "queue",
            "queue_name",
            "sdr",
            "sdr_username",
            "capacity",
            "weight",
            "away_until",
            "is_active",
            "assigned_count",
        ]
        read_only_fields = fields


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who works which queue, with capacity and availability. An SDR sees their own."""

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self):
        return memberships_visible_to(self.request.user)


# --- Assignments ----------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    lead_email = serializers.EmailField(source="lead.email", read_only=True)
    lead_name = serializers.CharField(source="lead.full_name", read_only=True)
    lead_stage = serializers.CharField(source="lead.stage", read_only=True)
    source = serializers.CharField(source="lead.source.slug", read_only=True)
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    sdr_username = serializers.CharField(source="sdr.username", default=None, read_only=True)
    score = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "lead",
            "lead_email",
            "lead_name",
            "lead_stage",
            "source",
            "score",
            "grade",
            "queue",
            "queue_name",
            "sdr",
            "sdr_username",
            "status",
            "created_at",
            "assigned_at",
            "due_at",
            "overdue",
            "first_touch_at",
            "breached_at",
            "closed_at",
            "why",
            "waiting_reason",
        ]
        read_only_fields = fields

    def get_score(self, assignment: Assignment) -> str | None:
        score = lead_score(assignment.lead)
        return str(score.total) if score else None

    def get_grade(self, assignment: Assignment) -> str | None:
        score = lead_score(assignment.lead)
        return score.grade if score else None

    def get_overdue(self, assignment: Assignment) -> bool:
        return (
            assignment.status == AssignmentStatus.OPEN
            and assignment.due_at is not None
            and assignment.due_at <= timezone.now()
        )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RejectSerializer(NoteSerializer):
    # Blank is let through: the service refuses it with its own message.
    reason = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, allow_blank=True, default=""
    )


class TouchSerializer(NoteSerializer):
    kind = serializers.ChoiceField(choices=[Touch.Kind.CALL, Touch.Kind.EMAIL])


class IsAssignedSDR(BasePermission):
    """Acting on an assignment: whoever may read assignments gets as far as the
    object; only the SDR it is assigned to may act on it."""

    message = "Only the SDR this MQL is assigned to may act on it."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("routing.view_assignment"))

    def has_object_permission(self, request, view, obj):
        return obj.sdr_id == request.user.pk


# The token check first: these actions replace the default permission classes,
# and no API token may act for an SDR.
SDR_ACTION = [TokenScopes, IsAssignedSDR]


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """MQLs handed to queues and SDRs, most urgent first. ``?overdue=true``
    lists those past their SLA due time. The actions are the SDR's decisions."""

    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter

    def get_queryset(self):
        return assignments_visible_to(self.request.user)

    changes = change_feed(AssignmentSerializer, "Assignment")

    def _decide(self, request, serializer_class, run) -> Response:
        assignment = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        run(assignment, request.user, serializer.validated_data)
        return Response(AssignmentSerializer(self.get_queryset().get(pk=assignment.pk)).data)

    @extend_schema(request=NoteSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=SDR_ACTION)
    def accept(self, request, pk=None):
        """Accept the MQL: the lead becomes a SAL."""
        return self._decide(
            request,
            NoteSerializer,
            lambda a, by, data: services.accept_mql(assignment=a, by=by, note=data["note"]),
        )

    @extend_schema(request=RejectSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=SDR_ACTION)
    def reject(self, request, pk=None):
        """Reject the MQL with a reason (and a note, required for “other”)."""
        return self._decide(
            request,
            RejectSerializer,
            lambda a, by, data: services.reject_mql(
                assignment=a, by=by, reason=data["reason"], note=data["note"]
            ),
        )

    @extend_schema(request=NoteSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=SDR_ACTION)
    def recycle(self, request, pk=None):
        """Recycle the lead to nurture."""
        return self._decide(
            request,
            NoteSerializer,
            lambda a, by, data: services.recycle_mql(assignment=a, by=by, note=data["note"]),
        )

    @extend_schema(request=TouchSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=SDR_ACTION)
    def touch(self, request, pk=None):
        """Log a call or an email; the MQL stays open."""
        return self._decide(
            request,
            TouchSerializer,
            lambda a, by, data: services.log_touch(
                assignment=a, by=by, kind=data["kind"], note=data["note"]
            ),
        )
