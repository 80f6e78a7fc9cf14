"""How many MQLs each SDR holds open in each queue: the counter routing reads.

``Membership.open_count`` is the number of the queue's assignments that are
open with the SDR. Every service that opens or closes an assignment changes it
in the same transaction, by one, through the two functions below; routing
reads it under the memberships' row locks (see ``assign.pick_sdr``). So the
capacity check costs one row per member instead of counting the queue's open
assignments on every routing.

The counter can still drift when rows change outside the services (an
assignment deleted with its lead, a membership removed and added again while
its SDR holds open MQLs, a hand edit in the database). The SLA watcher's task
runs :func:`repair_open_counts` after each pass: a cheap comparison without
locks, and only where it finds a difference, a recount under the locks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

from django.db import transaction
from django.db.models import Count, F

from routing.models import Assignment, AssignmentStatus, Membership, Queue, Strategy

logger = logging.getLogger(__name__)


def count_opened(membership: Membership) -> None:
    """An assignment was just opened with this member (whose row the caller has
    locked): one more open MQL, and one more in the round robin's tally."""
    Membership.objects.filter(pk=membership.pk).update(
        open_count=F("open_count") + 1, assigned_count=F("assigned_count") + 1
    )


def count_closed(*, queue_id: int, sdr_id: int | None) -> None:
    """An open assignment of this queue and SDR was just closed (accepted,
    rejected, recycled or reassigned). A counter already at 0 has drifted: it
    stays at 0 (the column is unsigned) and the next repair recounts it."""
    if sdr_id is None:
        return
    Membership.objects.filter(queue_id=queue_id, sdr_id=sdr_id, open_count__gt=0).update(
        open_count=F("open_count") - 1
    )


# The round robin's tally (``Membership.assigned_count``) counts the leads a
# member was given, and also the turns they let pass while away, or the level
# they started at when they joined or were reactivated: balancing compares
# members only over the time they could all take leads. Without this, an SDR
# back from two weeks away took every lead until their tally caught up.


def _tally(member: Membership, *, strategy: str, extra: int = 0) -> Fraction:
    """How far the member has been served, in the queue's strategy's terms
    (a weighted member's share counts per unit of weight)."""
    weight = member.weight if strategy == Strategy.WEIGHTED else 1
    return Fraction(member.assigned_count + extra, max(weight, 1))


def _seat_count(level: Fraction, *, weight: int, strategy: str) -> int:
    """The tally that puts a member of this weight at ``level`` (rounded down:
    at most one lead early, never one late)."""
    weight = max(weight, 1) if strategy == Strategy.WEIGHTED else 1
    return level.numerator * weight // level.denominator


def keep_pace(
    *,
    away: list[Membership],
    available: list[Membership],
    chosen: Membership,
    strategy: str,
) -> None:
    """A lead was just given to ``chosen``: raises the tally of each away member
    (whose rows the caller has locked) that has fallen below the level of
    those who could take it, so that they come back level, not behind."""
    if not away:
        return
    level = min(
        _tally(m, strategy=strategy, extra=1 if m.pk == chosen.pk else 0) for m in available
    )
    for member in away:
        target = _seat_count(level, weight=member.weight, strategy=strategy)
        if member.assigned_count < target:
            Membership.objects.filter(pk=member.pk).update(assigned_count=target)
            member.assigned_count = target


def level_tally(
    *, queue: Queue, weight: int, exclude_sdr_id: int | None = None, at_least: int = 0
) -> int:
    """The tally a member of ``weight`` joining (or rejoining) ``queue`` starts
    at: level with the least-served active member, or ``at_least`` if higher."""
    others = list(
        Membership.objects.filter(queue=queue, is_active=True)
        .exclude(sdr_id=exclude_sdr_id)
        .only("assigned_count", "weight")
    )
    if not others:
        return at_least
    level = min(_tally(m, strategy=queue.strategy) for m in others)
    return max(at_least, _seat_count(level, weight=weight, strategy=queue.strategy))


def real_open_counts(membership_ids: list[int] | None = None) -> dict[int, int]:
    """Membership id -> its open assignments, counted from the assignments."""
    memberships = Membership.objects.all()
    if membership_ids is not None:
        memberships = memberships.filter(pk__in=membership_ids)
    keys = {
        (queue_id, sdr_id): pk
        for pk, queue_id, sdr_id in memberships.values_list("pk", "queue_id", "sdr_id")
    }
    counted = (
        Assignment.objects.filter(status=AssignmentStatus.OPEN, sdr__isnull=False)
        .values_list("queue_id", "sdr_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    if membership_ids is not None:
        counted = counted.filter(queue_id__in={q for q, _ in keys}, sdr_id__in={s for _, s in keys})
    counts = dict.fromkeys(keys.values(), 0)
    for queue_id, sdr_id, n in counted:
        pk = keys.get((queue_id, sdr_id))
        if pk is not None:
            counts[pk] = n
    return counts


@dataclass(frozen=True)
class Drift:
    membership_id: int
    counted: int  # what the counter said
    real: int  # open assignments found


@transaction.atomic
def repair_open_counts() -> list[Drift]:
    """Sets every membership's open count to the real number where they
    differ, and returns what was wrong (nothing, normally).

    First compared without locks: an assignment opened or closed by a
    transaction still running at that moment can look like a difference.
    Those memberships are then locked in id order (the order routing locks
    them in) and recounted: while we hold the locks no service can open or
    close one of their assignments half way, so the recount is exact.
    """
    counters = dict(Membership.objects.values_list("pk", "open_count"))
    suspects = sorted(pk for pk, n in real_open_counts().items() if counters.get(pk) != n)
    if not suspects:
        return []
    locked = list(
        Membership.objects.select_for_update()
        .filter(pk__in=suspects)
        .order_by("pk")
        .values_list("pk", "open_count")
    )
    real = real_open_counts([pk for pk, _ in locked])
    drifts = [Drift(pk, counted, real[pk]) for pk, counted in locked if real[pk] != counted]
    for drift in drifts:
        Membership.objects.filter(pk=drift.membership_id).update(open_count=drift.real)
        logger.warning(
            "Membership %s counted %s open MQLs but holds %s; corrected.",
            drift.membership_id,
            drift.counted,
            drift.real,
        )
    return drifts
