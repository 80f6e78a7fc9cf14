"""Each membership's count of open MQLs: routing reads it instead of counting
assignments, so it must always equal the real number."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from routing.models import Assignment, AssignmentStatus, Membership, SLAPolicy
from routing.services import (
    accept_mql,
    assign_waiting,
    join_queue,
    recycle_mql,
    reject_mql,
    repair_open_counts,
    route_mql,
    watch_sla_clocks,
)
from routing.services.assign import waiting_reason
from routing.services.capacity import Drift


def counters() -> dict[str, int]:
    return dict(Membership.objects.values_list("sdr__username", "open_count"))


def real() -> dict[str, int]:
    """Open assignments per member, counted from the assignments."""
    counted = Counter(
        dict(
            Assignment.objects.filter(status=AssignmentStatus.OPEN)
            .values_list("sdr__username")
            .annotate(n=Count("pk"))
            .order_by()
        )
    )
    return {
        username: counted[username]
        for username in Membership.objects.values_list("sdr__username", flat=True)
    }


def test_the_count_follows_routing_and_every_decision(inbound, make_sdr, make_mql):
    sam = make_sdr("sam", queue=inbound, capacity=3)
    first, second, third, fourth = (route_mql(lead_id=make_mql().pk) for _ in range(4))
    assert counters() == {"sam": 3}
    assert fourth.status == AssignmentStatus.WAITING

    accept_mql(assignment=first, by=sam)
    reject_mql(assignment=second, by=sam, reason="no_budget")
    assert counters() == {"sam": 1}

    assert assign_waiting(queue_id=inbound.pk) == 1  # the waiting one takes a free place
    assert counters() == {"sam": 2}
    recycle_mql(assignment=third, by=sam)
    assert counters() == real() == {"sam": 1}


def test_a_reassignment_after_a_breach_moves_the_count(inbound, make_sdr, make_mql):
    SLAPolicy.objects.filter(queues=inbound).update(reassign_after_minutes=30)
    make_sdr("sam", queue=inbound)
    assignment = route_mql(lead_id=make_mql().pk)
    make_sdr("olivia", queue=inbound)

    watch_sla_clocks(now=timezone.now() + timedelta(hours=25))  # breached
    watch_sla_clocks(now=timezone.now() + timedelta(hours=26))  # reassigned

    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REASSIGNED
    assert counters() == real() == {"sam": 0, "olivia": 1}


def test_someone_who_rejoins_a_queue_keeps_the_mqls_they_hold(inbound, make_sdr, make_mql):
    sam = make_sdr("sam", queue=inbound)
    route_mql(lead_id=make_mql().pk)
    route_mql(lead_id=make_mql().pk)
    Membership.objects.filter(sdr=sam).delete()

    join_queue(queue=inbound, sdr=sam, capacity=2)

    assert counters() == {"sam": 2}
    assert route_mql(lead_id=make_mql().pk).status == AssignmentStatus.WAITING


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_any_sequence_of_routings_and_decisions_the_count_is_the_real_one(
    seed, inbound, demo_queue, make_sdr, make_mql
):
    """A random mix of everything that opens or closes an assignment, in two
    queues (one overflowing into the other); the invariant after every step."""
    rng = random.Random(seed)
    sdrs = [
        make_sdr(name, queue=rng.choice([inbound, demo_queue]), capacity=rng.randint(1, 4))
        for name in ("sam", "olivia", "noor", "ken")
    ]
    for step in range(60):
        action = rng.choice(["route", "route", "accept", "reject", "recycle", "capacity"])
        open_ones = list(Assignment.objects.filter(status=AssignmentStatus.OPEN))
        if action == "route":
            route_mql(lead_id=make_mql(demo=rng.random() < 0.5).pk)
        elif action == "capacity":
            Membership.objects.filter(sdr=rng.choice(sdrs)).update(capacity=rng.randint(1, 4))
            assign_waiting(queue_id=rng.choice([inbound, demo_queue]).pk)
        elif open_ones:
            chosen = rng.choice(open_ones)
            if action == "accept":
                accept_mql(assignment=chosen, by=chosen.sdr)
            elif action == "reject":
                reject_mql(assignment=chosen, by=chosen.sdr, reason="bad_timing")
            else:
                recycle_mql(assignment=chosen, by=chosen.sdr)
        assert counters() == real(), f"seed {seed}, step {step} ({action})"
    assert Assignment.objects.filter(status=AssignmentStatus.OPEN).exists()


def test_the_repair_corrects_a_drifted_count_once(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    make_sdr("olivia", queue=inbound)
    for _ in range(3):
        route_mql(lead_id=make_mql().pk)
    before = counters()
    # An assignment deleted behind the services' back, and a hand edit.
    Assignment.objects.filter(sdr__username="sam").first().lead.delete()
    Membership.objects.filter(sdr__username="olivia").update(open_count=7)
    sam = Membership.objects.get(sdr__username="sam")
    olivia = Membership.objects.get(sdr__username="olivia")

    drifts = repair_open_counts()

    assert sorted(drifts, key=lambda d: d.membership_id) == sorted(
        [
            Drift(sam.pk, counted=before["sam"], real=before["sam"] - 1),
            Drift(olivia.pk, counted=7, real=before["olivia"]),
        ],
        key=lambda d: d.membership_id,
    )
    assert counters() == real()
    assert repair_open_counts() == []


def test_the_sla_watcher_task_repairs_the_counts(inbound, make_sdr, make_mql):
    from routing.tasks import run_sla_watcher as watcher_task

    make_sdr("sam", queue=inbound)
    route_mql(lead_id=make_mql().pk)
    Membership.objects.update(open_count=0)

    watcher_task()

    assert counters() == {"sam": 1}


# --- Waiting, visibly ----------------------------------------------------------------------


def test_a_queue_of_fifty_full_sdrs_still_lets_the_lead_wait_with_a_reason(
    inbound, make_sdr, make_mql
):
    for i in range(50):
        make_sdr(f"bench-sdr-with-a-long-name-{i:02d}", queue=inbound, capacity=0)

    waiting = route_mql(lead_id=make_mql().pk)

    assert waiting.status == AssignmentStatus.WAITING
    assert waiting.waiting_reason == "Nobody in Inbound MQLs can take it: 50 members full."
    assert len(waiting.why["skipped"]) == 50  # each one by name stays in the why


def test_a_long_waiting_reason_counts_each_kind_of_reason(inbound):
    skipped = (
        [{"sdr": f"sdr number {i}", "reason": f"full ({i}/{i})"} for i in range(20)]
        + [{"sdr": f"away sdr {i}", "reason": "away until 2025-03-14 12:00"} for i in range(3)]
        + [{"sdr": "last one", "reason": "had it before"}]
    )

    assert waiting_reason(inbound, skipped) == (
        "Nobody in Inbound MQLs can take it: 20 members full, 3 members away, "
        "1 member had it before."
    )


def test_one_mql_that_cannot_be_routed_does_not_stop_the_watchers_pass(
    inbound, make_sdr, make_mql, monkeypatch, caplog
):
    from routing.services import sla

    make_sdr("sam", queue=inbound)
    broken, fine = make_mql(), make_mql()
    real_route = sla.route_mql

    def route(*, lead_id):
        if lead_id == broken.pk:
            raise ValueError("bad data")
        return real_route(lead_id=lead_id)

    monkeypatch.setattr(sla, "route_mql", route)

    counts = watch_sla_clocks(now=timezone.now() + timedelta(minutes=1))

    assert counts["routed"] == 1
    assert list(Assignment.objects.values_list("lead", flat=True)) == [fine.pk]
    assert f"could not route MQL {broken.pk}" in caplog.text
