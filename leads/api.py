"""REST API for leads, accounts and activity events."""

import copy
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from handoff.api.write_only import is_write_only, what_was_sent
from handoff.errors import BatchError
from handoff.validators import MAX_ID, storable_json, unstorable_text
from leads import services
from leads.filters import AccountFilter, ActivityFilter, LeadFilter
from leads.models import (
    Account,
    Activity,
    Lead,
    LeadSource,
    activity_kind_validator,
    url_fits_index,
)
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
            "received_at",
        ]


class ActivityInSerializer(serializers.Serializer):
    """One incoming event. The lead is named by exactly one of three references."""

    lead = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    lead_email = serializers.EmailField(required=False)
    lead_external_id = serializers.CharField(required=False, max_length=100)
    kind = serializers.CharField(max_length=50, validators=[activity_kind_validator])
    url = serializers.URLField(
        max_length=2000, required=False, default="", validators=[url_fits_index]
    )
    properties = serializers.DictField(required=False, default=dict, validators=[storable_json])
    occurred_at = serializers.DateTimeField()
    source_system = serializers.CharField(max_length=50)
    external_id = serializers.CharField(max_length=200)

    def validate(self, attrs):
        given = [k for k in ("lead", "lead_email", "lead_external_id") if attrs.get(k)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"lead": ["Name the lead with exactly one of lead, lead_email, lead_external_id."]}
            )
        return attrs

    # --- The quick path for plainly valid batches -----------------------------
    # A serializer per item costs about 60 µs, most of an ingested event's cost.
    # validate_plain_batch accepts only what the fields above accept, returns what
    # they return, and gives up (None) on anything else, so that the serializer,
    # and its error messages, decide every doubtful case.

    _surrogates = re.compile("[\ud800-\udfff]")
    _email_validator = EmailValidator()
    _url_validator = URLValidator()

    @classmethod
    def _plain_text(cls, value: Any, max_length: int | None) -> str | None:
        """The value as CharField takes it (stripped) when it is a string that
        CharField accepts: not blank, not too long, no NUL or surrogate."""
        if type(value) is not str:
            return None
        value = value.strip()
        if (
            not value
            or (max_length is not None and len(value) > max_length)
            or "\x00" in value
            or (not value.isascii() and cls._surrogates.search(value))
        ):
            return None
        return value

    @classmethod
    def validate_plain_batch(cls, items: list[Any]) -> list[dict[str, Any]] | None:
        """Each item's validated_data, as ``ActivityInSerializer(many=True)`` would
        give it, when every item is a JSON object of plainly valid values; None as
        soon as one is not (the caller then runs the serializer on the batch)."""
        fields = cls._declared_fields
        max_length = {name: getattr(fields[name], "max_length", None) for name in fields}
        # The declared field's own parsing, with what it would look up for every
        # event (the current time zone, the input formats) looked up once.
        occurred_at_field = copy.copy(fields["occurred_at"])
        occurred_at_field.timezone = occurred_at_field.default_timezone()
        occurred_at_field.input_formats = api_settings.DATETIME_INPUT_FORMATS
        parse_datetime = occurred_at_field.to_internal_value
        passed: set[tuple[int, str]] = set()

        def passes(validator, value: str) -> bool:
            # Kinds, URLs and emails repeat within a batch: each is checked once.
            if (id(validator), value) not in passed:
                try:
                    validator(value)
                except DjangoValidationError:
                    return False
                passed.add((id(validator), value))
            return True

        rows = []
        for item in items:
            if type(item) is not dict:
                return None
            row: dict[str, Any] = {}
            if "lead" in item:
                lead = item["lead"]
                if type(lead) is not int or not 1 <= lead <= MAX_ID:
                    return None
                row["lead"] = lead
            for name in ("lead_email", "lead_external_id"):
                if name in item:
                    value = cls._plain_text(item[name], max_length[name])
                    if value is None:
                        return None
                    row[name] = value
            if len(row) != 1:
                return None
            if "lead_email" in row and not passes(cls._email_validator, row["lead_email"]):
                return None
            kind = cls._plain_text(item.get("kind"), max_length["kind"])
            if kind is None or not passes(activity_kind_validator, kind):
                return None
            row["kind"] = kind
            if "url" in item:
                url = cls._plain_text(item["url"], max_length["url"])
                if (
                    url is None
                    or not passes(cls._url_validator, url)
                    or not (url.isascii() or passes(url_fits_index, url))
                ):
                    return None
                row["url"] = url
            else:
                row["url"] = ""
            if "properties" in item:
                properties = item["properties"]
                if type(properties) is not dict or unstorable_text(properties):
                    return None
                row["properties"] = {str(k): v for k, v in properties.items()}
            else:
                row["properties"] = {}
            occurred_at = item.get("occurred_at")
            if type(occurred_at) is not str:
                return None
            try:
                row["occurred_at"] = parse_datetime(occurred_at)
            except serializers.ValidationError:
                return None
            for name in ("source_system", "external_id"):
                value = cls._plain_text(item.get(name), max_length[name])
                if value is None:
                    return None
                row[name] = value
            rows.append(row)
        return rows


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
        items = request.data if isinstance(request.data, list) else [request.data]
        if len(items) > MAX_ACTIVITY_BATCH:
            raise serializers.ValidationError(
                {"detail": f"At most {MAX_ACTIVITY_BATCH} events per request (got {len(items)})."}
            )
        rows = ActivityInSerializer.validate_plain_batch(items)
        if rows is None:
            serializer = ActivityInSerializer(data=items, many=True)
            if not serializer.is_valid():
                # DRF reports a list's errors as {index: errors}, bad items only.
                raise BatchError(dict(serializer.errors))
            rows = serializer.validated_data
        with transaction.atomic():
            lead_ids = services.resolve_lead_refs(
                [
                    services.LeadRef(
                        lead_id=row.get("lead"),
                        email=row.get("lead_email"),
                        external_id=row.get("lead_external_id"),
                    )
                    for row in rows
                ]
            )
            result = services.record_activities(
                events=[
                    services.ActivityEvent(
                        lead_id=lead_id,
                        kind=row["kind"],
                        url=row["url"],
                        properties=row["properties"],
                        occurred_at=row["occurred_at"],
                        source_system=row["source_system"],
                        external_id=row["external_id"],
                    )
                    for lead_id, row in zip(lead_ids, rows, strict=True)
                ]
            )
        body = {
            "received": result.received,
            "stored": result.stored,
            "duplicates": result.duplicates,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.stored else 200)
