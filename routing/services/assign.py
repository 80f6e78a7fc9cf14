"""Routing an MQL to a queue and an SDR.

Safe under concurrency: an assignment locks the memberships of its queue (in
id order, so two routings never deadlock) and reads each member's open count
(``Membership.open_count``, see ``capacity``) inside that lock, so two MQLs
arriving at once cannot push an SDR over capacity; and a partial unique index
allows one open assignment per lead.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from handoff import audit
from handoff.enqueue import enqueue_on_commit
from handoff.errors import ConflictError, DomainError
from handoff.roles import SALES_MANAGER, has_role
from leads.models import Activity, Lead, Stage
from leads.services import set_owner
from routing.calendar import add_working_minutes
from routing.models import (
    OPEN_STATUSES,
    Assignment,
    AssignmentStatus,
    Membership,
    Queue,
    SLAPolicy,
    Strategy,
)
from routing.services.capacity import count_closed, count_opened, keep_pace, level_tally
from routing.services.events import announce_assigned, announce_reassigned
from routing.services.notices import tell_assigned, tell_taken_away
from scoring.models import Crossing, MQLSnapshot

logger = logging.getLogger(__name__)
RECENT_ACTIVITY_DAYS = 30


def match_queue(lead: Lead) -> tuple[Queue | None, str]:
    """The first active queue, by priority, whose criteria the lead meets, and why."""
    recent_kinds = set(
        Activity.objects.filter(
            lead=lead, occurred_at__gte=timezone.now() - timedelta(days=RECENT_ACTIVITY_DAYS)
        )
        .values_list("kind", flat=True)
        .distinct()
    )
    account = lead.account
    for queue in Queue.objects.filter(is_active=True).prefetch_related("sources"):
        reasons = []
        source_ids = {s.pk for s in queue.sources.all()}
        if source_ids:
            if lead.source_id not in source_ids:
                continue
            reasons.append(f"source is {lead.source.name}")
        if queue.activity_kinds:
            matched = sorted(recent_kinds & set(queue.activity_kinds))
            if not matched:
                continue
            reasons.append(f"recent {', '.join(matched)}")
        if queue.countries:
            if lead.country.lower() not in {c.lower() for c in queue.countries}:
                continue
            reasons.append(f"country is {lead.country}")
        employees = account.employee_count if account else None
        if queue.min_employees is not None or queue.max_employees is not None:
            if employees is None:
                continue
            if queue.min_employees is not None and employees < queue.min_employees:
                continue
            if queue.max_employees is not None and employees > queue.max_employees:
                continue
            reasons.append(f"company of {employees} employees")
        if queue.named_accounts_only:
            if not (account and account.is_target_account):
                continue
            reasons.append("named account")
        return queue, "; ".join(reasons) or "catch-all queue"
    return None, ""


def sla_times(
    policy: SLAPolicy, start: datetime, *, minutes: int | None = None
) -> tuple[datetime, datetime]:
    """(due, remind) for a clock started at ``start``: ``minutes`` (a queue's
    hand-raise SLA) or the policy's first-touch time, in its business hours."""
    minutes = minutes or policy.first_touch_minutes
    remind_minutes = minutes * policy.remind_at_percent / 100
    if policy.calendar is not None:
        calendar = policy.calendar.working_time()
        return (
            add_working_minutes(start, minutes, calendar),
            add_working_minutes(start, remind_minutes, calendar),
        )
    return start + timedelta(minutes=minutes), start + timedelta(minutes=remind_minutes)


# Why a lead that did not cross on its score went to sales (Assignment.why's
# "reason"): the lead page and routing's audit show it.
HAND_RAISER = "hand-raiser"
SENT_BY_HAND = "sent to sales by hand"


def crossing_of(lead: Lead) -> dict[str, str]:
    """How the lead's latest crossing into MQL came about, for the
    assignment's ``why``: nothing for a score, else the reason and its note
    (the hand-raise, or the person's reason)."""
    snapshot = (
        MQLSnapshot.objects.filter(lead=lead)
        .order_by("-created_at", "-id")
        .only("crossing", "crossing_note")
        .first()
    )
    if snapshot is None or snapshot.crossing == Crossing.SCORE:
        return {}
    reason = HAND_RAISER if snapshot.crossing == Crossing.HAND_RAISER else SENT_BY_HAND
    return {"reason": reason, "reason_note": snapshot.crossing_note}


