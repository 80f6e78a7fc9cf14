"""Erasure and export through the API and the admin: who may, what they get."""

import json

import pytest
from django.contrib.auth.models import Permission

from leads.models import Lead
from privacy.models import Erasure
from privacy.services import erase_person, export_person
from routing.models import Queue
from tests import factories
from tests.routing.test_queue_pages import mql_for, seat


@pytest.fixture
def lead(db):
    lead = factories.make_lead("ada@acme.example", first_name="Ada", last_name="Lovelace")
    factories.make_activity(lead, "page_view", url="https://acme.example/pricing")
    return lead


# --- Export ---------------------------------------------------------------------------------


def test_an_export_holds_the_lead_and_every_kind_of_row_about_it(lead):
    export = export_person(lead=lead)

    assert export["lead"]["email"] == "ada@acme.example"
    assert export["lead"]["id"] == lead.pk
    assert [a["url"] for a in export["activities"]] == ["https://acme.example/pricing"]
    assert set(export) == {
        "lead",
        "account",
        "activities",
        "stage_changes",
        "merges",
        "scores",
        "mql_snapshots",
        "assignments",
        "touches",
        "sql_qualifications",
        "opportunities",
        "audit_entries",
        "notices",
        "erasures",
    }
    json.dumps(export)  # as JSON, as it is


def test_an_export_holds_the_notices_about_the_person_s_hand_off(db, sdr):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    assignment = mql_for(sdr, 1, first_name="Ada", last_name="Lovelace")

    export = export_person(lead=assignment.lead)

    (notice,) = export["notices"]
    assert notice["text"].startswith(f"New MQL for you: {assignment.lead.email}, first touch due ")
    assert notice["user"] == sdr.pk
    assert [a["id"] for a in export["assignments"]] == [assignment.pk]


def test_marketing_ops_export_a_person_through_the_api(api_as, marketing_ops, lead):
    response = api_as(marketing_ops).get(f"/api/person-exports/{lead.pk}/")

    assert response.status_code == 200
    assert response.json()["lead"]["first_name"] == "Ada"
    assert len(response.json()["activities"]) == 1


@pytest.mark.parametrize("who", ["sdr", "manager"])
def test_other_roles_may_not_export(api_as, request, lead, who):
    response = api_as(request.getfixturevalue(who)).get(f"/api/person-exports/{lead.pk}/")

    assert response.status_code == 403


def test_exporting_a_lead_nobody_has_is_a_404(api_as, marketing_ops, db):
    assert api_as(marketing_ops).get("/api/person-exports/987654/").status_code == 404
    assert api_as(marketing_ops).get(f"/api/person-exports/{2**63}/").status_code == 404


def test_the_admin_downloads_a_person_s_export(client_as, marketing_ops, lead):
    response = client_as(marketing_ops).post("/admin/privacy/erasure/export/", {"lead": lead.pk})

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="lead-{lead.pk}.json"'
    assert json.loads(response.content)["lead"]["email"] == "ada@acme.example"


# --- Erasure ----------------------------------------------------------------------------------


def test_marketing_ops_erase_a_person_through_the_api(api_as, marketing_ops, lead):
    response = api_as(marketing_ops).post(
        "/api/erasures/", {"lead": lead.pk, "request_reference": "Ticket PRIV-7"}, format="json"
    )

    erasure = Erasure.objects.get()
    assert response.status_code == 201
    assert response.json()["pseudonym"] == erasure.pseudonym == f"erased-{erasure.pk}"
    assert response.json()["erased_by_name"] == "mo.ops"
    assert Lead.objects.get(pk=lead.pk).email is None


