from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from leads.services import upsert_account
from routing.models import Assignment, AssignmentStatus, Membership, Strategy
from routing.services import assign_waiting, join_queue, route_mql


def test_a_demo_request_goes_to_the_demo_queue_with_a_two_business_hour_clock(
    demo_queue, make_sdr, make_mql
):
    sam = make_sdr("sam", queue=demo_queue)
    lead = make_mql(demo=True)

    assignment = route_mql(lead_id=lead.pk)

    assert (assignment.queue, assignment.sdr, assignment.status) == (
        demo_queue,
        sam,
        AssignmentStatus.OPEN,
    )
    assert assignment.why["matched_on"] == "recent demo_request"
    assert assignment.why["sdr"] == "sam"
    assert assignment.due_at > assignment.assigned_at


def test_routing_twice_keeps_the_one_open_assignment(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    lead = make_mql()

    first = route_mql(lead_id=lead.pk)
    again = route_mql(lead_id=lead.pk)

    assert again == first
    assert Assignment.objects.count() == 1


def test_a_lead_never_has_two_open_assignments(inbound, make_sdr, make_mql):
    sam = make_sdr("sam", queue=inbound)
    lead = make_mql()
    route_mql(lead_id=lead.pk)

    with pytest.raises(IntegrityError):
        Assignment.objects.create(lead=lead, queue=inbound, sdr=sam, status=AssignmentStatus.OPEN)


def test_round_robin_shares_evenly(inbound, make_sdr, make_mql):
    for name in ("sam", "olivia", "noor"):
        make_sdr(name, queue=inbound)

    owners = Counter(route_mql(lead_id=make_mql().pk).sdr.username for _ in range(9))

    assert owners == {"sam": 3, "olivia": 3, "noor": 3}


def test_a_newcomer_joins_level_with_the_others_instead_of_taking_every_lead(
    inbound, make_sdr, make_mql
):
    make_sdr("sam", queue=inbound)
    make_sdr("olivia", queue=inbound)
    for _ in range(6):
        route_mql(lead_id=make_mql().pk)
    make_sdr("noor", queue=inbound)

    owners = Counter(route_mql(lead_id=make_mql().pk).sdr.username for _ in range(3))

    assert owners == {"sam": 1, "olivia": 1, "noor": 1}


def test_weighted_routing_gives_twice_the_share_to_weight_two(inbound, make_sdr, make_mql):
    inbound.strategy = Strategy.WEIGHTED
    inbound.save()
    make_sdr("sam", queue=inbound, weight=2)
    make_sdr("olivia", queue=inbound, weight=1)

    owners = Counter(route_mql(lead_id=make_mql().pk).sdr.username for _ in range(9))

    assert owners == {"sam": 6, "olivia": 3}


def test_an_away_sdr_is_skipped_and_the_reason_recorded(inbound, make_sdr, make_mql):
    sam = make_sdr("sam", queue=inbound)
    make_sdr("olivia", queue=inbound)
    Membership.objects.filter(sdr=sam).update(away_until=timezone.now() + timedelta(days=2))

    assignments = [route_mql(lead_id=make_mql().pk) for _ in range(3)]

    assert {a.sdr.username for a in assignments} == {"olivia"}
    assert assignments[0].why["skipped"][0]["sdr"] == "sam"
    assert assignments[0].why["skipped"][0]["reason"].startswith("away until ")


def test_the_account_owner_gets_their_accounts_leads(demo_queue, make_sdr, make_mql):
    make_sdr("sam", queue=demo_queue)
    olivia = make_sdr("olivia", queue=demo_queue)
    upsert_account(domain="acme.com", name="Acme", owner=olivia)

    owners = {
        route_mql(lead_id=make_mql(demo=True, email=f"p{n}@acme.com").pk).sdr for n in range(3)
    }

    assert owners == {olivia}


def test_when_the_queue_is_full_the_lead_overflows_to_the_fallback(
    demo_queue, inbound, make_sdr, make_mql
):
    make_sdr("sam", queue=demo_queue, capacity=1)
    olivia = make_sdr("olivia", queue=inbound)
    route_mql(lead_id=make_mql(demo=True).pk)

    overflow = route_mql(lead_id=make_mql(demo=True).pk)

    assert (overflow.queue, overflow.sdr) == (inbound, olivia)
    assert overflow.why["overflowed_from"] == ["Demo requests"]
    assert overflow.why["skipped"][0] == {
        "sdr": "sam",
        "reason": "full (1/1)",
        "queue": "Demo requests",
    }


def test_when_nobody_can_take_it_the_lead_waits_visibly_and_is_assigned_later(
    inbound, make_sdr, make_mql
):
    sam = make_sdr("sam", queue=inbound, capacity=1)
    route_mql(lead_id=make_mql().pk)

    waiting = route_mql(lead_id=make_mql().pk)
    assert waiting.status == AssignmentStatus.WAITING
    assert waiting.sdr is None
    assert waiting.waiting_reason == "Nobody in Inbound MQLs can take it: sam full (1/1)."

    Membership.objects.filter(sdr=sam).update(capacity=2)
    assert assign_waiting(queue_id=inbound.pk) == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.sdr) == (AssignmentStatus.OPEN, sam)


def test_join_queue_updates_an_existing_membership(inbound, make_sdr):
    sam = make_sdr("sam", queue=inbound)

    join_queue(queue=inbound, sdr=sam, capacity=5)

    assert Membership.objects.get(sdr=sam).capacity == 5
