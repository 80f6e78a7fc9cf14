"""Sending an endpoint's deliveries, in order, after the writes that recorded them.

One worker at a time sends to an endpoint: it claims the endpoint with one
conditional UPDATE, then sends its pending deliveries in the order their
events were recorded, one after the other. A delivery that fails holds back
the ones after it until it is taken or given up (WEBHOOK_RETRY_HOURS after
its first failure), so a receiver sees events in the order they happened.

"The order they happened" is the order of the recording transactions (then
of the events within one): an event is sent only once every transaction
older than its own has ended, so one committed late can never arrive after
a younger one.

Subscribers other than webhooks (a CRM connector) plug in as a sender of
their kind in SENDERS: the outbox, the order, the retries, the log and the
sweep are theirs too.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from handoff import roles
from handoff.models import (
    DeliveryStatus,
    EndpointStatus,
    NoticeKind,
    OutboxEvent,
    SubscriberKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from handoff.webhooks.sending import Answer, body_of, post, signature

logger = logging.getLogger(__name__)

# Longer than one run may take (a batch of sends, each bounded by its timeouts).
CLAIM_TIMEOUT = timedelta(minutes=10)
# The sweep leaves a fresh delivery to its own message for this long.
SWEEP_GRACE = timedelta(seconds=30)
# Deliveries sent per claim before the worker lets others have a turn.
BATCH = 200

# Events whose transaction, and every older one, has ended (or that belong
# to the asking transaction itself, which sees its own rows).
_SETTLED = RawSQL(
    "txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " OR txid = pg_current_xact_id_if_assigned()::text::bigint",
    [],
    output_field=BooleanField(),
)


class TryAgainLater(Exception):
    """Something is still to send, later: a failed delivery's next attempt,
    or events waiting for an older transaction to end."""

    def __init__(self, message: str, *, retry_in: timedelta):
        super().__init__(message)
        self.retry_in = retry_in


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after the nth failed attempt: WEBHOOK_BACKOFF_BASE_SECONDS
    (10 s) doubling, at most WEBHOOK_MAX_BACKOFF_MINUTES, each randomised
    between 50 % and 100 % (jitter, so endpoints that fail together do not
    retry in step)."""
    ceiling = settings.WEBHOOK_MAX_BACKOFF_MINUTES * 60
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS
    full = min(base * 2 ** min(max(attempts - 1, 0), 30), ceiling)
    return timedelta(seconds=full * (rng or random).uniform(0.5, 1.0))


def send_webhook(endpoint: WebhookEndpoint, event: OutboxEvent, *, now: datetime) -> Answer:
    """Signs the event with the endpoint's secrets and POSTs it."""
    body = body_of(
        message_id=event.message_id, type=event.type, occurred_at=event.occurred_at, data=event.data
    )
    secrets_in_use = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_expires_at or now) > now:
        secrets_in_use.append(endpoint.previous_secret)
    headers = {
        "webhook-id": event.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(
            secrets_in_use=secrets_in_use, message_id=event.message_id, at=now, body=body
        ),
    }
    return post(url=endpoint.url, body=body, headers=headers)


# How each kind of subscriber takes an event. A CRM connector adds its own.
SENDERS: dict[str, Callable[..., Answer]] = {SubscriberKind.WEBHOOK: send_webhook}


@dataclass(frozen=True)
class Run:
    sent: int
    given_up: int
    failed: bool


def _claim(endpoint_id: int, now: datetime) -> bool:
    return (
        WebhookEndpoint.objects.filter(pk=endpoint_id)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now)
        == 1
    )


def _due(endpoint_id: int) -> list[WebhookDelivery]:
    due = WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
    if connection.vendor == "postgresql":
        # SQLite has one writer at a time: what a reader sees has all ended.
        due = due.filter(event__in=OutboxEvent.objects.filter(_SETTLED).values("pk"))
    return list(due.select_related("event").order_by("event__txid", "event_id")[:BATCH])


