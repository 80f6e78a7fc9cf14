"""Eligibility per touch: a lead may become an MQL when any source it arrived
from is eligible, its first or a later one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from handoff import tokens
from handoff.models import ApiTokenScope
from leads.models import Account, LeadTouch, Stage
from leads.services import upsert_lead
from routing.models import Assignment, Queue
from scoring.models import LeadScore
from scoring.services import score_lead
from tests import factories


@pytest.fixture
def forms_client(integration_user):
    issued = tokens.issue_token(
        name="Web forms", scopes=[ApiTokenScope.LEADS_WRITE], user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


def cold_list_contact():
    """A VP at a 500-person company, first imported from a cold list, who
    looked at pricing: 75 points, which the cold list alone never lets count."""
    Account.objects.create(name="Acme", domain="acme.example", employee_count=500)
    lead, _ = upsert_lead(
        email="ada@acme.example", title="VP Sales", source=factories.source("cold_list")
    )
    factories.make_activity(lead, "pricing_page_view")
    return lead


def test_a_cold_list_contact_scores_but_never_qualifies_on_its_first_source_alone(db):
    lead = cold_list_contact()
    factories.make_activity(lead, "demo_request")

    score = score_lead(lead_id=lead.pk)

    assert (score.total, score.qualifies) == (75, False)
    lead.refresh_from_db()
    assert lead.stage == Stage.LEAD


def test_the_cold_list_contact_who_submits_the_website_demo_form_becomes_an_mql_and_is_routed(
    db, forms_client, make_sdr, celery_eager, django_capture_on_commit_callbacks
):
    sam = make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    lead = cold_list_contact()

    with django_capture_on_commit_callbacks(execute=True):
        response = forms_client.post(
            "/api/form-submissions/",
            {
                "submission_id": "web-1",
                "form": "Request a demo",
                "submitted_at": timezone.now().isoformat(),
                "email": "ada@acme.example",
                "source": "inbound_form",
                "hand_raise": "demo_request",
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    lead.refresh_from_db()
    assert (lead.source.slug, lead.stage) == ("cold_list", Stage.MQL)
    assert [(t.source.slug) for t in lead.touches.order_by("first_seen_at", "id")] == [
        "cold_list",
        "inbound_form",
    ]
    assignment = Assignment.objects.get(lead=lead)
    assert assignment.sdr == sam


def test_a_touch_is_kept_once_per_source_with_when_it_was_first_seen(db):
    lead, _ = upsert_lead(email="bo@beta.example", source=factories.source("cold_list"))
    first = LeadTouch.objects.get(lead=lead)
    LeadTouch.objects.filter(pk=first.pk).update(
        first_seen_at=first.first_seen_at - timedelta(days=3)
    )

    upsert_lead(email="bo@beta.example", source=factories.source("cold_list"))
    upsert_lead(email="bo@beta.example", source=factories.source("inbound_form"))

    touches = list(lead.touches.order_by("first_seen_at").values_list("source__slug", flat=True))
    assert touches == ["cold_list", "inbound_form"]
    assert LeadTouch.objects.get(lead=lead, source__slug="cold_list").first_seen_at == (
        first.first_seen_at - timedelta(days=3)
    )


def test_an_ineligible_later_touch_makes_no_one_eligible(db):
    lead = cold_list_contact()
    factories.make_activity(lead, "demo_request")
    upsert_lead(email="ada@acme.example", source=factories.source("event_list_import"))

    score_lead(lead_id=lead.pk)

    assert LeadScore.objects.get(lead=lead).qualifies is False


def test_the_lead_page_names_the_touch_that_made_it_eligible_and_the_hand_raise(
    db, forms_client, make_sdr, client_as, celery_eager, django_capture_on_commit_callbacks
):
    sam = make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    lead = cold_list_contact()
    with django_capture_on_commit_callbacks(execute=True):
        forms_client.post(
            "/api/form-submissions/",
            {
                "submission_id": "web-2",
                "form": "Request a demo",
                "submitted_at": timezone.now().isoformat(),
                "email": "ada@acme.example",
                "source": "inbound_form",
                "hand_raise": "demo_request",
            },
            format="json",
        )
    assignment = Assignment.objects.get(lead=lead)

    page = client_as(sam).get(f"/queue/{assignment.pk}/").content.decode()

    assert "Eligible through Inbound form, a later touch (first seen " in page
    assert "it first came from Cold list)" in page
    assert "<strong>Hand-raiser:</strong> Demo request on " in page
    assert "<dt>Reason</dt><dd>Hand-raiser: demo request on " in page
