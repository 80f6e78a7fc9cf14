"""The SLA watcher: reminders, breaches, escalation and reassignment.

Every step claims its rows with a conditional UPDATE that must touch exactly
one row, so running the watcher twice (or two watchers at once) notifies once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from handoff.models import EventType, NoticeKind
from leads.models import Lead, Stage
from routing.models import OPEN_STATUSES, Assignment, AssignmentStatus, Queue
from routing.services.assign import assign_waiting, reassign, route_mql
from routing.services.events import announce_clock
from routing.services.notices import tell_about_clock
from routing.services.sla_rollup import mark_day_changed, refresh_sla_rollup

logger = logging.getLogger(__name__)


def _untouched():
    return Assignment.objects.filter(status=AssignmentStatus.OPEN, first_touch_at__isnull=True)


@transaction.atomic
def watch_sla_clocks(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the watcher. Returns how many reminders, breaches,
    reassignments, unrouted MQLs and waiting assignments it handled."""
    now = now or timezone.now()
    counts = {"reminded": 0, "breached": 0, "reassigned": 0, "routed": 0, "assigned": 0}

    for a in (
        _untouched()
        .filter(reminded_at__isnull=True, remind_at__lte=now, due_at__gt=now)
        .select_related("sdr", "lead", "queue")
    ):
        if (
            Assignment.objects.filter(pk=a.pk, reminded_at__isnull=True).update(reminded_at=now)
            == 1
        ):
            tell_about_clock(
                a.sdr,
                a,
                NoticeKind.REMINDER,
                f"{a.lead} is due {timezone.localtime(a.due_at):%Y-%m-%d %H:%M}: "
                "make the first touch.",
            )
            announce_clock(a, EventType.SLA_REMINDER)
            counts["reminded"] += 1

    for a in (
        _untouched()
        .filter(breached_at__isnull=True, due_at__lte=now)
        .select_related("sdr", "lead", "queue__manager", "queue__sla_policy")
    ):
        if (
            Assignment.objects.filter(pk=a.pk, breached_at__isnull=True).update(breached_at=now)
            == 1
        ):
            mark_day_changed(a.due_at, now=now)  # when marked late, after its day
            text = f"SLA breached: {a.lead} was due {timezone.localtime(a.due_at):%Y-%m-%d %H:%M}."
            tell_about_clock(a.sdr, a, NoticeKind.BREACH, text)
            announce_clock(a, EventType.SLA_BREACHED)
            if a.queue.sla_policy.escalate_to_manager:
                sdr = a.sdr.get_full_name() or a.sdr.username if a.sdr else "nobody"
                tell_about_clock(
                    a.queue.manager, a, NoticeKind.ESCALATION, f"{text} (assigned to {sdr})"
                )
            counts["breached"] += 1

    for a in (
        _untouched()
        .filter(breached_at__isnull=False, queue__sla_policy__reassign_after_minutes__isnull=False)
        .select_related("queue__sla_policy")
    ):
        grace = timedelta(minutes=a.queue.sla_policy.reassign_after_minutes)
        if a.breached_at + grace <= now:
            reassign(assignment=a, reason="SLA breached and not touched within the grace period")
            counts["reassigned"] += 1

    # MQLs whose routing message was lost (a broker outage) are routed here.
    unrouted = (
        Lead.objects.filter(stage=Stage.MQL, updated_at__lt=now - timedelta(seconds=30))
        .exclude(assignments__status__in=OPEN_STATUSES)
        .values_list("pk", flat=True)
    )
    for lead_id in unrouted[:500]:
        # One MQL that cannot be routed (a bug, bad data) must not stop the
        # pass: its savepoint is rolled back, it is logged, the others go on.
        try:
            routed = route_mql(lead_id=lead_id)
        except Exception:
            logger.exception("The SLA watcher could not route MQL %s", lead_id)
            continue
        if routed is not None:
            counts["routed"] += 1

    for queue_id in (
        Queue.objects.filter(assignments__status=AssignmentStatus.WAITING)
        .values_list("pk", flat=True)
        .distinct()
    ):
        counts["assigned"] += assign_waiting(queue_id=queue_id)

    # Last, so that the day's breaches marked above are in it.
    refresh_sla_rollup(now=now)
    return counts
