"""The hand-raise fast lane: a demo request (or contact sales) from an
eligible lead routes it at once, whatever its score; a disqualified one is
held back and listed for marketing ops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from handoff.models import AuditEntry
from leads.models import Account, Stage
from leads.services import ActivityEvent, change_stage, record_activities, upsert_lead
from routing.models import Assignment, Queue
from scoring.models import Crossing, HandRaiseKind, HeldHandRaise, MQLSnapshot
from tests import factories


@pytest.fixture
def on_commit(celery_eager, django_capture_on_commit_callbacks):
    """Runs what the workers would run after commit, at once."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def raise_hand(lead, kind="demo_request", n=1):
    record_activities(
        events=[
            ActivityEvent(
                lead_id=lead.pk,
                kind=kind,
                occurred_at=timezone.now(),
                source_system="web",
                external_id=f"raise-{lead.pk}-{n}",
            )
        ]
    )


def test_a_low_fit_demo_request_is_routed_as_a_hand_raiser(db, make_sdr, on_commit):
    sam = make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    # A free-mail address, no title, no company: fit 0, engagement 30, total 30.
    lead, _ = upsert_lead(email="kim@gmail.com", source=factories.source("inbound_form"))

    with on_commit():
        raise_hand(lead)

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    snapshot = MQLSnapshot.objects.get(lead=lead)
    assert (snapshot.crossing, snapshot.total) == (Crossing.HAND_RAISER, 30)
    assert snapshot.eligible_source.slug == "inbound_form"
    assignment = Assignment.objects.get(lead=lead)
    assert (assignment.sdr, assignment.why["reason"]) == (sam, "hand-raiser")
    assert lead.stage_changes.get().reason.startswith("Hand-raiser: demo request on ")
    entry = AuditEntry.objects.get(action="assigned")
    assert entry.changes["reason"] == [None, "hand-raiser"]


def test_a_cold_list_contact_who_requests_a_demo_on_the_website_is_routed_within_seconds(
    db, integration_client, make_sdr, on_commit
):
    make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    Account.objects.create(name="Tiny", domain="tiny.example", employee_count=4)
    lead, _ = upsert_lead(email="lee@tiny.example", source=factories.source("cold_list"))
    submitted = timezone.now()

    with on_commit():
        response = integration_client.post(
            "/api/form-submissions/",
            {
                "submission_id": "demo-1",
                "form": "Request a demo",
                "submitted_at": submitted.isoformat(),
                "email": "lee@tiny.example",
                "source": "inbound_form",
                "hand_raise": "demo_request",
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    assignment = Assignment.objects.get(lead=lead)
    assert assignment.why["reason"] == "hand-raiser"
    assert assignment.assigned_at - submitted < timedelta(seconds=5)
    snapshot = MQLSnapshot.objects.get(lead=lead)
    # Scored -30 + 30: far from the threshold, routed all the same.
    assert (snapshot.crossing, snapshot.total) == (Crossing.HAND_RAISER, 0)
    assert snapshot.eligible_source.slug == "inbound_form"


def test_a_disqualified_hand_raiser_is_listed_for_ops_and_not_routed(db, make_sdr, on_commit):
    make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    lead, _ = upsert_lead(
        email="no@calls.example", do_not_contact=True, source=factories.source("inbound_form")
    )

    with on_commit():
        raise_hand(lead)
    with on_commit():
        raise_hand(lead, n=2)  # asking again is listed again

    lead.refresh_from_db()
    assert lead.stage == Stage.LEAD
    assert not Assignment.objects.filter(lead=lead).exists()
    held = HeldHandRaise.objects.filter(lead=lead)
    assert [h.rules for h in held] == [["Do not contact"], ["Do not contact"]]


def test_a_hand_raise_from_an_ineligible_lead_routes_nobody(db, make_sdr, on_commit):
    make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    lead, _ = upsert_lead(email="x@gmail.com", source=factories.source("cold_list"))

    with on_commit():
        raise_hand(lead)

    lead.refresh_from_db()
    assert lead.stage == Stage.LEAD
    assert not HeldHandRaise.objects.exists()


def test_only_the_kinds_ops_marked_are_hand_raises(db, make_sdr, on_commit):
    make_sdr("sam", queue=Queue.objects.get(name="Inbound MQLs"))
    HandRaiseKind.objects.filter(kind="contact_sales").delete()
    HandRaiseKind.objects.create(kind="webinar_registration")
    first, _ = upsert_lead(email="a@gmail.com", source=factories.source("inbound_form"))
    second, _ = upsert_lead(email="b@gmail.com", source=factories.source("inbound_form"))

    with on_commit():
        raise_hand(first, kind="contact_sales")
        raise_hand(second, kind="webinar_registration")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.stage, second.stage) == (Stage.LEAD, Stage.MQL)


def test_a_queue_gives_hand_raisers_its_own_sla(db, make_sdr, on_commit):
    inbound = Queue.objects.get(name="Inbound MQLs")
    inbound.hand_raise_sla_minutes = 15
    inbound.save()
    make_sdr("sam", queue=inbound)
    lead, _ = upsert_lead(email="c@gmail.com", source=factories.source("inbound_form"))

    with on_commit():
        raise_hand(lead, kind="contact_sales")

    assignment = Assignment.objects.get(lead=lead)
    assert assignment.due_at - assignment.assigned_at == timedelta(minutes=15)


def test_a_hand_raise_before_the_lead_was_sent_back_does_not_route_it_again(
    db, make_sdr, on_commit
):
    make_sdr("sam", queue=Queue.objects.get(name="Demo requests"))
    lead, _ = upsert_lead(email="d@gmail.com", source=factories.source("inbound_form"))
    with on_commit():
        raise_hand(lead)
    change_stage(lead=lead, to_stage=Stage.NURTURE, reason="not now")

    with on_commit():
        record_activities(
            events=[
                ActivityEvent(
                    lead_id=lead.pk,
                    kind="page_view",
                    occurred_at=timezone.now(),
                    source_system="web",
                    external_id="view-1",
                )
            ]
        )

    lead.refresh_from_db()
    assert lead.stage == Stage.NURTURE


def test_ops_see_the_hand_raisers_held_back_with_the_rule_that_held_them(
    db, make_sdr, on_commit, client_as, marketing_ops
):
    lead, _ = upsert_lead(
        email="held@calls.example", do_not_contact=True, source=factories.source("inbound_form")
    )
    client = client_as(marketing_ops)
    empty = client.get("/admin/scoring/heldhandraise/").content.decode()
    assert "0 hand-raisers held back" in empty
    with on_commit():
        raise_hand(lead)

    page = client.get("/admin/scoring/heldhandraise/").content.decode()

    assert "held@calls.example" in page
    assert '<td class="field-held_by_rules">Do not contact</td>' in page
    assert "1 hand-raiser held back" in page


def test_ops_mark_a_kind_as_a_hand_raise_in_the_admin_and_it_is_audited(
    db, client_as, marketing_ops
):
    response = client_as(marketing_ops).post(
        "/admin/scoring/handraisekind/add/", {"kind": "pricing_call_request"}
    )

    assert response.status_code == 302
    assert set(HandRaiseKind.objects.values_list("kind", flat=True)) == {
        "demo_request",
        "contact_sales",
        "pricing_call_request",
    }
    entry = AuditEntry.objects.get(action="added")
    assert (entry.actor, entry.changes) == (marketing_ops, {"kind": [None, "pricing_call_request"]})
