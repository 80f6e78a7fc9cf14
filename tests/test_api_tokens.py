"""API tokens per integration: scoped, stored hashed, revocable, audited;
throttling of the ingestion endpoints and the API's request size limit."""

import hashlib
import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from handoff import tokens
from handoff.errors import DomainError
from handoff.models import ApiToken, ApiTokenScope, AuditEntry
from leads.models import Lead
from leads.services import upsert_account
from tests import factories
from tests.test_settings import PRODUCTION_ENV, run_manage

ACTIVITIES = "/api/activities/"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def event(lead, n: int = 1) -> dict:
    return {
        "lead": lead.pk,
        "kind": "page_view",
        "occurred_at": "2026-01-05T10:00:00Z",
        "source_system": "web",
        "external_id": f"evt-{n}",
        "url": "https://www.example.com/pricing",
    }


@pytest.fixture
def tracking(integration_user, marketing_ops):
    """Web tracking: may send activity events, nothing else."""
    return tokens.issue_token(
        name="Web tracking",
        scopes=[ApiTokenScope.ACTIVITIES_WRITE],
        user=integration_user,
        by=marketing_ops,
    )


@pytest.fixture
def lead(db):
    return factories.make_lead("ada@acme.example")


# --- Issuing and storing -------------------------------------------------------------


def test_the_key_is_stored_only_as_a_hash(tracking):
    row = ApiToken.objects.filter(pk=tracking.token.pk).values().get()

    assert tracking.key not in json.dumps(row, default=str)
    assert row["key_hash"] == hashlib.sha256(tracking.key.encode()).hexdigest()
    assert row["prefix"] == tracking.key[:12]
    assert tracking.key.startswith("hnd_") and len(tracking.key) == 47


def test_issuing_is_audited_with_who_and_what(tracking, marketing_ops, integration_user):
    entry = AuditEntry.objects.get(action="token issued")

    assert (entry.actor, entry.object_id, entry.object_repr) == (
        marketing_ops,
        str(tracking.token.pk),
        f"Web tracking ({tracking.key[:12]}…)",
    )
    assert entry.changes == {
        "name": [None, "Web tracking"],
        "scopes": [None, ["activities:write"]],
        "user": [None, "crm-integration"],
        "prefix": [None, tracking.key[:12]],
    }
    assert tracking.key not in json.dumps(entry.changes)


def test_a_token_acts_only_as_an_integration_account(sdr, marketing_ops):
    with pytest.raises(DomainError) as refused:
        tokens.issue_token(name="Sneaky", scopes=["leads:read"], user=sdr, by=marketing_ops)

    assert refused.value.message == (
        "sam.sdr is not in the Integration group: tokens act only as integration accounts."
    )


def test_a_token_without_an_account_gets_a_new_integration_account(marketing_ops):
    issued = tokens.issue_token(name="Web forms", scopes=["leads:write"], by=marketing_ops)

    user = issued.token.user
    assert (user.username, user.has_usable_password()) == ("api-web-forms", False)
    assert list(user.groups.values_list("name", flat=True)) == ["Integration"]


def test_unknown_scopes_are_refused(marketing_ops, integration_user):
    with pytest.raises(DomainError) as refused:
        tokens.issue_token(
            name="CRM",
            scopes=["leads:write", "everything"],
            user=integration_user,
            by=marketing_ops,
        )

    assert refused.value.message.startswith("Unknown scope(s): everything. Known scopes: ")


# --- Using a token ------------------------------------------------------------------------


def test_a_token_inside_its_scopes_is_let_through(tracking, lead):
    response = client_with(tracking.key).post(ACTIVITIES, event(lead), format="json")

    assert response.status_code == 201
    assert response.json() == {"received": 1, "stored": 1, "duplicates": 0}


def test_a_token_outside_its_scopes_gets_403_naming_the_missing_scope(tracking, lead):
    client = client_with(tracking.key)

    write = client.post(
        "/api/leads/", {"email": "bob@acme.example", "source": "inbound_form"}, format="json"
    )
    read = client.get(ACTIVITIES)

    assert write.status_code == 403
    assert write.json()["detail"] == (
        'This API token lacks the scope "leads:write" that POST /api/leads/ needs; '
        "its scopes are: activities:write."
    )
    assert read.status_code == 403
    assert read.json()["detail"] == (
        'This API token lacks the scope "leads:read" that GET /api/activities/ needs; '
        "its scopes are: activities:write."
    )


def test_endpoints_closed_to_integrations_refuse_every_token(integration_client):
    response = integration_client.get("/api/queues/")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "API tokens may not GET /api/queues/: it is not open to integrations."
    )


