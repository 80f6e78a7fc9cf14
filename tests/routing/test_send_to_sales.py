"""Sending a lead to sales by hand: marketing ops and sales managers, with a
reason, from the API and the admin; then routed like any MQL."""

from __future__ import annotations

import pytest

from handoff.models import AuditEntry
from leads.models import Stage
from leads.services import change_stage, upsert_lead
from routing.models import Assignment, Queue
from scoring.models import Crossing, MQLSnapshot
from scoring.services import score_lead
from tests import factories


@pytest.fixture
def on_commit(celery_eager, django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def quiet_lead(db):
    """A lead whose score is far from the threshold."""
    lead, _ = upsert_lead(email="quiet@gmail.com", source=factories.source("cold_list"))
    score_lead(lead_id=lead.pk)
    return lead


def test_ops_send_a_lead_to_sales_through_the_api_and_it_is_routed(
    quiet_lead, api_as, marketing_ops, make_sdr, on_commit
):
    sam = make_sdr("sam", queue=Queue.objects.get(name="Inbound MQLs"))

    with on_commit():
        response = api_as(marketing_ops).post(
            f"/api/leads/{quiet_lead.pk}/send-to-sales/",
            {"reason": "Met them at the booth; they want a call"},
            format="json",
        )

    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "mql"
    quiet_lead.refresh_from_db()
    assert quiet_lead.stage == Stage.MQL
    change = quiet_lead.stage_changes.get()
    assert change.changed_by == marketing_ops
    assert change.reason.startswith(
        "Sent to sales by hand: Met them at the booth; they want a call"
    )
    snapshot = MQLSnapshot.objects.get(lead=quiet_lead)
    assert (snapshot.crossing, snapshot.sent_by, snapshot.total) == (
        Crossing.BY_HAND,
        marketing_ops,
        0,
    )
    assignment = Assignment.objects.get(lead=quiet_lead)
    assert (assignment.sdr, assignment.why["reason"]) == (sam, "sent to sales by hand")
    entry = AuditEntry.objects.get(action="sent_to_sales")
    assert (entry.actor, entry.changes["reason"]) == (
        marketing_ops,
        [None, "Met them at the booth; they want a call"],
    )


def test_sending_needs_a_reason(quiet_lead, api_as, manager):
    response = api_as(manager).post(
        f"/api/leads/{quiet_lead.pk}/send-to-sales/", {"reason": "  "}, format="json"
    )

    assert response.status_code == 400
    quiet_lead.refresh_from_db()
    assert quiet_lead.stage == Stage.LEAD


def test_a_lead_already_with_sales_is_refused_with_a_clear_message(quiet_lead, api_as, manager):
    change_stage(lead=quiet_lead, to_stage=Stage.MQL, reason="test")

    response = api_as(manager).post(
        f"/api/leads/{quiet_lead.pk}/send-to-sales/", {"reason": "hot"}, format="json"
    )

    assert response.status_code == 400
    assert "already with sales (MQL)" in str(response.json())


def test_a_disqualified_lead_is_refused(quiet_lead, api_as, manager):
    change_stage(lead=quiet_lead, to_stage=Stage.DISQUALIFIED, reason="competitor")

    response = api_as(manager).post(
        f"/api/leads/{quiet_lead.pk}/send-to-sales/", {"reason": "hot"}, format="json"
    )

    assert response.status_code == 400
    assert "disqualified" in str(response.json())
    assert not MQLSnapshot.objects.exists()


def test_an_sdr_may_not_send_a_lead_to_sales(quiet_lead, api_as, sdr):
    response = api_as(sdr).post(
        f"/api/leads/{quiet_lead.pk}/send-to-sales/", {"reason": "hot"}, format="json"
    )

    assert response.status_code == 403


def test_ops_send_a_lead_to_sales_from_its_admin_page(
    quiet_lead, client_as, marketing_ops, make_sdr, on_commit
):
    make_sdr("sam", queue=Queue.objects.get(name="Inbound MQLs"))
    client = client_as(marketing_ops)
    page = client.get(f"/admin/leads/lead/{quiet_lead.pk}/change/")
    assert f"/admin/leads/lead/{quiet_lead.pk}/send-to-sales/" in page.content.decode()

    with on_commit():
        response = client.post(
            f"/admin/leads/lead/{quiet_lead.pk}/send-to-sales/", {"reason": "Asked by phone"}
        )

    assert response.status_code == 302
    quiet_lead.refresh_from_db()
    assert quiet_lead.stage == Stage.MQL
    assert Assignment.objects.filter(lead=quiet_lead).count() == 1
