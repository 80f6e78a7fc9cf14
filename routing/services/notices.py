"""What routing tells people, through the kernel's notices: a new MQL to its
SDR, an MQL taken away, reminders, breaches and escalations. Each is called
inside the transaction of the change it reports; the kernel records the
notice there and delivers email and chat after commit."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from handoff.models import NoticeKind
from handoff.notices.services import notify
from routing.models import Assignment


def _lead_link(assignment: Assignment) -> str:
    return reverse("routing:lead", kwargs={"pk": assignment.pk})


def _about(assignment: Assignment) -> str:
    return f"assignment:{assignment.pk}"


def tell_assigned(assignment: Assignment) -> None:
    """Tells the SDR an MQL is theirs now, with its deadline."""
    due = f", first touch due {timezone.localtime(assignment.due_at):%Y-%m-%d %H:%M}"
    notify(
        user=assignment.sdr,
        kind=NoticeKind.ASSIGNED,
        text=f"New MQL for you: {assignment.lead}{due if assignment.due_at else ''}.",
        link=_lead_link(assignment),
        about=_about(assignment),
        chat_url=assignment.queue.chat_webhook_url,
    )


def tell_taken_away(old: Assignment, *, reason: str) -> None:
    """Tells the SDR an MQL of theirs went to someone else, and why."""
    notify(
        user=old.sdr,
        kind=NoticeKind.REASSIGNED,
        text=f"{old.lead} was reassigned: {reason}.",
        about=_about(old),
        chat_url=old.queue.chat_webhook_url,
    )


def tell_about_clock(
    user: User | None, assignment: Assignment, kind: NoticeKind, text: str
) -> None:
    """A reminder, breach or escalation, once per person and assignment."""
    notify(
        user=user,
        kind=kind,
        text=text,
        link=_lead_link(assignment),
        about=_about(assignment),
        chat_url=assignment.queue.chat_webhook_url,
    )