def test_the_role_still_applies_inside_the_scopes(integration_user, marketing_ops, lead):
    """The Integration group has no delete or change on activities, whatever the scopes."""
    issued = tokens.issue_token(
        name="CRM", scopes=ApiTokenScope.values, user=integration_user, by=marketing_ops
    )

    response = client_with(issued.key).patch(
        f"/api/leads/{lead.pk}/", {"title": "CTO"}, format="json"
    )
    assert response.status_code == 200
    integration_user.groups.clear()
    response = client_with(issued.key).patch(
        f"/api/leads/{lead.pk}/", {"title": "CEO"}, format="json"
    )
    assert response.status_code == 403


def test_an_unknown_key_gets_401(db):
    response = client_with("hnd_" + "x" * 43).get(ACTIVITIES)

    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown API token."


def test_a_request_without_credentials_gets_401_with_the_scheme(db):
    response = APIClient().get(ACTIVITIES)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_token_gets_401_saying_so(tracking, marketing_ops, lead):
    client = client_with(tracking.key)
    assert client.post(ACTIVITIES, event(lead, 1), format="json").status_code == 201

    tokens.revoke_token(token=tracking.token, by=marketing_ops)
    response = client.post(ACTIVITIES, event(lead, 2), format="json")

    assert response.status_code == 401
    revoked = timezone.localtime(ApiToken.objects.get().revoked_at).strftime("%Y-%m-%d %H:%M %Z")
    assert response.json()["detail"] == (
        f"This API token ({tracking.key[:12]}…, Web tracking) was revoked on {revoked}; "
        "ask an administrator for a new one."
    )


def test_revoking_is_audited_and_happens_once(tracking, marketing_ops, manager):
    tokens.revoke_token(token=tracking.token, by=marketing_ops, note="laptop lost")

    with pytest.raises(DomainError) as twice:
        tokens.revoke_token(token=tracking.token, by=manager)

    token = ApiToken.objects.get()
    entry = AuditEntry.objects.get(action="token revoked")
    assert (token.revoked_by, entry.actor, entry.note) == (
        marketing_ops,
        marketing_ops,
        "laptop lost",
    )
    assert entry.changes == {"revoked_at": [None, token.revoked_at.isoformat()]}
    assert twice.value.message == f"The token {token} was already revoked."


def test_last_use_is_written_at_most_once_a_minute(tracking, lead, django_assert_num_queries):
    client = client_with(tracking.key)
    client.get("/api/")  # the first use is noted
    first = ApiToken.objects.get().last_used_at
    assert first is not None

    # token lookup, nothing else: no UPDATE within the minute
    with django_assert_num_queries(1):
        client.get("/api/")
    assert ApiToken.objects.get().last_used_at == first

    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/")
    assert ApiToken.objects.get().last_used_at > first


# --- Throttling -----------------------------------------------------------------------------


def rates(**changed) -> dict:
    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changed},
    }


def test_ingestion_beyond_the_rate_gets_429_with_retry_after(
    tracking, integration_user, marketing_ops, lead, monkeypatch
):
    other = tokens.issue_token(
        name="Web tracking EU", scopes=["activities:write"], user=integration_user, by=marketing_ops
    )
    client = client_with(tracking.key)
    # The clock stands still 20 s into a minute: the window cannot turn mid-test.
    now = (time.time() // 60) * 60 + 20
    monkeypatch.setattr("handoff.api.throttling.clock", lambda: now)

    with override_settings(REST_FRAMEWORK=rates(**{"ingest-activities": "2/min"})):
        answers = [
            client.post(ACTIVITIES, event(lead, n), format="json").status_code for n in range(3)
        ]
        throttled = client.post(ACTIVITIES, event(lead, 9), format="json")
        other_token = client_with(other.key).post(ACTIVITIES, event(lead, 10), format="json")

    assert answers == [201, 201, 429]
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "40"
    assert throttled.json()["detail"] == (
        "Too many requests: POST /api/activities/ is limited to 2/min for each API token "
        "(send events in batches of up to 1,000). Expected available in 40 seconds."
    )
    assert other_token.status_code == 201  # per token


def test_ingestion_goes_on_unthrottled_while_the_cache_is_down(tracking, lead, monkeypatch):
    class Unreachable:
        calls = 0

        def add(self, *args, **kwargs):
            Unreachable.calls += 1
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("handoff.api.throttling.shared_cache", Unreachable)
    monkeypatch.setattr("handoff.api.throttling._cache_down_until", 0.0)
    client = client_with(tracking.key)

    with override_settings(REST_FRAMEWORK=rates(**{"ingest-activities": "1/min"})):
        answers = [
            client.post(ACTIVITIES, event(lead, n), format="json").status_code for n in range(3)
        ]

    assert answers == [201, 201, 201]
    assert Unreachable.calls == 1  # then left alone for a while, not tried by every request


@pytest.mark.parametrize(
    ("cache_url", "backend"),
    [
        ("redis://127.0.0.1:6379/1", "django.core.cache.backends.redis.RedisCache"),
        ("", "django.core.cache.backends.filebased.FileBasedCache"),
    ],
)
def test_the_cache_is_shared_by_processes(cache_url, backend):
    """Throttling counts in the cache: it must be one every web process sees."""
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        env={**PRODUCTION_ENV, "CACHE_URL": cache_url},
    )

    assert result.stdout.strip().splitlines()[-1] == backend, result.stderr


