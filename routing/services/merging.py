"""Routing's part of a lead merge (``leads.signals.lead_merging``).

Every assignment of the duplicate, with its touches (the SDRs' decisions,
calls and emails), moves to the survivor. A lead has at most one open
assignment, so when both leads have one the survivor keeps one:

- an assignment with an SDR over one still waiting for an SDR (the person
  working the lead keeps it, and the SLA clock already running keeps running);
- otherwise the survivor's own.

The other is closed as reassigned (not a decision: the dashboard's acceptance
does not count it), counted off its SDR's open MQLs, its SDR told why, and
audited. An open assignment is only for an MQL: when the merge left the
survivor past MQL (the duplicate had been accepted, say), every open one is
closed in the same way, since nobody could accept or reject it any more.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from handoff import audit
from leads.models import Lead, Stage
from routing.models import OPEN_STATUSES, Assignment, AssignmentStatus
from routing.services.assign import assign_waiting_on_commit
from routing.services.capacity import count_closed
from routing.services.notices import tell_taken_away


def _kept(open_assignments: list[Assignment], survivor_id: int) -> Assignment | None:
    return min(
        open_assignments,
        key=lambda a: (a.status != AssignmentStatus.OPEN, a.lead_id != survivor_id, a.pk),
        default=None,
    )


def move_merged_lead(*, survivor_id: int, duplicate_id: int, by: User | None) -> None:
    """Runs in the merge's transaction, before the duplicate is deleted."""
    survivor = Lead.objects.only("stage").get(pk=survivor_id)
    open_assignments = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(lead_id__in=[survivor_id, duplicate_id], status__in=OPEN_STATUSES)
        .select_related("queue", "sdr", "lead")
        .order_by("pk")
    )
    kept = _kept(open_assignments, survivor_id) if survivor.stage == Stage.MQL else None
    now = timezone.now()
    for assignment in open_assignments:
        if assignment == kept:
            continue
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.REASSIGNED, closed_at=now
        )
        count_closed(queue_id=assignment.queue_id, sdr_id=assignment.sdr_id)
        assign_waiting_on_commit(queue_id=assignment.queue_id)
        why = (
            f"merged with lead #{survivor_id}, which keeps another open assignment"
            if kept is not None
            else f"merged into lead #{survivor_id}, already {survivor.get_stage_display()}"
        )
        if assignment.sdr is not None:
            tell_taken_away(assignment, reason=why)
        audit.record(
            actor=by,
            action="closed by merge",
            obj=assignment,
            changes={"status": [assignment.status, AssignmentStatus.REASSIGNED]},
            note=why,
        )
    Assignment.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
