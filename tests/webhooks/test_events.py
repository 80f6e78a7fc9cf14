"""Each layer records its events, with the current state of what they concern,
in the transaction of the change: what a receiver gets for each type."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from feedback.services import qualify_sql, record_opportunity
from handoff.models import EventType, OutboxEvent
from routing.models import Assignment, Queue
from routing.services import accept_mql, reject_mql, watch_sla_clocks
from routing.services.assign import reassign
from routing.services.decisions import recycle_mql
from scoring import services as scoring_services
from scoring.selectors import live_model
from scoring.services.accounts import score_accounts
from tests.feedback.test_outcomes import BANT, make_sal
from tests.routing.test_queue_pages import mql_for, seat
from tests.scoring.test_accounts import company, contact


@pytest.fixture(autouse=True)
def subscribed(endpoint_to):
    """An endpoint that wants every type (its address is never called here)."""
    return endpoint_to("http://127.0.0.1:9/hooks")


@pytest.fixture
def desk(sdr, other_sdr):
    seat([sdr, other_sdr], [Queue.objects.get(name="Demo requests")])
    seat([sdr, other_sdr], [Queue.objects.get(name="Inbound MQLs")])


def events(type: EventType) -> list[dict]:
    return list(OutboxEvent.objects.filter(type=type).order_by("id").values_list("data", flat=True))


def test_a_lead_crossing_the_threshold_records_lead_mql_with_its_score(desk, sdr):
    assignment = mql_for(sdr, 1)

    (mql,) = events(EventType.LEAD_MQL)
    assert mql["lead"]["id"] == assignment.lead_id
    assert mql["lead"]["email"] == "ada1@acme1.example"
    assert mql["lead"]["stage"] == "mql"
    assert mql["score"]["total"] >= live_model().threshold
    assert mql["score"]["model_version"] == live_model().version
    assert mql["score"]["explanation"]  # the reasons, as sales see them


def test_routing_records_lead_assigned_to_whom_in_which_queue_due_when(desk, sdr):
    assignment = mql_for(sdr, 1)

    (assigned,) = events(EventType.LEAD_ASSIGNED)
    assert assigned["assignment"]["sdr"]["username"] == "sam.sdr"
    assert assigned["assignment"]["queue"]["name"] == assignment.queue.name
    assert assigned["assignment"]["due_at"] == assignment.due_at.isoformat()


def test_reassigning_records_lead_reassigned_with_the_previous_sdr_and_why(desk, sdr):
    assignment = mql_for(sdr, 1)

    reassign(assignment=assignment, reason="SDR out sick")

    (moved,) = events(EventType.LEAD_REASSIGNED)
    assert moved["previous_sdr"]["username"] == "sam.sdr"
    assert moved["assignment"]["sdr"]["username"] == "olivia.sdr"
    assert moved["reason"] == "SDR out sick"


def test_the_sla_watcher_records_reminders_and_breaches(desk, sdr):
    assignment = mql_for(sdr, 1)
    now = timezone.now()
    Assignment.objects.filter(pk=assignment.pk).update(
        remind_at=now - timedelta(minutes=1), due_at=now + timedelta(minutes=5)
    )
    watch_sla_clocks(now=now)
    watch_sla_clocks(now=now + timedelta(minutes=10))

    (reminder,) = events(EventType.SLA_REMINDER)
    (breach,) = events(EventType.SLA_BREACHED)
    assert reminder["assignment"]["id"] == breach["assignment"]["id"] == assignment.pk
    assert breach["assignment"]["breached_at"] is not None


def test_accept_reject_and_recycle_record_the_decision(desk, sdr):
    accepted, rejected, recycled = mql_for(sdr, 1), mql_for(sdr, 2), mql_for(sdr, 3)

    accept_mql(assignment=accepted, by=sdr)
    reject_mql(assignment=rejected, by=sdr, reason="no_budget", note="Frozen until Q3")
    recycle_mql(assignment=recycled, by=sdr)

    (yes,) = events(EventType.MQL_ACCEPTED)
    (no,) = events(EventType.MQL_REJECTED)
    (later,) = events(EventType.MQL_RECYCLED)
    assert (yes["lead"]["stage"], yes["assignment"]["status"]) == ("sal", "accepted")
    assert no["decision"] == {
        "by": no["decision"]["by"],
        "note": "Frozen until Q3",
        "reason": "no_budget",
        "reason_label": "No budget",
    }
    assert no["decision"]["by"]["username"] == "sam.sdr"
    assert later["lead"]["stage"] == "recycled"


def test_sql_records_bant_and_won_and_lost_opportunities_are_recorded(sdr):
    lead = make_sal(sdr)
    qualify_sql(lead=lead, by=sdr, **BANT)
    other = make_sal(sdr, email="bo@globex.example")
    qualify_sql(lead=other, by=sdr, **BANT)
    for crm_id, which, status in (("W-1", lead, "won"), ("L-1", other, "lost")):
        record_opportunity(
            crm_id=crm_id,
            lead=which,
            amount=Decimal("1200"),
            status="open",
            created_on=date(2026, 1, 5),
        )
        record_opportunity(
            crm_id=crm_id,
            lead=which,
            amount=Decimal("1200"),
            status=status,
            created_on=date(2026, 1, 5),
            closed_on=date(2026, 2, 1),
        )

    first, _ = events(EventType.LEAD_SQL)
    assert first["qualification"]["budget"] == "40k this quarter"
    assert first["lead"]["stage"] == "sql"
    (won,) = events(EventType.OPPORTUNITY_WON)
    (lost,) = events(EventType.OPPORTUNITY_LOST)
    assert (won["opportunity"]["crm_id"], won["lead"]["stage"]) == ("W-1", "won")
    assert (lost["opportunity"]["amount"], lost["lead"]["stage"]) == ("1200.00", "lost")


def test_an_account_becoming_an_mqa_is_recorded(db):
    acme = company()
    contact(acme, "CEO", "50")
    contact(acme, "Director of IT", "30")

    score_accounts(account_ids=[acme.pk])
    score_accounts(account_ids=[acme.pk])  # nothing new: no second event

    (mqa,) = events(EventType.ACCOUNT_MQA)
    assert mqa["account"]["domain"] == "acme.com"
    assert mqa["score"]["coverage"] == 75


def test_publishing_a_version_records_model_published(marketing_ops, manager):
    draft = scoring_services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")
    scoring_services.submit_model(model=draft, by=marketing_ops)
    scoring_services.approve_model(model=draft, by=manager)

    scoring_services.publish_model(model=draft, by=marketing_ops)

    (published,) = events(EventType.MODEL_PUBLISHED)
    assert published["model"]["version"] == draft.version
    assert published["model"]["published_by"]["username"] == "mo.ops"
