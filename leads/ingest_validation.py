"""What an incoming activity event is: the API's serializer, and the quick
path that validates a plainly valid batch without it.

The two live together because they must agree: the quick path accepts only
what ActivityInSerializer accepts and returns what it returns (held to it by
a property test, tests/leads/test_plain_batch.py); anything doubtful goes to
the serializer, whose error messages the API reports.
"""

import copy
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from rest_framework import serializers
from rest_framework.settings import api_settings

from handoff.errors import BatchError
from handoff.validators import MAX_ID, storable_json, unstorable_text
from leads.models import activity_kind_validator, url_fits_index

MAX_ACTIVITY_BATCH = 1000


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


def validated_events(data: Any) -> list[dict[str, Any]]:
    """The events of a request body (one event or a list of them), each as
    ``ActivityInSerializer`` validates it. Refuses more than
    MAX_ACTIVITY_BATCH events (ValidationError) and a batch with any invalid
    item (BatchError naming each bad item by index and field)."""
    items = data if isinstance(data, list) else [data]
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
    return rows
