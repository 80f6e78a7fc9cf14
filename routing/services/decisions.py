"""What an SDR does with an MQL. Each action is a touch (it stops the SLA
clock's first-touch wait), is recorded, and moves the lead's stage through the
lifecycle service."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from handoff import audit
from handoff.errors import ConflictError, DomainError
from handoff.models import EventType
from leads.models import Stage
from leads.services import change_stage
from routing.models import Assignment, AssignmentStatus, Touch
from routing.services.assign import assign_waiting_on_commit
from routing.services.capacity import count_closed
from routing.services.events import announce_decision
from routing.services.sla_rollup import mark_day_changed


class RejectReason(models.TextChoices):
    NOT_A_FIT = "not_a_fit", "Not a fit"
    NO_BUDGET = "no_budget", "No budget"
    BAD_TIMING = "bad_timing", "Bad timing"
    WRONG_CONTACT = "wrong_contact", "Wrong contact"
    DUPLICATE = "duplicate", "Duplicate"
    STUDENT_OR_JOB_SEEKER = "student_or_job_seeker", "Student or job seeker"
    COMPETITOR = "competitor", "Competitor"
    NO_RESPONSE = "no_response", "No response"
    OTHER = "other", "Other"


# Reasons that say the person will never buy; the others may buy later.
DISQUALIFYING_REASONS = frozenset(
    {
        RejectReason.NOT_A_FIT,
        RejectReason.DUPLICATE,
        RejectReason.STUDENT_OR_JOB_SEEKER,
        RejectReason.COMPETITOR,
    }
)


def _claim_open(assignment: Assignment, by: User) -> Assignment:
    """Locks the assignment; refuses it when it is not this SDR's open MQL any more.

    Two sessions acting at once are serialised by the lock: the second finds
    the assignment closed and gets a clear message.
    """
    current = Assignment.objects.select_for_update().select_related("lead").get(pk=assignment.pk)
    if current.sdr_id != by.pk:
        raise DomainError("This MQL is not assigned to you.")
    if current.status != AssignmentStatus.OPEN:
        raise ConflictError(
            f"This MQL was already {current.get_status_display().lower()}; nothing was changed."
        )
    return current


def _touch(
    assignment: Assignment, *, kind: str, by: User, reason: str = "", note: str = ""
) -> Touch:
    now = timezone.now()
    if Assignment.objects.filter(pk=assignment.pk, first_touch_at__isnull=True).update(
        first_touch_at=now
    ):
        # A first touch after the deadline changes a day the SLA rollup may
        # already hold: it is recounted at the watcher's next pass.
        mark_day_changed(assignment.due_at, now=now)
    return Touch.objects.create(
        assignment=assignment,
        kind=kind,
        by=by,
        by_name=by.get_username(),  # kept as it was, like an audit entry's actor
        reason=reason,
        note=note,
    )


def _close(assignment: Assignment, status: str) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(status=status, closed_at=timezone.now())
    # Counted off the SDR's open MQLs in the same transaction (see capacity).
    count_closed(queue_id=assignment.queue_id, sdr_id=assignment.sdr_id)
    assign_waiting_on_commit(queue_id=assignment.queue_id)


@transaction.atomic
def accept_mql(*, assignment: Assignment, by: User, note: str = "") -> Touch:
    """The SDR takes the lead: it becomes a SAL."""
    current = _claim_open(assignment, by)
    touch = _touch(current, kind=Touch.Kind.ACCEPT, by=by, note=note)
    change_stage(
        lead=current.lead,
        to_stage=Stage.SAL,
        by=by,
        reason="Accepted by SDR",
        expected_from=Stage.MQL,
    )
    _close(current, AssignmentStatus.ACCEPTED)
    audit.record(
        actor=by,
        action="accepted",
        obj=current,
        changes={"status": [AssignmentStatus.OPEN, AssignmentStatus.ACCEPTED]},
    )
    announce_decision(current, EventType.MQL_ACCEPTED, by=by, note=note)
    return touch


@transaction.atomic
def reject_mql(*, assignment: Assignment, by: User, reason: str, note: str = "") -> Touch:
    """The SDR turns the lead down with a structured reason. Reasons that say
    the person will never buy disqualify the lead; the others send it to nurture."""
    if reason not in RejectReason.values:
        raise DomainError("Choose a reason for rejecting this MQL.", field="reason")
    if reason == RejectReason.OTHER and not note.strip():
        raise DomainError("Say why in the note when the reason is 'Other'.", field="note")
    current = _claim_open(assignment, by)
    touch = _touch(current, kind=Touch.Kind.REJECT, by=by, reason=reason, note=note)
    to_stage = Stage.DISQUALIFIED if reason in DISQUALIFYING_REASONS else Stage.NURTURE
    change_stage(
        lead=current.lead,
        to_stage=to_stage,
        by=by,
        reason=f"Rejected: {RejectReason(reason).label}" + (f" ({note})" if note else ""),
        expected_from=Stage.MQL,
    )
    _close(current, AssignmentStatus.REJECTED)
    audit.record(
        actor=by,
        action="rejected",
        obj=current,
        note=reason,
        changes={"status": [AssignmentStatus.OPEN, AssignmentStatus.REJECTED]},
    )
    announce_decision(
        current,
        EventType.MQL_REJECTED,
        by=by,
        reason=reason,
        reason_label=str(RejectReason(reason).label),
        note=note,
    )
    return touch


@transaction.atomic
def recycle_mql(*, assignment: Assignment, by: User, note: str = "") -> Touch:
    """Back to marketing: the lead is recycled and becomes an MQL again only
    on new engagement after this moment."""
    current = _claim_open(assignment, by)
    touch = _touch(current, kind=Touch.Kind.RECYCLE, by=by, note=note)
    change_stage(
        lead=current.lead,
        to_stage=Stage.RECYCLED,
        by=by,
        reason="Recycled to nurture" + (f": {note}" if note else ""),
        expected_from=Stage.MQL,
    )
    _close(current, AssignmentStatus.RECYCLED)
    audit.record(
        actor=by,
        action="recycled",
        obj=current,
        changes={"status": [AssignmentStatus.OPEN, AssignmentStatus.RECYCLED]},
    )
    announce_decision(current, EventType.MQL_RECYCLED, by=by, note=note)
    return touch


@transaction.atomic
def log_touch(*, assignment: Assignment, by: User, kind: str, note: str = "") -> Touch:
    """A call or an email to the lead: it counts as the first touch."""
    if kind not in (Touch.Kind.CALL, Touch.Kind.EMAIL):
        raise DomainError("Log a call or an email.", field="kind")
    current = _claim_open(assignment, by)
    return _touch(current, kind=kind, by=by, note=note)
