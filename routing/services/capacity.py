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

from django.db import transaction
from django.db.models import Count, F

from routing.models import Assignment, AssignmentStatus, Membership

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
