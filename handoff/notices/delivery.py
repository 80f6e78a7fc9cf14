"""Delivering notices by email and chat, after the write that recorded them.

A delivery claims its notice with one conditional UPDATE, so two workers
(a retry and the sweep, a message delivered twice) never send it at once;
each channel is marked sent as soon as it went out, and only pending channels
are sent, so a channel is sent once. (A worker killed between sending and
marking leaves the claim to expire: then, and only then, it goes twice.)
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from handoff.models import Delivery, Notice
from handoff.notices.webhooks import ChatNotSent, send_chat

logger = logging.getLogger(__name__)

# Longer than a delivery can take (two channels, each bounded by its timeout).
CLAIM_TIMEOUT = timedelta(minutes=5)
# The sweep leaves a fresh notice to its own message for this long.
SWEEP_GRACE = timedelta(seconds=30)


class TryAgainLater(Exception):
    """A channel failed in a way that may pass (a server down, a timeout)."""

    def __init__(self, message: str, *, retry_in: timedelta):
        super().__init__(message)
        self.retry_in = retry_in


@dataclass(frozen=True)
class _Failure:
    channel: str
    error: str
    transient: bool


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min… after the nth failed attempt, at most 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 30 * 60))


def _pending() -> Q:
    return Q(email=Delivery.PENDING) | Q(chat=Delivery.PENDING)


def _absolute(link: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{link}" if link.startswith("/") else link


def _send_email(notice: Notice) -> None:
    body = notice.text
    if notice.link:
        body += f"\n\n{_absolute(notice.link)}"
    body += (
        f"\n\n-- \nHandoff. Choose which notices reach you how: {_absolute('/settings/notices/')}"
    )
    EmailMessage(subject=f"[Handoff] {notice.text}", body=body, to=[notice.user.email]).send()


def _send_chat(notice: Notice) -> None:
    body = notice.text
    if notice.link:
        body += f" {_absolute(notice.link)}"
    send_chat(url=notice.chat_url, title="Handoff", body=body)


def _is_transient(error: Exception) -> bool:
    """Worth another try: the network, a timeout, a server that hung up or
    answered 4xx (try later). A 5xx answer or a refused address is final."""
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, OSError | ChatNotSent)  # smtplib's other errors are OSErrors


SENDERS = {"email": _send_email, "chat": _send_chat}


def deliver_notice(*, notice_id: int, now: datetime | None = None) -> None:
    """Sends the notice's pending email and chat message.

    A channel that went out is marked sent; one that failed for good is
    marked failed with the error; one that may work later stays pending and
    TryAgainLater is raised with the time to wait, until the notice has had
    NOTICE_MAX_ATTEMPTS attempts, after which it is marked failed too. A
    notice that is gone, sent, or held by another worker is left alone.
    """
    now = now or timezone.now()
    claimed = (
        Notice.objects.filter(_pending(), pk=notice_id)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now)
    )
    if claimed != 1:
        return
    notice = Notice.objects.select_related("user").get(pk=notice_id)
    failures: list[_Failure] = []
    for channel, send in SENDERS.items():
        if getattr(notice, channel) != Delivery.PENDING:
            continue
        try:
            send(notice)
        except (ValidationError, OSError, ChatNotSent, smtplib.SMTPException) as error:
            transient = not isinstance(error, ValidationError) and _is_transient(error)
            failures.append(_Failure(channel, f"{channel}: {error}", transient))
            if not transient:
                Notice.objects.filter(pk=notice.pk).update(**{channel: Delivery.FAILED})
        except Exception as error:
            # A bug or a library's surprise is not known to pass: marked
            # failed, not retried (the sweep would resend it forever).
            logger.exception("Notice %s: %s could not be sent", notice.pk, channel)
            failures.append(_Failure(channel, f"{channel}: {error!r}", False))
            Notice.objects.filter(pk=notice.pk).update(**{channel: Delivery.FAILED})
        else:
            Notice.objects.filter(pk=notice.pk).update(**{channel: Delivery.SENT})

    attempts = notice.attempts + 1
    retry = [f for f in failures if f.transient]
    give_up = bool(retry) and attempts >= settings.NOTICE_MAX_ATTEMPTS
    if give_up:
        Notice.objects.filter(pk=notice.pk).update(**{f.channel: Delivery.FAILED for f in retry})
    summary = "; ".join(f.error for f in failures)
    summary = summary[: Notice._meta.get_field("last_error").max_length]
    wait = backoff(attempts)
    Notice.objects.filter(pk=notice.pk).update(
        attempts=attempts,
        claimed_at=None,
        next_attempt_at=now + wait if retry and not give_up else None,
        last_error=summary,
    )
    if failures:
        logger.warning(
            "Notice %s: %s (attempt %d%s)",
            notice.pk,
            summary,
            attempts,
            ", giving up" if give_up else "",
        )
    if retry and not give_up:
        raise TryAgainLater(summary, retry_in=wait)


def undelivered_notices(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of notices with a channel still to send whose message was lost
    (a broker outage, a worker killed): older than a grace period, due for
    their next attempt, and not held by a live worker."""
    now = now or timezone.now()
    return list(
        Notice.objects.filter(_pending(), created_at__lt=now - SWEEP_GRACE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
