"""What a CDP's call is, as the Segment spec sends it (identify, track, page;
a batch of them), turned into leads.intake's calls. Errors name the field as
the sender wrote it ("traits.email", "properties.url", "event") and, in a
batch, the call's index.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.settings import api_settings

from handoff.errors import BatchError
from handoff.validators import storable_json, unstorable_text
from leads.domains import normalise_email
from leads.intake import Call, Event, Identify
from leads.models import ActivityKind, Lead, url_fits_index

MAX_CALLS = 1000
CALL_TYPES = ("identify", "track", "page")
ID_LENGTH = 200

# Traits the Segment spec reserves that are lead fields: trait -> field.
PROFILE_TRAITS = {
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "title": "title",
    "phone": "phone",
    "country": "country",
}
# How an error names the trait a field came from.
TRAIT_OF_FIELD = {
    "first_name": "firstName",
    "last_name": "lastName",
    "title": "title",
    "phone": "phone",
    "country": "country",
    "company_name": "company",
}
# Consumed by the lead's own fields (email, name, company, address), not kept as attributes.
CONSUMED_TRAITS = {*PROFILE_TRAITS, "email", "name", "company", "address"}


class CallSerializer(serializers.Serializer):
    """One call as the Segment spec names its fields. Fields the spec has
    that Handoff does not use (integrations, sentAt, channel, writeKey…) are
    accepted and ignored."""

    type = serializers.ChoiceField(choices=CALL_TYPES)
    userId = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=ID_LENGTH
    )
    anonymousId = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=ID_LENGTH
    )
    messageId = serializers.CharField(required=False, max_length=150)
    timestamp = serializers.DateTimeField(required=False, allow_null=True)
    originalTimestamp = serializers.DateTimeField(required=False, allow_null=True)
    event = serializers.CharField(required=False, max_length=200)
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=200)
    traits = serializers.DictField(required=False, default=dict, validators=[storable_json])
    properties = serializers.DictField(required=False, default=dict, validators=[storable_json])
    context = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        if not attrs.get("userId") and not attrs.get("anonymousId"):
            raise serializers.ValidationError(
                {"userId": ["Every call needs a userId or an anonymousId."]}
            )
        if attrs["type"] != "identify" and not attrs.get("messageId"):
            # Segment's libraries send one with every call.
            raise serializers.ValidationError(
                {"messageId": ["Send the call's messageId: a replay then counts once."]}
            )
        if attrs["type"] == "track" and not attrs.get("event"):
            raise serializers.ValidationError({"event": ["A track call names its event."]})
        return attrs


_url_validator = URLValidator()


def _url(attrs: dict[str, Any]) -> tuple[str, str]:
    """The call's page URL and where it was (properties.url, else context.page.url)."""
    page = attrs["context"].get("page")
    candidates = [
        ("properties.url", attrs["properties"].get("url")),
        ("context.page.url", page.get("url") if isinstance(page, dict) else None),
    ]
    for where, value in candidates:
        if value:
            return str(value).strip(), where
    return "", ""


def _check_url(url: str, where: str) -> dict[str, list[str]]:
    if not url:
        return {}
    problems = []
    for check in (_url_validator, url_fits_index):
        try:
            check(url)
        except DjangoValidationError as error:
            problems += error.messages
    if len(url) > 2000:
        problems.append("Ensure this URL has at most 2,000 characters.")
    return {where: problems} if problems else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _identify(attrs: dict[str, Any]) -> tuple[Identify | None, dict[str, list[str]]]:
    traits = attrs["traits"]
    errors: dict[str, list[str]] = {}
    profile: dict[str, Any] = {}
    for trait, field_name in PROFILE_TRAITS.items():
        value = _text(traits.get(trait))
        if value:
            profile.setdefault(field_name, value)
    name = _text(traits.get("name"))
    if name and "first_name" not in profile and "last_name" not in profile:
        first, _, last = name.partition(" ")
        profile["first_name"], profile["last_name"] = first, last.strip()
    company = traits.get("company")
    company_name = _text(company.get("name") if isinstance(company, dict) else company)
    if company_name:
        profile["company_name"] = company_name
    address = traits.get("address")
    if isinstance(address, dict) and _text(address.get("country")):
        profile.setdefault("country", _text(address.get("country")))
    for field_name, value in profile.items():
        limit = Lead._meta.get_field(field_name).max_length
        if limit and len(value) > limit:
            errors[f"traits.{TRAIT_OF_FIELD[field_name]}"] = [
                f"Ensure this has at most {limit:,} characters."
            ]
    email = _text(traits.get("email")) or None
    if email is not None:
        try:
            serializers.EmailField().run_validation(email)
        except serializers.ValidationError as error:
            errors["traits.email"] = [str(m) for m in error.detail]
    if errors:
        return None, errors
    attributes = {k: v for k, v in traits.items() if k not in CONSUMED_TRAITS}
    return (
        Identify(
            traits_profile=profile,
            traits_attributes=attributes,
            email=normalise_email(email) if email else None,
            user_id=_text(attrs.get("userId")) or None,
            anonymous_id=_text(attrs.get("anonymousId")) or None,
        ),
        {},
    )


