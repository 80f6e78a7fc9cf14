"""What the API fuzzing found, pinned: input the database would refuse is
refused first, with a 400 naming the field, not a 500."""

import json

import pytest

from feedback.api import OpportunityInSerializer
from leads.ingest_validation import ActivityInSerializer
from leads.models import Activity, Lead
from tests import factories
from tests.leads.test_api import event

NUL = "Contains a NUL character (\\u0000), which cannot be stored."
SURROGATE = "Contains a lone surrogate (\\ud800-\\udfff), which cannot be stored."
DEEP = "Contains values nested more than 32 levels deep, which cannot be stored."


@pytest.mark.parametrize(
    "properties",
    [
        {"plan": "te\x00am"},
        {"pl\x00an": "team"},
        {"plan": {"tiers": ["a", "b\x00"]}},
    ],
)
def test_a_nul_anywhere_in_an_event_s_properties_is_refused(integration_client, properties):
    lead = factories.make_lead()
    good = event({"lead": lead.pk}, 1)
    bad = event({"lead": lead.pk}, 2, properties=properties)

    response = integration_client.post("/api/activities/", [good, bad], format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "1 item(s) of the batch are invalid; none was stored.",
        "errors": {"1": {"properties": [NUL]}},
    }
    assert Activity.objects.count() == 0


def test_a_lone_surrogate_in_properties_is_refused(integration_client):
    lead = factories.make_lead()
    # Only raw JSON can carry one: "\ud800" is valid JSON, not valid UTF-8.
    body = json.dumps(event({"lead": lead.pk}, 1, properties={"plan": "\ud800"}))

    response = integration_client.post("/api/activities/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"0": {"properties": [SURROGATE]}}


def test_the_quick_path_leaves_a_nul_in_properties_to_the_serializer(db):
    item = event({"lead": 1}, 1, properties={"plan": "te\x00am"})

    assert ActivityInSerializer.validate_plain_batch([item]) is None
    serializer = ActivityInSerializer(data=[item], many=True)
    assert not serializer.is_valid()
    assert serializer.errors == {0: {"properties": [NUL]}}


def test_a_url_of_more_than_2000_bytes_is_refused_naming_its_size(integration_client):
    """A URL is kept in the activity index, whose entries PostgreSQL caps: 2,000
    characters fit only as long as they are 2,000 bytes."""
    lead = factories.make_lead()
    ascii_url = "https://example.com/" + "a" * 1980
    unicode_url = "https://example.com/" + "é" * 1980  # 2 bytes each in UTF-8

    response = integration_client.post(
        "/api/activities/",
        [event({"lead": lead.pk}, 1, url=ascii_url), event({"lead": lead.pk}, 2, url=unicode_url)],
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "1": {
            "url": [
                "Ensure this URL has at most 2,000 bytes in UTF-8 (it has 3,980); "
                "percent-encode it or shorten it."
            ]
        }
    }
    assert not Activity.objects.exists()
    response = integration_client.post(
        "/api/activities/", [event({"lead": lead.pk}, 1, url=ascii_url)], format="json"
    )
    assert response.status_code == 201
    assert Activity.objects.get().url == ascii_url


def test_a_nul_in_a_lead_s_attributes_is_refused(integration_client):
    response = integration_client.post(
        "/api/leads/",
        {"email": "ada@example.com", "source": "inbound_form", "attributes": {"plan": "pro\x00"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"attributes": [NUL]}
    assert not Lead.objects.exists()


def test_a_time_filter_takes_any_offset_python_takes(integration_client):
    """PostgreSQL takes offsets up to ±15:59 only; the filter converts to UTC first."""
    lead = factories.make_lead()
    factories.make_activity(lead)

    response = integration_client.get(
        "/api/activities/", {"occurred_after": "2000-01-01T00:00:00+18:10"}
    )
    assert response.status_code == 200
    assert response.json()["count"] == 1
    response = integration_client.get(
        "/api/leads/", {"created_before": "2000-01-01T00:00:00-19:18"}
    )
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_time_filter_out_of_range_in_utc_is_refused_naming_the_value(integration_client):
    response = integration_client.get(
        "/api/activities/", {"occurred_after": "0001-01-01T00:00:00+05:00"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "occurred": [
            "0001-01-01T00:00:00+05:00 is out of range: give a moment between the years 1 and 9999."
        ]
    }


def test_a_url_the_api_does_not_have_answers_json(integration_client):
    response = integration_client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API endpoint at /api/no-such-thing/: the operations are listed at /api/docs/."
    }


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [32, 960, 3000])
def test_json_nested_too_deep_in_properties_is_refused_naming_the_field(integration_client, depth):
    lead = factories.make_lead()
    body = json.dumps(event({"lead": lead.pk}, 1, properties=nested(depth)))

    response = integration_client.post("/api/activities/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"0": {"properties": [DEEP]}}
    assert not Activity.objects.exists()


@pytest.mark.parametrize("depth", [32, 960, 3000])
def test_json_nested_too_deep_in_attributes_is_refused_naming_the_field(integration_client, depth):
    body = json.dumps(
        {"email": "ada@example.com", "source": "inbound_form", "attributes": nested(depth)}
    )

    response = integration_client.post("/api/leads/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"attributes": [DEEP]}
    assert not Lead.objects.exists()


def test_json_nested_32_levels_deep_is_stored(integration_client):
    lead = factories.make_lead()

    response = integration_client.post(
        "/api/activities/", event({"lead": lead.pk}, 1, properties=nested(31)), format="json"
    )

    assert response.status_code == 201
    assert Activity.objects.get().properties == nested(31)


def test_json_too_deep_for_the_decoder_is_a_400_saying_so(integration_client):
    body = '{"lead": 1, "properties": ' + '{"a": ' * 50_000 + "{}" + "}" * 50_000 + "}"

    response = integration_client.post("/api/activities/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - nested too deeply: properties and attributes take "
        "at most 32 levels."
    }


@pytest.mark.parametrize("path", ["/api/activities/", "/api/opportunities/"])
def test_a_20_digit_lead_id_is_refused_naming_the_field(integration_client, path):
    body = {
        **event({"lead": 10**19}, 1),
        "crm_id": "opp-1",
        "amount": "100.00",
        "created_on": "2026-01-05",
    }

    response = integration_client.post(path, body, format="json")

    assert response.status_code == 400
    errors = response.json().get("errors", {}).get("0") or response.json()
    assert errors == {"lead": ["Ensure this value is less than or equal to 9223372036854775807."]}


def test_ids_are_bounded_to_64_bits_before_any_query(db):
    """On SQLite a larger id cannot even be bound to a query (a 500): the
    serializers and the quick path refuse it first."""
    too_big = event({"lead": 2**63}, 1)
    largest = event({"lead": 2**63 - 1}, 2)

    assert ActivityInSerializer.validate_plain_batch([too_big]) is None
    assert ActivityInSerializer.validate_plain_batch([largest])[0]["lead"] == 2**63 - 1
    serializer = ActivityInSerializer(data=[too_big], many=True)
    assert not serializer.is_valid()
    assert serializer.errors == {
        0: {"lead": ["Ensure this value is less than or equal to 9223372036854775807."]}
    }
    opportunity = OpportunityInSerializer(
        data={"crm_id": "o", "lead": 2**63, "amount": "1", "created_on": "2026-01-05"}
    )
    assert not opportunity.is_valid()
    assert list(opportunity.errors) == ["lead"]
