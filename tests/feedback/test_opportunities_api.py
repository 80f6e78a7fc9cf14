"""/api/opportunities/: the CRM pushes opportunities (an upsert by its id),
integrations, marketing ops and managers read them."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from feedback.models import Opportunity
from handoff.models import AuditEntry
from leads.models import Stage
from leads.services import change_stage
from routing.models import Assignment, AssignmentStatus, Queue
from routing.services import accept_mql
from tests import factories

URL = "/api/opportunities/"


def make_sal(sdr, **fields):
    lead = factories.make_lead(**fields)
    change_stage(lead=lead, to_stage=Stage.MQL)
    assignment = Assignment.objects.create(
        lead=lead,
        queue=Queue.objects.get(name="Inbound MQLs"),
        sdr=sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=timezone.now(),
    )
    accept_mql(assignment=assignment, by=sdr)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def lead(sdr):
    return make_sal(sdr, email="grace@navy.example", external_id="CRM-LEAD-7")


def payload(**overrides):
    return {
        "crm_id": "006-A1",
        "name": "Navy rollout",
        "amount": "12000.00",
        "created_on": "2025-03-12",
        **overrides,
    }


def audit_of(opportunity_id: int):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Opportunity), object_id=str(opportunity_id)
    )


def make_opportunity(lead, n: int, **fields) -> Opportunity:
    return Opportunity.objects.create(
        crm_id=f"006-{n}",
        lead=lead,
        amount=1000 * n,
        created_on=fields.pop("created_on", date(2025, 3, n)),
        **fields,
    )


# --- Upsert ---------------------------------------------------------------------------------


def test_post_creates_an_opportunity_and_moves_the_lead(integration_client, lead):
    response = integration_client.post(URL, payload(lead=lead.pk), format="json")

    assert response.status_code == 201
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("id", "updated_at")} == {
        "crm_id": "006-A1",
        "lead": lead.pk,
        "lead_email": "grace@navy.example",
        "lead_external_id": "CRM-LEAD-7",
        "name": "Navy rollout",
        "amount": "12000.00",
        "currency": "USD",
        "status": "open",
        "created_on": "2025-03-12",
        "closed_on": None,
    }
    lead.refresh_from_db()
    assert lead.stage == Stage.OPPORTUNITY


@pytest.mark.parametrize(
    "reference",
    [
        {"lead_email": "Grace@Navy.example"},
        {"lead_external_id": "CRM-LEAD-7"},
    ],
)
def test_the_lead_may_be_named_by_email_or_external_id(integration_client, lead, reference):
    response = integration_client.post(URL, payload(**reference), format="json")

    assert response.status_code == 201
    assert response.json()["lead"] == lead.pk


def test_post_with_a_known_crm_id_updates_it_and_answers_200(integration_client, lead):
    integration_client.post(URL, payload(lead=lead.pk), format="json")

    response = integration_client.post(
        URL, payload(lead=lead.pk, status="won", closed_on="2025-04-02"), format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["closed_on"]) == ("won", "2025-04-02")
    assert Opportunity.objects.count() == 1
    lead.refresh_from_db()
    assert lead.stage == Stage.WON


def test_the_same_payload_twice_changes_nothing(integration_client, lead):
    first = integration_client.post(URL, payload(lead=lead.pk), format="json")
    again = integration_client.post(URL, payload(lead=lead.pk, amount="12000"), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["updated_at"] == first.json()["updated_at"]
    assert audit_of(first.json()["id"]).count() == 1


def test_the_integration_is_the_actor_in_the_audit_trail(
    integration_client, integration_user, lead
):
    response = integration_client.post(URL, payload(lead=lead.pk), format="json")

    entry = audit_of(response.json()["id"]).get()
    assert (entry.action, entry.actor) == ("created", integration_user)


# --- Validation names the field ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({}, {"lead": ["Name the lead with exactly one of lead, lead_email, lead_external_id."]}),
        (
            {"lead": 1, "lead_email": "a@b.example"},
            {"lead": ["Name the lead with exactly one of lead, lead_email, lead_external_id."]},
        ),
        (
            {"lead_email": "nobody@nowhere.example"},
            {"lead_email": ["No lead matches this reference."]},
        ),
        ({"lead_external_id": "NOPE"}, {"lead_external_id": ["No lead matches this reference."]}),
        ({"lead": 999999}, {"lead": ["No lead matches this reference."]}),
    ],
)
def test_a_lead_reference_that_is_missing_or_unknown_is_refused(
    integration_client, lead, overrides, errors
):
    response = integration_client.post(URL, payload(**overrides), format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"status": "won"}, {"closed_on": ["A won or lost opportunity needs its close date."]}),
        (
            {"closed_on": "2025-03-01", "status": "lost"},
            {"closed_on": ["The close date cannot be before the creation date."]},
        ),
        ({"status": "maybe"}, {"status": ['"maybe" is not a valid choice.']}),
        ({"amount": "-5"}, {"amount": ["Ensure this value is greater than or equal to 0."]}),
        ({"amount": "1.234"}, {"amount": ["Ensure that there are no more than 2 decimal places."]}),
        ({"created_on": None}, {"created_on": ["This field may not be null."]}),
        (
            {"currency": "dollars"},
            {"currency": ["Ensure this field has no more than 3 characters."]},
        ),
        (
            {"currency": "us1"},
            {"currency": ["Give the currency as a three-letter code such as USD."]},
        ),
    ],
)
def test_invalid_fields_are_refused_naming_the_field(integration_client, lead, overrides, errors):
    response = integration_client.post(URL, payload(lead=lead.pk, **overrides), format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Opportunity.objects.count() == 0


def test_a_lead_sales_has_not_accepted_is_refused_on_the_lead_field(integration_client):
    mql = factories.make_lead()
    change_stage(lead=mql, to_stage=Stage.MQL)

    response = integration_client.post(URL, payload(lead=mql.pk), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "lead": [
            "This lead is MQL: an opportunity can only be opened for a sales accepted (SAL) or "
            "qualified (SQL) lead."
        ]
    }


# --- Who may ------------------------------------------------------------------------------------


def test_anonymous_requests_get_nothing(db, api_client):
    assert api_client.get(URL).status_code in (401, 403)
    assert api_client.post(URL, payload(), format="json").status_code in (401, 403)


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("sdr", 403, 403),
        ("marketing_ops", 200, 403),
        ("manager", 200, 403),
    ],
)
def test_only_integrations_push_and_only_ops_and_managers_read(
    request, api_as, lead, role, read, write
):
    client = api_as(request.getfixturevalue(role))

    assert client.get(URL).status_code == read
    assert client.post(URL, payload(lead=lead.pk), format="json").status_code == write


# --- Reading and filters --------------------------------------------------------------------


def test_retrieve_one(integration_client, lead):
    opportunity = make_opportunity(lead, 1)

    response = integration_client.get(f"{URL}{opportunity.pk}/")

    assert (response.status_code, response.json()["crm_id"]) == (200, "006-1")


def ids(response) -> list[str]:
    return [row["crm_id"] for row in response.json()["results"]]


def test_the_list_is_newest_first(integration_client, lead):
    for n in (1, 3, 2):
        make_opportunity(lead, n)

    assert ids(integration_client.get(URL)) == ["006-3", "006-2", "006-1"]


def test_filter_by_status(integration_client, lead):
    make_opportunity(lead, 1)
    make_opportunity(lead, 2, status="won", closed_on=date(2025, 4, 1))
    make_opportunity(lead, 3, status="lost", closed_on=date(2025, 4, 1))

    assert ids(integration_client.get(URL, {"status": ["won", "lost"]})) == ["006-3", "006-2"]


def test_filter_by_lead(integration_client, lead, sdr):
    other = make_sal(sdr)
    make_opportunity(lead, 1)
    make_opportunity(other, 2)

    assert ids(integration_client.get(URL, {"lead": other.pk})) == ["006-2"]


def test_filter_by_created_range(integration_client, lead):
    for n in (1, 10, 20):
        make_opportunity(lead, n)

    response = integration_client.get(
        URL, {"created_after": "2025-03-05", "created_before": "2025-03-15"}
    )

    assert ids(response) == ["006-10"]


@pytest.mark.parametrize("count", [1, 12])
def test_the_list_runs_the_same_queries_for_one_or_many(
    integration_client, lead, sdr, django_assert_num_queries, count
):
    for n in range(1, count + 1):
        make_opportunity(lead if n % 2 else make_sal(sdr), n)

    # Token and its user; its first use noted (at most once a minute); the user's
    # groups (who sees what); model permissions (the user's and their groups');
    # the count; the page with its leads.
    with django_assert_num_queries(7):
        response = integration_client.get(URL)

    assert len(response.json()["results"]) == count