def _event(attrs: dict[str, Any]) -> tuple[Event | None, dict[str, list[str]]]:
    url, where = _url(attrs)
    errors = _check_url(url, where)
    if errors:
        return None, errors
    is_page = attrs["type"] == "page"
    occurred_at = attrs.get("timestamp") or attrs.get("originalTimestamp") or timezone.now()
    return (
        Event(
            kind=ActivityKind.PAGE_VIEW if is_page else None,
            event_name=_text(attrs.get("name") if is_page else attrs.get("event")),
            url=url,
            properties=attrs["properties"],
            occurred_at=occurred_at,
            message_id=attrs["messageId"].strip(),
            user_id=_text(attrs.get("userId")) or None,
            anonymous_id=_text(attrs.get("anonymousId")) or None,
        ),
        {},
    )


# --- The quick path for plainly valid track and page calls --------------------------
# CallSerializer costs about a millisecond a call (most of a batch's time). A
# track or page call whose every field is plainly valid is read here instead;
# anything doubtful returns None and goes through the serializer, whose
# messages the API reports.

_surrogates = re.compile("[\ud800-\udfff]")


def _plain_text(value: Any, max_length: int) -> str | None:
    """The value as CharField takes it (stripped) when plainly valid."""
    if type(value) is not str:
        return None
    value = value.strip()
    if (
        not value
        or len(value) > max_length
        or "\x00" in value
        or (not value.isascii() and _surrogates.search(value))
    ):
        return None
    return value


def _plain_event(item: Any, parse_datetime) -> Event | None:
    if type(item) is not dict or item.get("type") not in ("track", "page"):
        return None
    if "traits" in item:
        return None
    ids = {}
    for name in ("userId", "anonymousId"):
        value = item.get(name)
        if value is None or value == "":
            ids[name] = None
            continue
        ids[name] = _plain_text(value, ID_LENGTH)
        if ids[name] is None:
            return None
    if ids["userId"] is None and ids["anonymousId"] is None:
        return None
    message_id = _plain_text(item.get("messageId"), 150)
    if message_id is None:
        return None
    if item["type"] == "track":
        event_name = _plain_text(item.get("event"), 200)
        if event_name is None:
            return None
    else:
        name = item.get("name")
        if name is None or name == "":
            event_name = ""
        else:
            event_name = _plain_text(name, 200) or ""
            if not event_name:
                return None
    properties = item.get("properties", {})
    context = item.get("context", {})
    if type(properties) is not dict or type(context) is not dict or unstorable_text(properties):
        return None
    occurred_at = None
    for name in ("timestamp", "originalTimestamp"):
        value = item.get(name)
        if value is None:
            continue
        if type(value) is not str:
            return None
        try:
            parsed = parse_datetime(value)
        except serializers.ValidationError:
            return None
        occurred_at = occurred_at or parsed
    url, where = _url({"properties": properties, "context": context})
    if url and _check_url(url, where):
        return None
    return Event(
        kind=ActivityKind.PAGE_VIEW if item["type"] == "page" else None,
        event_name=event_name,
        url=url,
        properties={str(k): v for k, v in properties.items()},
        occurred_at=occurred_at or timezone.now(),
        message_id=message_id,
        user_id=ids["userId"],
        anonymous_id=ids["anonymousId"],
    )


def _datetime_parser():
    """The declared timestamp field's own parsing, with what it looks up for
    every value (the time zone, the input formats) looked up once."""
    field = copy.copy(CallSerializer._declared_fields["timestamp"])
    field.timezone = field.default_timezone()
    field.input_formats = api_settings.DATETIME_INPUT_FORMATS
    return field.to_internal_value


def validated_calls(items: Any, *, call_type: str | None = None) -> list[Call]:
    """The calls of a request: one call (``call_type`` given by the endpoint)
    or a batch's list. Raises BatchError naming each bad call by index and
    field; nothing is taken from a batch with a bad call."""
    if not isinstance(items, list):
        raise serializers.ValidationError({"batch": ["Send the calls as a list under 'batch'."]})
    if not items:
        raise serializers.ValidationError({"batch": ["The batch is empty."]})
    if len(items) > MAX_CALLS:
        raise serializers.ValidationError(
            {"batch": [f"At most {MAX_CALLS:,} calls per batch (got {len(items):,})."]}
        )
    calls: list[Call] = []
    errors: dict[int, dict[str, list[str]]] = {}
    parse_datetime = _datetime_parser()
    for index, item in enumerate(items):
        if call_type is not None and isinstance(item, dict):
            item = {**item, "type": call_type}
        plain = _plain_event(item, parse_datetime)
        if plain is not None:
            calls.append(plain)
            continue
        serializer = CallSerializer(data=item)
        if not serializer.is_valid():
            errors[index] = {k: [str(m) for m in v] for k, v in serializer.errors.items()}
            continue
        attrs = serializer.validated_data
        call, problems = _identify(attrs) if attrs["type"] == "identify" else _event(attrs)
        if problems:
            errors[index] = problems
        elif call is not None:
            calls.append(call)
    if errors:
        raise BatchError(errors)
    return calls


def with_batch_context(body: Any) -> Any:
    """A batch's calls, each with the batch's own context where it has none
    (the spec: a batch's context applies to every call in it)."""
    if not isinstance(body, dict) or "batch" not in body:
        raise serializers.ValidationError({"batch": ["Send the calls as a list under 'batch'."]})
    calls, shared = body["batch"], body.get("context")
    if isinstance(calls, list) and isinstance(shared, dict):
        return [
            {**call, "context": call.get("context") or shared} if isinstance(call, dict) else call
            for call in calls
        ]
    return calls