def test_an_erasure_under_legal_hold_is_refused_through_the_api(api_as, marketing_ops, lead):
    Lead.objects.filter(pk=lead.pk).update(legal_hold=True)

    response = api_as(marketing_ops).post(
        "/api/erasures/", {"lead": lead.pk, "request_reference": "Ticket PRIV-7"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Lead #{lead.pk} is under a legal hold: it cannot be erased until the hold "
        "is lifted."
    }
    assert Lead.objects.get(pk=lead.pk).email == "ada@acme.example"


def test_erasing_a_lead_nobody_has_names_the_field(api_as, marketing_ops, db):
    response = api_as(marketing_ops).post(
        "/api/erasures/", {"lead": 987654, "request_reference": "T"}, format="json"
    )

    assert (response.status_code, response.json()) == (
        400,
        {"lead": ["No lead has the id 987654."]},
    )


@pytest.mark.parametrize("who", ["sdr", "manager"])
def test_other_roles_may_not_erase(api_as, request, lead, who):
    response = api_as(request.getfixturevalue(who)).post(
        "/api/erasures/", {"lead": lead.pk, "request_reference": "T"}, format="json"
    )

    assert response.status_code == 403
    assert Erasure.objects.count() == 0


def test_ops_without_the_erase_permission_may_not_erase(api_as, marketing_ops, lead):
    marketing_ops.groups.get().permissions.remove(Permission.objects.get(codename="erase_person"))

    response = api_as(marketing_ops).post(
        "/api/erasures/", {"lead": lead.pk, "request_reference": "T"}, format="json"
    )

    assert response.status_code == 403


def test_the_admin_erases_a_person_once_confirmed(client_as, marketing_ops, lead):
    client = client_as(marketing_ops)

    unconfirmed = client.post(
        "/admin/privacy/erasure/erase/", {"lead": lead.pk, "request_reference": "Letter 3 May"}
    )
    confirmed = client.post(
        "/admin/privacy/erasure/erase/",
        {"lead": lead.pk, "request_reference": "Letter 3 May", "confirm": "on"},
        follow=True,
    )

    assert unconfirmed.status_code == 200
    assert "Tick this box to confirm: an erasure cannot be undone." in unconfirmed.text
    erasure = Erasure.objects.get()
    assert f"Erased lead #{lead.pk}: it is now {erasure.pseudonym}." in confirmed.text
    assert erasure.request_reference == "Letter 3 May"


def test_the_admin_says_why_an_erasure_is_refused(client_as, marketing_ops, lead):
    Lead.objects.filter(pk=lead.pk).update(legal_hold=True)

    page = client_as(marketing_ops).post(
        "/admin/privacy/erasure/erase/",
        {"lead": lead.pk, "request_reference": "Letter 3 May", "confirm": "on"},
    )

    assert "is under a legal hold" in page.text
    assert Erasure.objects.count() == 0


def test_the_admin_erasure_list_offers_both_requests(client_as, marketing_ops, db):
    page = client_as(marketing_ops).get("/admin/privacy/erasure/")

    assert page.status_code == 200
    assert ">Erase a person</a>" in page.text
    assert ">Export a person</a>" in page.text


def test_a_manager_gets_no_erase_or_export_page(client_as, manager, lead):
    client = client_as(manager)

    assert client.get("/admin/privacy/erasure/erase/").status_code == 403
    assert client.post("/admin/privacy/erasure/export/", {"lead": lead.pk}).status_code == 403


# --- The lists of erasures: the same number of queries for one or many ------------------------


def erased(n: int, by) -> None:
    for i in range(n):
        lead = factories.make_lead(f"gone{i}@example.org")
        erase_person(lead=lead, by=by, request_reference=f"Ticket {i}")


@pytest.mark.parametrize("n", [1, 4])
def test_the_erasures_list_in_the_api_takes_the_same_queries_for_one_or_many(
    api_as, marketing_ops, django_assert_num_queries, n
):
    erased(n, marketing_ops)
    client = api_as(marketing_ops)

    with django_assert_num_queries(4):
        response = client.get("/api/erasures/")

    assert response.json()["count"] == n
    assert [row["request_reference"] for row in response.json()["results"]][-1] == "Ticket 0"


@pytest.mark.parametrize("n", [1, 4])
def test_the_erasures_page_in_the_admin_takes_the_same_queries_for_one_or_many(
    client_as, marketing_ops, django_assert_num_queries, n
):
    erased(n, marketing_ops)
    client = client_as(marketing_ops)

    with django_assert_num_queries(10):
        page = client.get("/admin/privacy/erasure/")

    assert page.text.count('<td class="field-request_reference">') == n