def deliver_webhooks(*, endpoint_id: int, now: datetime | None = None) -> Run:
    """Sends the endpoint's pending deliveries in order until one fails.

    Each attempt is logged. A failure (no 2xx answer, a timeout, a refused
    address) schedules the delivery's next attempt with backoff and stops the
    run; once WEBHOOK_RETRY_HOURS have passed since its first failure it is
    given up and the next one goes. An endpoint failing for
    WEBHOOK_DISABLE_AFTER_DAYS is disabled and marketing ops are told.
    Raises TryAgainLater when something is left to send later; returns what
    it did. An endpoint held by another worker, paused or gone is left alone.
    """
    clock = (lambda: now) if now is not None else timezone.now
    if not _claim(endpoint_id, clock()):
        return Run(0, 0, False)
    sent = given_up = 0
    failed = False
    try:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        if endpoint.status != EndpointStatus.ACTIVE:
            return Run(0, 0, False)
        send = SENDERS[endpoint.kind]
        while not failed:
            # Renewed each batch: a long drain is not mistaken for a dead worker.
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(claimed_at=clock())
            batch = _due(endpoint_id)
            if not batch:
                break
            for delivery in batch:
                at = clock()
                if delivery.next_attempt_at and delivery.next_attempt_at > at:
                    raise TryAgainLater(
                        "waiting for the next attempt", retry_in=delivery.next_attempt_at - at
                    )
                answer = send(endpoint, delivery.event, now=at)
                _log(delivery, answer, at=at)
                if answer.ok:
                    sent += 1
                    _mark_sent(delivery, endpoint, at=clock())
                    continue
                if _failed(delivery, endpoint, at=at):
                    given_up += 1
                    continue
                failed = True
                break
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(claimed_at=None)
    if failed or endpoint.status != EndpointStatus.ACTIVE:
        pending = _next_attempt(endpoint_id)
        if pending is not None and endpoint.status == EndpointStatus.ACTIVE:
            raise TryAgainLater("the receiver failed", retry_in=max(pending - clock(), timedelta()))
        return Run(sent, given_up, failed)
    # Events recorded while this run sent, or held back by an older
    # transaction still open: look again soon rather than wait for the sweep.
    if WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status=DeliveryStatus.PENDING
    ).exists():
        raise TryAgainLater("more to send", retry_in=timedelta(seconds=0.5))
    return Run(sent, given_up, failed)


def _next_attempt(endpoint_id: int) -> datetime | None:
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def _log(delivery: WebhookDelivery, answer: Answer, *, at: datetime) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        endpoint_id=delivery.endpoint_id,
        at=at,
        status_code=answer.status_code,
        ok=answer.ok,
        duration_ms=answer.duration_ms,
        response_excerpt=answer.excerpt,
        error=answer.error,
    )


def _mark_sent(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, at: datetime) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        sent_at=at,
        attempts=delivery.attempts + 1,
        next_attempt_at=None,
    )
    if endpoint.failing_since is not None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        endpoint.failing_since = None


def _failed(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, at: datetime) -> bool:
    """Records a failed attempt; True if the delivery was given up."""
    attempts = delivery.attempts + 1
    first_failed_at = delivery.first_failed_at or at
    give_up = at - first_failed_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        first_failed_at=first_failed_at,
        status=DeliveryStatus.GIVEN_UP if give_up else DeliveryStatus.PENDING,
        next_attempt_at=None if give_up else at + backoff(attempts),
    )
    if endpoint.failing_since is None:
        endpoint.failing_since = at
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=at)
    elif at - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        _disable(endpoint, at=at)
    if give_up:
        logger.warning("Webhook %s to endpoint %s given up", delivery.event, endpoint.pk)
    return give_up


def _disable(endpoint: WebhookEndpoint, *, at: datetime) -> None:
    from handoff.notices.services import notify

    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    reason = (
        f"Disabled {at:%Y-%m-%d %H:%M} UTC: every attempt failed for {days} "
        f"day{'s' if days != 1 else ''}."
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        status=EndpointStatus.DISABLED, disabled_reason=reason
    )
    endpoint.status = EndpointStatus.DISABLED
    ops = User.objects.filter(
        Q(groups__name=roles.MARKETING_OPS) | Q(is_superuser=True), is_active=True
    ).distinct()
    for person in ops:
        notify(
            user=person,
            kind=NoticeKind.WEBHOOK_DISABLED,
            text=f"The webhook endpoint {endpoint.name} was disabled: it failed for {days} "
            f"day{'s' if days != 1 else ''}. Fix the receiver, then set it active again.",
            link=reverse("admin:handoff_webhookendpoint_change", args=[endpoint.pk]),
            about=f"webhook-endpoint:{endpoint.pk}:{at:%Y%m%d%H%M%S}",
        )


def endpoints_with_work(
    *, now: datetime | None = None, grace: timedelta = SWEEP_GRACE, limit: int = 500
) -> list[int]:
    """Ids of active endpoints with a delivery due whose message was lost (a
    broker outage, a worker killed): older than a grace period, due for its
    next attempt, and not held by a live worker."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, event__occurred_at__lt=now - grace
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return list(
        WebhookEndpoint.objects.filter(status=EndpointStatus.ACTIVE)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .filter(pk__in=due.values("endpoint_id"))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
