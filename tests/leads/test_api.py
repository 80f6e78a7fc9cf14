from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Activity, Lead, Stage
from leads.services import change_stage, upsert_account
from tests import factories


def event(lead_ref: dict, n: int, **overrides) -> dict:
    return {
        **lead_ref,
        "kind": "pricing_page_view",
        "url": "https://example.com/pricing",
        "properties": {"plan": "team"},
        "occurred_at": "2026-11-20T10:00:00Z",
        "source_system": "web",
        "external_id": f"evt-{n}",
        **overrides,
    }


# --- who may ask ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/leads/", "/api/accounts/", "/api/activities/"])
def test_anonymous_requests_get_nothing(db, api_client, url):
    response = api_client.get(url)

    assert response.status_code in (401, 403)
    assert "results" not in response.json()


def test_a_user_without_a_role_gets_403(db, api_as, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password")

    assert api_as(nobody).get("/api/leads/").status_code == 403


def test_an_sdr_sees_only_leads_they_own(db, api_as, sdr, other_sdr):
    mine = factories.make_lead(owner=sdr)
    factories.make_lead(owner=other_sdr)

    response = api_as(sdr).get("/api/leads/")

    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_an_sdr_cannot_create_leads(db, api_as, sdr):
    response = api_as(sdr).post("/api/leads/", {"email": "x@y.io", "source": "api"}, format="json")

    assert response.status_code == 403
    assert Lead.objects.count() == 0


def test_token_authentication_works_for_integrations(db, integration_client):
    factories.make_lead()

    assert integration_client.get("/api/leads/").status_code == 200


# --- leads ------------------------------------------------------------------------


def test_post_creates_a_lead_then_updates_it_by_email(db, integration_client):
    created = integration_client.post(
        "/api/leads/",
        {"email": "Grace@Navy.mil", "source": "inbound_form", "first_name": "Grace"},
        format="json",
    )
    updated = integration_client.post(
        "/api/leads/",
        {"email": "grace@navy.mil", "source": "webinar", "title": "Rear Admiral"},
        format="json",
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["email"] == "grace@navy.mil"
    assert updated.json()["title"] == "Rear Admiral"
    assert updated.json()["first_name"] == "Grace"
    assert updated.json()["stage"] == "lead"
    assert Lead.objects.count() == 1


def test_post_lead_with_an_unknown_source_names_the_field(db, integration_client):
    response = integration_client.post(
        "/api/leads/", {"email": "a@b.io", "source": "carrier-pigeon"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["source"]


def test_post_lead_without_email_or_external_id_is_refused(db, integration_client):
    response = integration_client.post("/api/leads/", {"source": "api"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Give an email or an external_id."]}


def test_patch_changes_profile_fields_but_not_the_stage(db, integration_client):
    lead = factories.make_lead(attributes={"plan": "free"})

    response = integration_client.patch(
        f"/api/leads/{lead.pk}/",
        {"title": "CTO", "stage": "won", "attributes": {"seats": 5}},
        format="json",
    )

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.title == "CTO"
    assert lead.stage == Stage.LEAD
    assert lead.attributes == {"plan": "free", "seats": 5}


def test_leads_filter_by_stage_source_and_created_range(db, api_as, marketing_ops):
    mql = factories.make_lead()
    change_stage(lead=mql, to_stage=Stage.MQL)
    cold = factories.make_lead(source_slug="cold_list")
    old = factories.make_lead()
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    client = api_as(marketing_ops)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(query: dict) -> list[int]:
        return sorted(row["id"] for row in client.get("/api/leads/", query).json()["results"])

    assert ids({"stage": "mql"}) == [mql.pk]
    assert ids({"source": "cold_list"}) == [cold.pk]
    assert ids({"created_after": since}) == sorted([mql.pk, cold.pk])


@pytest.mark.parametrize("count", [1, 25])
def test_lead_list_makes_the_same_number_of_queries_whatever_the_page_size(
    db, api_as, marketing_ops, django_assert_num_queries, count
):
    for _ in range(count):
        factories.make_lead()
    client = api_as(marketing_ops)

    # user and group permissions (2) + the user's roles (1) + count (1) + page (1)
    with django_assert_num_queries(5):
        response = client.get("/api/leads/")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 25])
def test_activity_list_makes_a_constant_number_of_queries(
    db, api_as, marketing_ops, django_assert_num_queries, count
):
    lead = factories.make_lead()
    for _ in range(count):
        factories.make_activity(lead)
    client = api_as(marketing_ops)

    with django_assert_num_queries(5):
        response = client.get("/api/activities/")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 25])
def test_account_list_makes_a_constant_number_of_queries(
    db, api_as, marketing_ops, django_assert_num_queries, count
):
    for n in range(count):
        upsert_account(domain=f"company{n}.com", name=f"Company {n}")
    client = api_as(marketing_ops)

    with django_assert_num_queries(5):
        response = client.get("/api/accounts/")
    assert len(response.json()["results"]) == count


# --- accounts ------------------------------------------------------------------------


def test_post_account_normalises_the_domain_and_upserts(db, integration_client):
    first = integration_client.post(
        "/api/accounts/", {"name": "Acme", "domain": "WWW.ACME.com"}, format="json"
    )
    second = integration_client.post(
        "/api/accounts/",
        {"name": "Acme Corp", "domain": "acme.com", "employee_count": 250},
        format="json",
    )

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["domain"] == "acme.com"
    assert second.json()["employee_count"] == 250


def test_post_account_refuses_a_free_mail_domain(db, integration_client):
    response = integration_client.post(
        "/api/accounts/", {"name": "Gmail", "domain": "gmail.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"domain": ["gmail.com is a free-mail or disposable domain."]}


# --- activities ------------------------------------------------------------------------


def test_one_event_is_accepted_by_lead_email(db, integration_client):
    lead = factories.make_lead("pat@corp.io")

    response = integration_client.post(
        "/api/activities/", event({"lead_email": "PAT@corp.io"}, 1), format="json"
    )

    assert response.status_code == 201
    assert response.json() == {"received": 1, "stored": 1, "duplicates": 0}
    stored = Activity.objects.get()
    assert (stored.lead_id, stored.kind, stored.properties) == (
        lead.pk,
        "pricing_page_view",
        {"plan": "team"},
    )


def test_a_replayed_batch_is_stored_once(db, integration_client):
    lead = factories.make_lead()
    batch = [event({"lead": lead.pk}, n) for n in range(50)]

    first = integration_client.post("/api/activities/", batch, format="json")
    replay = integration_client.post("/api/activities/", batch, format="json")

    assert first.json() == {"received": 50, "stored": 50, "duplicates": 0}
    assert replay.status_code == 200
    assert replay.json() == {"received": 50, "stored": 0, "duplicates": 50}
    assert Activity.objects.count() == 50


def test_a_batch_with_bad_items_names_each_and_stores_none(db, integration_client):
    lead = factories.make_lead()
    batch = [
        event({"lead": lead.pk}, 1),
        event({"lead": lead.pk}, 2, occurred_at="yesterday"),
        event({"lead": lead.pk}, 3),
        event({"lead": lead.pk}, 4, kind="Pricing Page!"),
    ]

    response = integration_client.post("/api/activities/", batch, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == ["1", "3"]
    assert list(errors["1"]) == ["occurred_at"]
    assert list(errors["3"]) == ["kind"]
    assert Activity.objects.count() == 0


def test_a_batch_naming_an_unknown_lead_stores_none(db, integration_client):
    lead = factories.make_lead()
    batch = [event({"lead": lead.pk}, 1), event({"lead_email": "ghost@nowhere.io"}, 2)]

    response = integration_client.post("/api/activities/", batch, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"1": {"lead_email": ["No lead matches this reference."]}}
    assert Activity.objects.count() == 0


def test_an_event_must_name_its_lead_exactly_once(db, integration_client):
    lead = factories.make_lead("x@corp.io")

    response = integration_client.post(
        "/api/activities/", event({"lead": lead.pk, "lead_email": "x@corp.io"}, 1), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["0"] == {
        "lead": ["Name the lead with exactly one of lead, lead_email, lead_external_id."]
    }


def test_a_batch_over_1000_events_is_refused(db, integration_client):
    lead = factories.make_lead()
    batch = [event({"lead": lead.pk}, n) for n in range(1001)]

    response = integration_client.post("/api/activities/", batch, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "At most 1000 events per request (got 1001)."}
    assert Activity.objects.count() == 0


def test_an_sdr_cannot_push_events(db, api_as, sdr):
    lead = factories.make_lead(owner=sdr)

    response = api_as(sdr).post("/api/activities/", event({"lead": lead.pk}, 1), format="json")

    assert response.status_code == 403


# --- schema ------------------------------------------------------------------------


def test_openapi_schema_and_docs_are_served(db, client_as, marketing_ops):
    client = client_as(marketing_ops)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/activities/" in schema.json()["paths"]
    assert docs.status_code == 200