def hand_raise_minutes(queue: Queue, why: dict[str, Any]) -> int | None:
    """The queue's own SLA for hand-raisers, when it has one and this is one."""
    return queue.hand_raise_sla_minutes if why.get("reason") == HAND_RAISER else None


@dataclass
class Pick:
    membership: Membership | None
    why: str
    skipped: list[dict[str, Any]]


def pick_sdr(queue: Queue, lead: Lead, *, exclude: set[int] | None = None) -> Pick:
    """Chooses who in the queue gets the lead. Locks the queue's memberships
    until the caller's transaction ends: their open counts, read under that
    lock, cannot change before the caller's assignment is counted."""
    now = timezone.now()
    members = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(queue=queue, is_active=True)
        .select_related("sdr")
        .order_by("pk")
    )
    load = {m.sdr_id: m.open_count for m in members}
    skipped, available = [], []
    for m in members:
        name = m.sdr.get_full_name() or m.sdr.username
        if exclude and m.sdr_id in exclude:
            skipped.append({"sdr": name, "reason": "had it before"})
        elif m.away_until and m.away_until > now:
            until = timezone.localtime(m.away_until)
            skipped.append({"sdr": name, "reason": f"away until {until:%Y-%m-%d %H:%M}"})
        elif load.get(m.sdr_id, 0) >= m.capacity:
            skipped.append({"sdr": name, "reason": f"full ({load.get(m.sdr_id, 0)}/{m.capacity})"})
        else:
            available.append(m)
    if not available:
        return Pick(None, "", skipped)

    chosen, why = _choose(queue, lead, available, load)
    # Those away keep pace with the queue while the lead goes to someone
    # else, so they come back level instead of taking every lead until their
    # tally catches up (see capacity.keep_pace).
    keep_pace(
        away=[m for m in members if m.away_until and m.away_until > now],
        available=available,
        chosen=chosen,
        strategy=queue.strategy,
    )
    return Pick(chosen, why, skipped)


def _choose(
    queue: Queue, lead: Lead, available: list[Membership], load: dict[int, int]
) -> tuple[Membership, str]:
    strategy = queue.strategy
    if strategy == Strategy.ACCOUNT_OWNER_FIRST and lead.account and lead.account.owner_id:
        owner = next((m for m in available if m.sdr_id == lead.account.owner_id), None)
        if owner is not None:
            return owner, "account owner"
    if strategy == Strategy.LEAST_LOADED:
        key, why = (lambda m: load.get(m.sdr_id, 0)), "fewest open MQLs"
    elif strategy == Strategy.WEIGHTED:
        key, why = (lambda m: m.assigned_count / m.weight), "weighted round robin"
    else:
        key, why = (lambda m: m.assigned_count), "round robin"
    lowest = min(key(m) for m in available)
    # Ties are broken at random, never by who joined first.
    return random.choice([m for m in available if key(m) == lowest]), why


