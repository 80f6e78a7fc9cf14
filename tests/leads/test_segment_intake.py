"""The Segment-spec intake: identify, track, page and batch, sent as Segment
sends them (the write key as HTTP Basic's username), by hand and by
Segment's own Python library against a live server."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from rest_framework.test import APIClient

from handoff import tokens
from handoff.models import ApiTokenScope
from leads.models import Activity, EventMapping, HeldEvent, Identity, Lead
from tests import factories


def write_key_client(user, scopes=(ApiTokenScope.EVENTS_WRITE,)) -> APIClient:
    issued = tokens.issue_token(name="Segment", scopes=list(scopes), user=user, by=None)
    client = APIClient()
    basic = base64.b64encode(f"{issued.key}:".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {basic}")
    return client


@pytest.fixture
def cdp(integration_user):
    return write_key_client(integration_user)


def identify(n: int = 1, **overrides) -> dict:
    return {
        "type": "identify",
        "userId": f"user-{n}",
        "anonymousId": f"anon-{n}",
        "messageId": f"identify-{n}",
        "timestamp": "2026-11-20T10:00:00Z",
        "traits": {
            "email": f"Ada{n}@Acme.example",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "title": "VP Engineering",
            "company": {"name": "Acme", "employee_count": 250},
            "plan": "enterprise",
        },
        "context": {"ip": "203.0.113.5"},
        "integrations": {"All": True},
        **overrides,
    }


def track(message_id: str, event: str = "Demo Requested", **overrides) -> dict:
    return {
        "type": "track",
        "userId": "user-1",
        "event": event,
        "messageId": message_id,
        "timestamp": "2026-11-20T10:05:00Z",
        "properties": {"plan": "team"},
        "context": {"page": {"url": "https://acme.example/demo"}},
        **overrides,
    }


def page(message_id: str, **overrides) -> dict:
    return {
        "type": "page",
        "anonymousId": "anon-1",
        "name": "Pricing",
        "messageId": message_id,
        "properties": {"url": "https://acme.example/pricing", "title": "Pricing"},
        **overrides,
    }


def post(client, call: str, body: dict):
    # Encoded here: json.dumps escapes what the test client's renderer cannot encode
    # (a lone surrogate), as a sender's JSON library would.
    return client.post(f"/api/segment/v1/{call}", json.dumps(body), content_type="application/json")


def test_identify_creates_the_lead_with_its_traits_and_a_replay_changes_nothing(db, cdp):
    response = post(cdp, "identify", identify())

    assert response.status_code == 200, response.json()
    assert response.json()["success"] is True and response.json()["leads_created"] == 1
    lead = Lead.objects.get()
    assert (lead.email, lead.external_id, lead.first_name, lead.title, lead.company_name) == (
        "ada1@acme.example",
        "user-1",
        "Ada",
        "VP Engineering",
        "Acme",
    )
    assert lead.attributes == {"plan": "enterprise"}
    assert lead.source.slug == "cdp"
    assert set(Identity.objects.values_list("kind", "value")) == {
        ("user_id", "user-1"),
        ("anonymous_id", "anon-1"),
    }

    again = post(cdp, "identify", identify(traits={"title": "CTO"}))
    assert again.json()["leads_updated"] == 1
    assert Lead.objects.get().title == "CTO"  # found by its user id, though no email was sent
    assert Lead.objects.count() == 1


def test_identify_of_a_known_email_updates_that_lead(db, cdp):
    known = factories.make_lead("ada1@acme.example", title="Engineer")

    post(cdp, "identify", identify())

    known.refresh_from_db()
    assert known.title == "VP Engineering" and Lead.objects.count() == 1


def test_track_records_the_mapped_kind_and_keeps_unmapped_events_as_other_with_their_name(db, cdp):
    EventMapping.objects.create(event_name="Demo Requested", kind="demo_request")
    post(cdp, "identify", identify())

    response = post(
        cdp,
        "batch",
        {"batch": [track("t-1"), track("t-2", event="Whitepaper Shared")]},
    )

    assert response.json()["stored"] == 2
    rows = Activity.objects.order_by("external_id")
    assert [(a.kind, a.event_name, a.url, a.source_system) for a in rows] == [
        ("demo_request", "Demo Requested", "https://acme.example/demo", "segment"),
        ("other", "Whitepaper Shared", "https://acme.example/demo", "segment"),
    ]
    assert rows[1].kind_label == "Whitepaper Shared"  # what the lead page shows


def test_page_records_a_page_view_with_its_url(db, cdp):
    post(cdp, "identify", identify())

    post(cdp, "page", page("p-1"))

    view = Activity.objects.get()
    assert (view.kind, view.url, view.event_name) == (
        "page_view",
        "https://acme.example/pricing",
        "Pricing",
    )


def test_events_of_an_anonymous_visitor_are_held_then_attached_when_they_identify(db, cdp):
    early = post(cdp, "batch", {"batch": [page("p-1"), page("p-2", anonymousId="anon-1")]})
    assert early.json()["held"] == 2 and Activity.objects.count() == 0
    assert HeldEvent.objects.count() == 2

    identified = post(cdp, "identify", identify())

    assert identified.json()["stored"] == 2
    lead = Lead.objects.get()
    assert sorted(lead.activities.values_list("external_id", flat=True)) == ["p-1", "p-2"]
    assert HeldEvent.objects.count() == 0
    # From now on the anonymous id names the lead at once.
    later = post(cdp, "page", page("p-3"))
    assert later.json()["stored"] == 1 and lead.activities.count() == 3


def test_a_batch_identifies_before_it_records_so_order_within_it_does_not_lose_events(db, cdp):
    response = post(cdp, "batch", {"batch": [page("p-1"), identify()]})

    assert response.json()["stored"] == 1 and response.json()["held"] == 0
    assert Lead.objects.get().activities.count() == 1


def test_a_replayed_batch_counts_once(db, cdp):
    post(cdp, "identify", identify())
    batch = {"batch": [track("t-1"), track("t-2"), page("p-1", anonymousId="someone-else")]}

    first = post(cdp, "batch", batch).json()
    again = post(cdp, "batch", batch).json()

    assert (first["stored"], first["held"], first["duplicates"]) == (2, 1, 0)
    assert (again["stored"], again["held"], again["duplicates"]) == (0, 0, 3)
    assert Activity.objects.count() == 2 and HeldEvent.objects.count() == 1


def test_a_batch_with_bad_calls_names_each_by_index_and_field_and_stores_nothing(db, cdp):
    response = post(
        cdp,
        "batch",
        {
            "batch": [
                track("t-1"),
                track("t-2", event=""),
                page("p-1", properties={"url": "not a url"}),
                identify(userId=None, anonymousId=None),
                identify(2, traits={"email": "not-an-email"}),
                {"type": "alias", "userId": "x"},
                track("", userId="user-1"),
            ]
        },
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1", "2", "3", "4", "5", "6"}
    assert "event" in errors["1"]
    assert "properties.url" in errors["2"]
    assert "userId" in errors["3"]
    assert "traits.email" in errors["4"]
    assert "type" in errors["5"]
    assert "messageId" in errors["6"]
    assert Activity.objects.count() == 0 and Lead.objects.count() == 0


def test_an_identify_that_names_no_lead_is_refused_by_name(db, cdp):
    response = post(cdp, "batch", {"batch": [identify(userId=None, traits={"plan": "free"})]})

    assert response.status_code == 400
    assert "traits.email" in response.json()["errors"]["0"]


@pytest.mark.parametrize("body", [{}, {"batch": []}, {"batch": "calls"}, [1, 2]])
def test_a_batch_that_is_not_one_is_refused_by_name(db, cdp, body):
    response = cdp.post("/api/segment/v1/batch", body, format="json")

    assert response.status_code == 400
    assert "batch" in response.json()


def test_a_write_key_without_the_events_scope_is_refused_naming_it(db, integration_user):
    tracking = write_key_client(integration_user, scopes=[ApiTokenScope.ACTIVITIES_WRITE])

    response = post(tracking, "identify", identify())

    assert response.status_code == 403
    assert "events:write" in response.json()["detail"]


def test_an_unknown_or_malformed_write_key_gets_401(db, api_client):
    unknown = base64.b64encode(b"hk_nosuchkeynosuchkeynosuchkey:").decode()
    api_client.credentials(HTTP_AUTHORIZATION=f"Basic {unknown}")
    assert post(api_client, "identify", identify()).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Basic !!!")
    malformed = post(api_client, "identify", identify())
    assert malformed.status_code == 401 and "write key" in malformed.json()["detail"]


def test_the_write_key_may_also_be_sent_as_a_bearer_token(db, integration_user):
    issued = tokens.issue_token(
        name="CDP", scopes=[ApiTokenScope.EVENTS_WRITE], user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")

    assert post(client, "identify", identify()).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_segments_own_python_library_delivers_to_handoff(
    reference_data_kept, integration_user, live_server
):
    """analytics-python, as a Segment source would use it, pointed at Handoff."""
    from segment.analytics import Client

    issued = tokens.issue_token(
        name="Segment", scopes=[ApiTokenScope.EVENTS_WRITE], user=integration_user, by=None
    )
    EventMapping.objects.create(event_name="Demo Requested", kind="demo_request")
    failures: list[Exception] = []
    client = Client(
        issued.key,
        host=f"{live_server.url}/api/segment",
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, batch: failures.append(error),
    )

    client.page(
        anonymous_id="browser-7", name="Pricing", properties={"url": "https://acme.example/pricing"}
    )
    client.identify(
        user_id="u-7",
        anonymous_id="browser-7",
        traits={"email": "grace@navy.example", "name": "Grace Hopper"},
    )
    client.track(user_id="u-7", event="Demo Requested", properties={"seats": 40})
    client.flush()

    assert failures == []
    lead = Lead.objects.get(email="grace@navy.example")
    assert (lead.first_name, lead.last_name) == ("Grace", "Hopper")
    assert sorted(lead.activities.values_list("kind", flat=True)) == ["demo_request", "page_view"]


HOSTILE = ["\x00", "a\x00b", "\ud800", '=HYPERLINK("x")', " ", "a" * 5000, 12, None, [], {}]
PLACES = [
    ("userId",),
    ("anonymousId",),
    ("messageId",),
    ("event",),
    ("timestamp",),
    ("properties", "url"),
    ("properties", "nested"),
    ("context", "page", "url"),
    ("traits", "email"),
    ("traits", "firstName"),
    ("traits", "company"),
    ("traits", "address"),
]


@pytest.mark.parametrize("place", PLACES, ids=".".join)
def test_hostile_values_anywhere_get_200_or_a_400_that_names_the_call(db, cdp, place):
    """No value a sender can put in a call makes a server error."""
    for value in HOSTILE:
        calls = [identify(), track("t-1"), page("p-1")]
        for call in calls:
            target = call
            for key in place[:-1]:
                target = target.setdefault(key, {})
                if not isinstance(target, dict):
                    break
            else:
                target[place[-1]] = value
        response = post(cdp, "batch", {"batch": calls})

        assert response.status_code in (200, 400), (place, value, response.content[:300])
        if response.status_code == 400:
            assert response.json()["errors"], (place, value)


# Not named `context`: that is Playwright's browser-context fixture.
@pytest.mark.parametrize("call_context", ["x", {"page": "x"}, {"page": {"url": 5}}, {"page": None}])
def test_a_context_of_any_shape_is_no_server_error(db, cdp, call_context):
    response = post(cdp, "track", track("t-1", context=call_context))

    assert response.status_code in (200, 400)


def test_the_mappings_page_lists_the_event_names_arriving_unmapped(
    db, cdp, client_as, marketing_ops
):
    EventMapping.objects.create(event_name="Demo Requested", kind="demo_request")
    post(cdp, "identify", identify())
    post(
        cdp,
        "batch",
        {
            "batch": [
                track("t-1", event="Seat Added"),
                track("t-2", event="Seat Added"),
                track("t-3"),
            ]
        },
    )

    page = client_as(marketing_ops).get("/admin/leads/eventmapping/")

    assert page.status_code == 200
    assert [(r["event_name"], r["count"]) for r in page.context["unmapped"]] == [("Seat Added", 2)]
    assert "Seat Added" in page.content.decode()


def test_the_quick_path_reads_plain_calls_exactly_as_the_serializer_does(db):
    """A plain track or page call skips the serializer (most of a batch's cost):
    whatever the quick path takes, it must read as the serializer would."""
    from leads.intake_validation import CallSerializer, _datetime_parser, _event, _plain_event

    parse = _datetime_parser()
    samples = [
        track("t-1"),
        track(" t-2 ", event=" Demo Requested ", userId=" u ", anonymousId=""),
        track("t-3", timestamp=None, originalTimestamp="2026-11-20T10:05:00+02:00"),
        track("t-4", context={}, properties={"url": "https://a.example/x", "n": [1, {"b": None}]}),
        page("p-1", timestamp="2026-11-20T10:00:00Z"),
        page(
            "p-2",
            name=None,
            properties={},
            context={"page": {"url": "https://a.example/"}},
            originalTimestamp="2026-11-20T10:00:00Z",
        ),
        page("p-3", anonymousId=None, userId="u-9", timestamp="2026-11-20T10:00:00.5Z"),
    ]
    for call in samples:
        quick = _plain_event(call, parse)
        assert quick is not None, call
        serializer = CallSerializer(data=call)
        assert serializer.is_valid(), serializer.errors
        assert quick == _event(serializer.validated_data)[0], call
    for value in HOSTILE:
        for field in ("userId", "messageId", "event", "timestamp"):
            quick = _plain_event(track("t-9", **{field: value}), parse)
            if quick is not None:
                serializer = CallSerializer(data=track("t-9", **{field: value}))
                assert serializer.is_valid(), (field, value)
                slow = _event(serializer.validated_data)[0]
                assert slow is not None
                # Without a timestamp both take "now", a moment apart.
                assert replace(quick, occurred_at=None) == replace(slow, occurred_at=None)