def test_a_cache_url_of_another_kind_is_refused():
    result = run_manage("check", env={**PRODUCTION_ENV, "CACHE_URL": "memcached://x:11211"})

    assert result.returncode != 0
    assert "CACHE_URL must be a redis:// URL or empty (got 'memcached://x:11211')." in result.stderr


def test_reads_are_not_throttled(integration_client):
    with override_settings(REST_FRAMEWORK=rates(**{"ingest-activities": "1/min"})):
        answers = {integration_client.get(ACTIVITIES).status_code for _ in range(3)}

    assert answers == {200}


# --- Request size ---------------------------------------------------------------------------


def test_a_batch_of_a_thousand_events_is_well_under_the_size_limit(tracking, lead):
    batch = [
        {
            **event(lead, n),
            "properties": {"utm_source": "newsletter", "utm_campaign": f"spring-{n % 20}"},
        }
        for n in range(1000)
    ]
    body = json.dumps(batch).encode()

    response = client_with(tracking.key).post(ACTIVITIES, body, content_type="application/json")

    assert response.status_code == 201
    assert len(body) < settings.API_MAX_BODY_BYTES / 5


@override_settings(API_MAX_BODY_BYTES=2000)
def test_a_body_over_the_limit_gets_413_saying_the_limit(tracking, lead):
    body = json.dumps([event(lead, n) for n in range(20)]).encode()

    response = client_with(tracking.key).post(ACTIVITIES, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"Request body too large: the API takes at most 2,000 bytes (this one has "
        f"{len(body):,} bytes). Send events in batches of at most 1,000."
    )