def waiting_reason(queue: Queue, skipped: list[dict[str, Any]]) -> str:
    """Why nobody in the queue can take the lead, in the length the column
    holds: each member by name when that fits, else how many for each reason
    (a queue of fifty full SDRs once made the text too long, and routing
    failed). The names stay in the assignment's ``why``."""
    limit = Assignment._meta.get_field("waiting_reason").max_length or 0
    prefix = f"Nobody in {queue.name} can take it: "
    named = ", ".join(f"{s['sdr']} {s['reason']}" for s in skipped) or "no members"
    if len(prefix) + len(named) + 1 <= limit:
        return f"{prefix}{named}."
    kinds: dict[str, int] = {}
    for s in skipped:
        kind = s["reason"].split(" (")[0].split(" until ")[0]  # "full (3/3)" -> "full"
        kinds[kind] = kinds.get(kind, 0) + 1
    counted = ", ".join(
        f"{n} {'member' if n == 1 else 'members'} {kind}"
        for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"{prefix}{counted}."[:limit]


def _place(
    lead: Lead,
    queue: Queue,
    why: dict[str, Any],
    *,
    exclude: set[int] | None = None,
    visited: set[int] | None = None,
    reassigned_from: Assignment | None = None,
) -> Assignment:
    visited = (visited or set()) | {queue.pk}
    pick = pick_sdr(queue, lead, exclude=exclude)
    why = {
        **why,
        "strategy": queue.get_strategy_display(),
        "skipped": [*why.get("skipped", []), *[{**s, "queue": queue.name} for s in pick.skipped]],
    }
    if (
        pick.membership is None
        and queue.fallback_id
        and queue.fallback_id not in visited
        and queue.fallback is not None  # read only now: the checks above cost no query
    ):
        why["overflowed_from"] = [*why.get("overflowed_from", []), queue.name]
        return _place(
            lead,
            queue.fallback,
            why,
            exclude=exclude,
            visited=visited,
            reassigned_from=reassigned_from,
        )
    now = timezone.now()
    if pick.membership is None:
        return Assignment.objects.create(
            lead=lead,
            queue=queue,
            status=AssignmentStatus.WAITING,
            why=why,
            waiting_reason=waiting_reason(queue, pick.skipped),
            reassigned_from=reassigned_from,
        )
    membership = pick.membership
    count_opened(membership)
    due, remind = sla_times(queue.sla_policy, now, minutes=hand_raise_minutes(queue, why))
    why["sdr"] = membership.sdr.get_full_name() or membership.sdr.username
    why["chosen_because"] = pick.why
    # The SDR working a lead is its owner: that is what scopes the leads,
    # activities and scores an SDR may read through the API.
    set_owner(lead=lead, owner=membership.sdr)
    return Assignment.objects.create(
        lead=lead,
        queue=queue,
        sdr=membership.sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=now,
        due_at=due,
        remind_at=remind,
        why=why,
        reassigned_from=reassigned_from,
    )


@transaction.atomic
def route_mql(*, lead_id: int) -> Assignment | None:
    """Hands an MQL to the first matching queue and, if someone can take it, an
    SDR, with the SLA clock started. Idempotent: a lead that already has an open
    assignment keeps it. Returns None when the lead is not an MQL or no queue fits."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("account", "source")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None or lead.stage != Stage.MQL:
        return None
    existing = Assignment.objects.filter(lead=lead, status__in=OPEN_STATUSES).first()
    if existing is not None:
        return existing
    queue, criterion = match_queue(lead)
    if queue is None:
        logger.warning("No active queue takes MQL %s", lead_id)
        return None
    why = {"queue": queue.name, "matched_on": criterion, **crossing_of(lead)}
    assignment = _place(lead, queue, why)
    changes: dict[str, list[Any]] = {
        "sdr": [None, assignment.sdr_id],
        "queue": [None, queue.name],
    }
    if "reason" in why:
        changes["reason"] = [None, why["reason"]]
    audit.record(actor=None, action="assigned", obj=assignment, changes=changes)
    if assignment.sdr_id is not None:
        tell_assigned(assignment)
        announce_assigned(assignment)
    return assignment


@transaction.atomic
def reassign(
    *,
    assignment: Assignment,
    reason: str,
    by: User | None = None,
) -> Assignment:
    """Closes an open assignment and places the lead again, with someone else."""
    old = Assignment.objects.select_for_update().get(pk=assignment.pk)
    Assignment.objects.filter(pk=old.pk).update(
        status=AssignmentStatus.REASSIGNED, closed_at=timezone.now()
    )
    lead = Lead.objects.select_related("account", "source").get(pk=old.lead_id)
    new = _place(
        lead,
        old.queue,
        {"queue": old.queue.name, "matched_on": reason},
        exclude={old.sdr_id} if old.sdr_id else None,
        reassigned_from=old,
    )
    # Counted closed after _place has locked the queue's memberships in id
    # order: decrementing first would lock one member out of that order, and
    # two reassignments at once could then deadlock.
    if old.status == AssignmentStatus.OPEN:
        count_closed(queue_id=old.queue_id, sdr_id=old.sdr_id)
    audit.record(
        actor=by,
        action="reassigned",
        obj=new,
        changes={"sdr": [old.sdr_id, new.sdr_id]},
        note=reason,
    )
    tell_taken_away(old, reason=reason)
    if new.sdr_id is not None:
        tell_assigned(new)
    announce_reassigned(old=old, new=new, reason=reason)
    return new


@transaction.atomic
def assign_waiting(*, queue_id: int) -> int:
    """Gives waiting leads of a queue to SDRs who can now take them, oldest
    first. Returns how many were assigned."""
    assigned = 0
    queue = Queue.objects.select_related("sla_policy__calendar").get(pk=queue_id)
    for waiting in (
        Assignment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(queue=queue, status=AssignmentStatus.WAITING)
        .select_related("lead__account", "lead__source")
        .order_by("created_at")
    ):
        pick = pick_sdr(queue, waiting.lead)
        if pick.membership is None:
            break
        now = timezone.now()
        due, remind = sla_times(
            queue.sla_policy, now, minutes=hand_raise_minutes(queue, waiting.why)
        )
        count_opened(pick.membership)
        sdr = pick.membership.sdr
        set_owner(lead=waiting.lead, owner=sdr)
        waiting.why = {
            **waiting.why,
            "sdr": sdr.get_full_name() or sdr.username,
            "chosen_because": pick.why,
            "waited_since": waiting.created_at.isoformat(),
        }
        waiting.sdr, waiting.status, waiting.assigned_at = sdr, AssignmentStatus.OPEN, now
        waiting.due_at, waiting.remind_at, waiting.waiting_reason = due, remind, ""
        waiting.save(
            update_fields=[
                "sdr",
                "status",
                "assigned_at",
                "due_at",
                "remind_at",
                "why",
                "waiting_reason",
            ]
        )
        audit.record(
            actor=None,
            action="assigned",
            obj=waiting,
            changes={"sdr": [None, sdr.pk]},
            note="was waiting",
        )
        waiting.queue = queue  # already loaded: telling the SDR reads its chat webhook
        tell_assigned(waiting)
        announce_assigned(waiting)
        assigned += 1
    return assigned


@transaction.atomic
def join_queue(
    *,
    queue: Queue,
    sdr: User,
    capacity: int = 25,
    weight: int = 1,
    is_active: bool = True,
    away_until: datetime | None = None,
) -> Membership:
    """Adds an SDR to a queue. A newcomer starts level with the least-served
    active member, so round robin does not hand them every lead until they
    catch up; so does someone who rejoins behind (never lower than they were)."""
    was = Membership.objects.filter(queue=queue, sdr=sdr).values_list("assigned_count", flat=True)
    level = level_tally(
        queue=queue, weight=weight, exclude_sdr_id=sdr.pk, at_least=was.first() or 0
    )
    # Someone who rejoins may still hold open MQLs of this queue.
    holding = Assignment.objects.filter(queue=queue, sdr=sdr, status=AssignmentStatus.OPEN).count()
    seat = {"capacity": capacity, "weight": weight, "is_active": is_active, "assigned_count": level}
    membership, _ = Membership.objects.update_or_create(
        queue=queue,
        sdr=sdr,
        defaults=seat,
        # A rejoining SDR's absence, if any, is kept as it was.
        create_defaults={**seat, "away_until": away_until, "open_count": holding},
    )
    assign_waiting_on_commit(queue_id=queue.pk)
    return membership


@transaction.atomic
def update_membership(
    *,
    membership: Membership,
    capacity: int,
    weight: int,
    is_active: bool,
    away_until: datetime | None,
) -> Membership:
    """Changes an SDR's seat in a queue: how many open MQLs they may hold,
    their share, whether they take leads, and until when they are away.

    Writes only these columns: the counters (open and assigned MQLs) belong
    to routing, and a form's copy of them may be stale by the time it is
    saved; the one exception, a reactivated SDR's tally, is raised to the
    queue's level here, under the row's lock. When the SDR may
    now take more than before (a higher capacity, active again, back sooner),
    the queue's waiting leads are offered after commit, so they need not
    wait for the SLA watcher's next pass.
    """
    before = Membership.objects.select_for_update().get(pk=membership.pk)
    seat: dict[str, Any] = {
        "capacity": capacity,
        "weight": weight,
        "is_active": is_active,
        "away_until": away_until,
    }
    if is_active and not before.is_active:
        # Reactivated: routing did not see them while inactive, so they are
        # levelled with the active members now rather than take every lead
        # until their old tally catches up.
        seat["assigned_count"] = level_tally(
            queue=before.queue,
            weight=weight,
            exclude_sdr_id=before.sdr_id,
            at_least=before.assigned_count,
        )
    Membership.objects.filter(pk=before.pk).update(**seat)
    back_sooner = before.away_until is not None and (
        away_until is None or away_until < before.away_until
    )
    if capacity > before.capacity or (is_active and not before.is_active) or back_sooner:
        assign_waiting_on_commit(queue_id=before.queue_id)
    membership.capacity, membership.weight = capacity, weight
    membership.is_active, membership.away_until = is_active, away_until
    return membership


def assign_waiting_on_commit(*, queue_id: int) -> None:
    """Offers the queue's waiting leads again once the caller's transaction
    commits (a seat was freed or added). Should the message be lost, the SLA
    watcher assigns waiting leads too."""
    from routing.tasks import assign_waiting_leads

    enqueue_on_commit(assign_waiting_leads, queue_id=queue_id)


@transaction.atomic
def reassign_mqls(
    *, assignment_ids: list[int], to: User, reason: str, by: User
) -> list[Assignment]:
    """A sales manager hands open (or waiting) MQLs to ``to``, an SDR of
    their queues, with a reason: one MQL, or a whole SDR's queue when they
    are off sick.

    Guarantees: all or nothing; refused (DomainError naming the field) without
    a reason, by anyone but a sales manager, to someone who is not an active
    member of an MQL's queue or is away, and for an MQL that is no longer
    open or is already theirs. Each MQL gets a new assignment with its SLA
    clock started now (the old one is closed as reassigned, linked from the
    new one); capacity is not checked, since the manager chose; the lead's
    owner follows; the audit trail holds who, to whom and why; the SDR who
    had it and the new one are told.
    """
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why these MQLs are reassigned.", field="reason")
    if not has_role(by, SALES_MANAGER):
        raise DomainError("Only a sales manager can reassign MQLs.")
    if not assignment_ids:
        raise DomainError("Choose at least one MQL to reassign.", field="assignments")
    name = to.get_full_name() or to.username
    # Locked in id order: two managers moving overlapping sets cannot deadlock.
    olds = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(pk__in=assignment_ids)
        .select_related("lead__account", "lead__source", "queue__sla_policy__calendar", "sdr")
        .order_by("pk")
    )
    if len(olds) != len(set(assignment_ids)):
        raise DomainError("Some of these MQLs no longer exist.", field="assignments")
    seats = {
        m.queue_id: m
        for m in Membership.objects.select_for_update()
        .filter(sdr=to, queue_id__in={a.queue_id for a in olds}, is_active=True)
        .order_by("pk")
    }
    now = timezone.now()
    moved = []
    for old in olds:
        if old.status not in OPEN_STATUSES:
            raise ConflictError(
                f"{old.lead} was already {old.get_status_display().lower()}; nothing was changed."
            )
        if old.sdr_id == to.pk:
            raise DomainError(f"{old.lead} is already {name}'s.", field="to")
        seat = seats.get(old.queue_id)
        if seat is None:
            raise DomainError(f"{name} does not work the queue {old.queue}.", field="to")
        if seat.away_until and seat.away_until > now:
            until = timezone.localtime(seat.away_until)
            raise DomainError(f"{name} is away until {until:%Y-%m-%d %H:%M}.", field="to")
        Assignment.objects.filter(pk=old.pk).update(
            status=AssignmentStatus.REASSIGNED, closed_at=now
        )
        if old.status == AssignmentStatus.OPEN:
            count_closed(queue_id=old.queue_id, sdr_id=old.sdr_id)
        count_opened(seat)
        due, remind = sla_times(old.queue.sla_policy, now)
        set_owner(lead=old.lead, owner=to)
        new = Assignment.objects.create(
            lead=old.lead,
            queue=old.queue,
            sdr=to,
            status=AssignmentStatus.OPEN,
            assigned_at=now,
            due_at=due,
            remind_at=remind,
            why={
                **old.why,
                "sdr": name,
                "chosen_because": f"reassigned by {by.get_full_name() or by.username}: {reason}",
            },
            reassigned_from=old,
        )
        audit.record(
            actor=by,
            action="reassigned",
            obj=new,
            changes={"sdr": [old.sdr_id, to.pk]},
            note=reason,
        )
        if old.sdr_id is not None:
            tell_taken_away(old, reason=reason)
        tell_assigned(new)
        announce_reassigned(old=old, new=new, reason=reason)
        moved.append(new)
    return moved
