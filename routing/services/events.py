"""What routing tells other systems, through the kernel's outgoing webhooks:
an MQL assigned or reassigned, an SLA reminder or breach, and the SDR's
decision (accepted, rejected with the reason, recycled). Each is called
inside the transaction of the change; the payload is built only when an
endpoint wants the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from handoff.models import EventType
from handoff.webhooks.outbox import record_event
from leads.events import lead_state, person
from routing.models import Assignment


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def assignment_state(assignment: Assignment) -> dict[str, Any]:
    """The assignment as it is now: to whom, in which queue, due when."""
    return {
        "id": assignment.pk,
        "status": assignment.status,
        "queue": {"id": assignment.queue_id, "name": assignment.queue.name},
        "sdr": person(assignment.sdr),
        "assigned_at": _at(assignment.assigned_at),
        "due_at": _at(assignment.due_at),
        "remind_at": _at(assignment.remind_at),
        "first_touch_at": _at(assignment.first_touch_at),
        "breached_at": _at(assignment.breached_at),
        "why": assignment.why,
    }


def announce_assigned(assignment: Assignment) -> None:
    """``lead.assigned``: an SDR has the MQL now, and until when to touch it."""
    record_event(
        type=EventType.LEAD_ASSIGNED,
        data=lambda: {
            "lead": lead_state(assignment.lead),
            "assignment": assignment_state(assignment),
        },
    )


def announce_reassigned(*, old: Assignment, new: Assignment, reason: str) -> None:
    """``lead.reassigned``: the MQL went from one SDR to another (or to the
    queue's waiting list), and why."""
    record_event(
        type=EventType.LEAD_REASSIGNED,
        data=lambda: {
            "lead": lead_state(new.lead),
            "assignment": assignment_state(new),
            "previous_sdr": person(old.sdr),
            "reason": reason,
        },
    )


def announce_clock(assignment: Assignment, type: EventType) -> None:
    """``sla.reminder`` or ``sla.breached``."""

    def data() -> dict[str, Any]:
        # The watcher marks the clock with a queryset update.
        assignment.refresh_from_db(fields=["breached_at", "first_touch_at"])
        return {"lead": lead_state(assignment.lead), "assignment": assignment_state(assignment)}

    record_event(type=type, data=data)


def announce_decision(
    assignment: Assignment,
    type: EventType,
    *,
    by: User,
    reason: str = "",
    reason_label: str = "",
    note: str = "",
) -> None:
    """``mql.accepted``, ``mql.rejected`` (with the reason) or ``mql.recycled``."""

    def data() -> dict[str, Any]:
        decided: dict[str, Any] = {"by": person(by), "note": note}
        if type == EventType.MQL_REJECTED:
            decided |= {"reason": reason, "reason_label": reason_label}
        # As written by the decision (a queryset update, the lifecycle service).
        assignment.refresh_from_db(fields=["status", "closed_at", "first_touch_at"])
        assignment.lead.refresh_from_db()
        return {
            "lead": lead_state(assignment.lead),
            "assignment": assignment_state(assignment),
            "decision": decided,
        }

    record_event(type=type, data=data)
