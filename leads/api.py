"""REST API for leads, accounts and activity events."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from handoff.api.change_feed import change_feed
from handoff.api.write_only import is_write_only, what_was_sent
from handoff.validators import storable_json
from leads import services
from leads.filters import AccountFilter, ActivityFilter, LeadFilter
from leads.ingest_validation import ActivityInSerializer, validated_events
from leads.models import Account, Activity, Lead, LeadSource
from leads.selectors import accounts_visible_to, activities_visible_to, leads_visible_to

MAX_ACTIVITY_BATCH = 1000


class LeadSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", queryset=LeadSource.objects.all())
    stage = serializers.CharField(read_only=True)
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "external_id",
            "first_name",
            "last_name",
            "title",
            "seniority",
            "department",
            "phone",
            "country",
            "company_name",
            "account",
            "source",
            "source_detail",
            "stage",
            "owner",
            "attributes",
            "known_outcome",
            "do_not_contact",
            "created_at",
            "updated_at",
        ]
        # Uniqueness is the upsert's business: a known email updates that lead.
        extra_kwargs = {
            "email": {"validators": []},
            "external_id": {"validators": []},
            "attributes": {"validators": [storable_json]},
        }

    def validate(self, attrs):
        if self.instance is None and not attrs.get("email") and not attrs.get("external_id"):
            raise serializers.ValidationError({"email": ["Give an email or an external_id."]})
        return attrs


class LeadUpdateSerializer(LeadSerializer):
    class Meta(LeadSerializer.Meta):
        read_only_fields = ["email", "external_id", "source"]


class LeadViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Leads. POST creates a lead, or updates the one with the same email (200).

    A write-only token gets back only what it sent (handoff.api.write_only).
    """

    filterset_class = LeadFilter
    serializer_class = LeadSerializer

    def get_queryset(self):
        return leads_visible_to(self.request.user)

    changes = change_feed(LeadSerializer, "Lead")

    @extend_schema(responses={201: LeadSerializer, 200: LeadSerializer})
    def create(self, request, *args, **kwargs):
        serializer = LeadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        blind = is_write_only(request, self.basename)
        lead, created = services.upsert_lead(**serializer.validated_data, overwrite=not blind)
        answer_status = status.HTTP_201_CREATED if created else 200
        if blind:
            return Response(what_was_sent(serializer, lead.pk), status=answer_status)
        lead = self.get_queryset().get(pk=lead.pk)
        return Response(LeadSerializer(lead).data, status=answer_status)

    @extend_schema(request=LeadUpdateSerializer, responses=LeadSerializer)
    def partial_update(self, request, *args, **kwargs):
        lead = self.get_object()
        serializer = LeadUpdateSerializer(lead, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_lead(lead=lead, **serializer.validated_data)
        if is_write_only(request, self.basename):
            return Response(what_was_sent(serializer, lead.pk))
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "employee_count",
            "annual_revenue",
            "country",
            "last_funding_date",
            "owner",
            "is_target_account",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"domain": {"validators": []}}


class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accounts. POST creates an account, or updates the one with the same domain
    (a write-only token only fills in its blanks, and gets back what it sent)."""

    filterset_class = AccountFilter
    serializer_class = AccountSerializer

    def get_queryset(self):
        return accounts_visible_to(self.request.user)

    @extend_schema(responses={201: AccountSerializer, 200: AccountSerializer})
    def create(self, request, *args, **kwargs):
        serializer = AccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        blind = is_write_only(request, self.basename)
        account, created = services.upsert_account(**serializer.validated_data, overwrite=not blind)
        answer_status = status.HTTP_201_CREATED if created else 200
        if blind:
            return Response(what_was_sent(serializer, account.pk), status=answer_status)
        return Response(AccountSerializer(account).data, status=answer_status)


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = [
            "id",
            "lead",
            "kind",
            "url",
            "properties",
            "occurred_at",
            "source_system",
            "external_id",
            "event_name",
            "received_at",
        ]


IngestResultSerializer = inline_serializer(
    "IngestResult",
    fields={
        "received": serializers.IntegerField(),
        "stored": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
    },
)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Activity events. POST takes one event or a list of up to 1,000.

    A batch is all or nothing: any invalid item answers 400 with each bad
    item's index and field, and none is stored. Events already received
    (same source_system and external_id) are counted as duplicates, not stored.
    """

    filterset_class = ActivityFilter
    serializer_class = ActivitySerializer

    def get_queryset(self):
        if self.action == "create":
            # Creating reads no activity: the permission check only wants the model,
            # and working out what this user may see would cost a query per event.
            return Activity.objects.none()
        return activities_visible_to(self.request.user)

    @extend_schema(
        request=ActivityInSerializer(many=True),
        responses={
            201: IngestResultSerializer,
            200: OpenApiResponse(IngestResultSerializer, description="All were duplicates."),
        },
    )
    def create(self, request, *args, **kwargs):
        events = validated_events(request.data)
        result = services.ingest_activities(events=events)
        body = {
            "received": result.received,
            "stored": result.stored,
            "duplicates": result.duplicates,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.stored else 200)
