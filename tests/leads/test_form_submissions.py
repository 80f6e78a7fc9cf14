"""The one-call form endpoint: the lead and its submission (and hand-raise)
together, once per submission id."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from handoff import tokens
from handoff.models import ApiTokenScope
from leads.models import Activity, Lead
from tests import factories


def submission(n: int = 1, **overrides) -> dict:
    return {
        "submission_id": f"sub-{n}",
        "form": "Contact sales",
        "url": "https://acme.example/contact",
        "submitted_at": "2026-11-20T10:00:00Z",
        "email": "ada@acme.example",
        "first_name": "Ada",
        "title": "VP Engineering",
        "source": "inbound_form",
        "hand_raise": "demo_request",
        "answers": {"team_size": "50-200", "message": "Call me"},
        **overrides,
    }


@pytest.fixture
def forms_client(integration_user):
    """A web form's key: it may write leads, not read them."""
    issued = tokens.issue_token(
        name="Web forms", scopes=[ApiTokenScope.LEADS_WRITE], user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


def send(client, body):
    return client.post("/api/form-submissions/", body, format="json")


def test_one_call_creates_the_lead_and_records_the_submission_and_its_hand_raise(db, forms_client):
    response = send(forms_client, submission())

    assert response.status_code == 201, response.json()
    lead = Lead.objects.get()
    assert response.json() == {
        "submission_id": "sub-1",
        "lead": lead.pk,
        "lead_created": True,
        "duplicate": False,
    }
    assert (lead.email, lead.first_name, lead.source.slug) == (
        "ada@acme.example",
        "Ada",
        "inbound_form",
    )
    rows = {a.kind: a for a in lead.activities.all()}
    assert set(rows) == {"form_submit", "demo_request"}
    assert rows["form_submit"].properties == {
        "form": "Contact sales",
        "answers": {"team_size": "50-200", "message": "Call me"},
    }
    assert rows["form_submit"].url == "https://acme.example/contact"
    assert rows["demo_request"].event_name == "Contact sales"


def test_the_same_submission_sent_again_records_nothing_more(db, forms_client):
    send(forms_client, submission())

    again = send(forms_client, submission())

    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["lead_created"] is False
    assert Activity.objects.count() == 2 and Lead.objects.count() == 1


def test_a_new_submission_of_a_known_person_adds_to_their_lead(db, forms_client):
    send(forms_client, submission())

    second = send(forms_client, submission(2, hand_raise=""))

    assert second.status_code == 201 and second.json()["lead_created"] is False
    assert Lead.objects.get().activities.filter(kind="form_submit").count() == 2


def test_a_form_key_fills_in_blanks_but_never_overwrites_what_it_cannot_read(db, forms_client):
    known = factories.make_lead("ada@acme.example", title="CTO", first_name="")

    send(forms_client, submission(title="Intern"))

    known.refresh_from_db()
    assert (known.title, known.first_name) == ("CTO", "Ada")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"submission_id": ""}, "submission_id"),
        ({"email": "", "external_id": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"hand_raise": "Demo Request!"}, "hand_raise"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"source": "nowhere"}, "source"),
        ({"form": ""}, "form"),
        ({"answers": "all of them"}, "answers"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    db, forms_client, overrides, field
):
    response = send(forms_client, submission(**overrides))

    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.count() == 0 and Activity.objects.count() == 0


def test_a_token_without_leads_write_is_refused(db, integration_user):
    issued = tokens.issue_token(
        name="Tracking", scopes=[ApiTokenScope.ACTIVITIES_WRITE], user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")

    response = send(client, submission())

    assert response.status_code == 403 and "leads:write" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_the_same_submission_sent_twice_at_once_makes_one_lead_and_one_submission(
    reference_data_kept, integration_user
):
    issued = tokens.issue_token(
        name="Web forms", scopes=[ApiTokenScope.LEADS_WRITE], user=integration_user, by=None
    )
    answers: list[int] = []
    start = threading.Barrier(2)

    def submit():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        start.wait()
        try:
            answers.append(send(client, submission()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(answers) == [200, 201]
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(kind="form_submit").count() == 1