@override_settings(API_MAX_BODY_BYTES=2000, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_django_refuses_to_read_gets_the_same_413(tracking, lead):
    body = json.dumps([event(lead, n) for n in range(20)]).encode()

    response = client_with(tracking.key).post(ACTIVITIES, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"].startswith(
        "Request body too large: the API takes at most 2,000 bytes"
    )


# --- Write-only tokens -----------------------------------------------------------------------


@pytest.fixture
def forms_token(integration_user, marketing_ops):
    """Web forms: may create and update leads and accounts, but not read them."""
    issued = tokens.issue_token(
        name="Web forms",
        scopes=[ApiTokenScope.LEADS_WRITE],
        user=integration_user,
        by=marketing_ops,
    )
    return client_with(issued.key)


@pytest.fixture
def known_lead(db):
    return factories.make_lead(
        "ada@acme.example",
        first_name="Ada",
        last_name="Lovelace",
        phone="+44 20 7946 0000",
        attributes={"plan": "enterprise"},
    )


def test_an_empty_patch_by_a_write_only_token_answers_the_id_alone(forms_token, known_lead):
    response = forms_token.patch(f"/api/leads/{known_lead.pk}/", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": known_lead.pk}


def test_a_patch_by_a_write_only_token_answers_only_what_it_sent(forms_token, known_lead):
    response = forms_token.patch(
        f"/api/leads/{known_lead.pk}/",
        {"title": "CTO", "attributes": {"seats": 5}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"id": known_lead.pk, "title": "CTO", "attributes": {"seats": 5}}
    known_lead.refresh_from_db()
    assert (known_lead.title, known_lead.attributes) == ("CTO", {"plan": "enterprise", "seats": 5})


def test_a_write_only_upsert_of_a_known_email_reads_nothing_and_renames_nobody(
    forms_token, known_lead
):
    response = forms_token.post(
        "/api/leads/",
        {
            "email": "ada@acme.example",
            "source": "webinar",
            "first_name": "Mallory",
            "title": "CTO",
            "attributes": {"plan": "free", "seats": 5},
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": known_lead.pk,
        "email": "ada@acme.example",
        "source": "webinar",
        "first_name": "Mallory",
        "title": "CTO",
        "attributes": {"plan": "free", "seats": 5},
    }
    known_lead.refresh_from_db()
    # What was blank is filled in; what was known stays.
    assert (known_lead.first_name, known_lead.title, known_lead.attributes) == (
        "Ada",
        "CTO",
        {"plan": "enterprise", "seats": 5},
    )


def test_a_write_only_token_creating_a_lead_gets_back_what_it_sent(forms_token, db):
    response = forms_token.post(
        "/api/leads/",
        {"email": "grace@navy.example", "source": "inbound_form", "first_name": "Grace"},
        format="json",
    )

    lead = Lead.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": lead.pk,
        "email": "grace@navy.example",
        "source": "inbound_form",
        "first_name": "Grace",
    }


def test_a_write_only_upsert_of_a_known_domain_neither_shows_nor_renames_the_account(
    forms_token, db
):
    account, _ = upsert_account(domain="acme.example", name="Acme", industry="Software")

    response = forms_token.post(
        "/api/accounts/",
        {"name": "Evil Corp", "domain": "acme.example", "employee_count": 250},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": account.pk,
        "name": "Evil Corp",
        "domain": "acme.example",
        "employee_count": 250,
    }
    account.refresh_from_db()
    assert (account.name, account.industry, account.employee_count) == ("Acme", "Software", 250)


def test_a_token_that_may_read_still_gets_the_whole_record_and_may_rename(
    integration_client, known_lead
):
    upsert_account(domain="acme.example", name="Acme")

    lead = integration_client.post(
        "/api/leads/",
        {"email": "ada@acme.example", "source": "inbound_form", "first_name": "Augusta"},
        format="json",
    )
    account = integration_client.post(
        "/api/accounts/", {"name": "Acme Corp", "domain": "acme.example"}, format="json"
    )

    assert (lead.json()["first_name"], lead.json()["phone"]) == ("Augusta", "+44 20 7946 0000")
    assert (account.json()["name"], account.json()["industry"]) == ("Acme Corp", "")


# --- The admin ------------------------------------------------------------------------------


def test_marketing_ops_issue_a_token_in_the_admin_and_see_the_key_once(client_as, marketing_ops):
    client = client_as(marketing_ops)

    page = client.post(
        "/admin/handoff/apitoken/add/", {"name": "Web forms", "scopes": ["leads:write"], "user": ""}
    )

    token = ApiToken.objects.get()
    key = page.context["key"]
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"].split(", ")
    assert "Copy the key now: it cannot be shown again." in page.text
    assert f'value="{key}"' in page.text
    assert tokens.token_for_key(key) == token
    assert (token.name, token.scopes, token.created_by) == (
        "Web forms",
        ["leads:write"],
        marketing_ops,
    )
    listing = client.get("/admin/handoff/apitoken/")
    detail = client.get(f"/admin/handoff/apitoken/{token.pk}/change/")
    assert key[:12] in listing.text and key not in listing.text
    assert key not in detail.text and 'name="_save"' not in detail.text


def test_the_admin_revoke_action_revokes_and_audits(client_as, marketing_ops, tracking):
    response = client_as(marketing_ops).post(
        "/admin/handoff/apitoken/",
        {"action": "revoke", "_selected_action": [tracking.token.pk]},
        follow=True,
    )

    token = ApiToken.objects.get()
    assert "1 token(s) revoked: their next request gets 401." in response.text
    assert (token.revoked_by, AuditEntry.objects.filter(action="token revoked").count()) == (
        marketing_ops,
        1,
    )


def test_sales_managers_see_tokens_but_neither_issue_nor_revoke(client_as, manager, tracking):
    client = client_as(manager)

    assert client.get("/admin/handoff/apitoken/").status_code == 200
    assert client.get("/admin/handoff/apitoken/add/").status_code == 403
    client.post(
        "/admin/handoff/apitoken/", {"action": "revoke", "_selected_action": [tracking.token.pk]}
    )
    assert ApiToken.objects.get().revoked_at is None


def test_tokens_are_neither_edited_nor_deleted_in_the_admin(client_as, marketing_ops, tracking):
    client = client_as(marketing_ops)
    url = f"/admin/handoff/apitoken/{tracking.token.pk}/"

    assert client.get(url + "delete/").status_code == 403
    client.post(url + "change/", {"name": "Renamed"})
    assert ApiToken.objects.get().name == "Web tracking"
    assert User.objects.filter(username="crm-integration").exists()
