"""Managing webhook endpoints: every change to them goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handoff import audit
from handoff.enqueue import enqueue_on_commit
from handoff.errors import DomainError
from handoff.models import (
    SUBSCRIBABLE_EVENT_TYPES,
    DeliveryStatus,
    EndpointStatus,
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from handoff.webhooks.outbox import record_event
from handoff.webhooks.sending import new_secret, validate_endpoint_url

SUBSCRIBABLE = frozenset(value for value, _ in SUBSCRIBABLE_EVENT_TYPES)


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its new signing secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def _checked(*, url: str, event_types: Iterable[str]) -> tuple[str, list[str]]:
    url = url.strip()
    try:
        validate_endpoint_url(url)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="url") from None
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in SUBSCRIBABLE]
    if unknown:
        raise DomainError(
            f"Unknown event type{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"The types are: {', '.join(sorted(SUBSCRIBABLE))}.",
            field="event_types",
        )
    if not chosen:
        raise DomainError("Choose at least one event type to receive.", field="event_types")
    return url, chosen


@transaction.atomic
def create_endpoint(
    *, name: str, url: str, event_types: Iterable[str], by: User | None, active: bool = True
) -> EndpointWithSecret:
    """Adds an endpoint with a new signing secret, returned this once."""
    url, chosen = _checked(url=url, event_types=event_types)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        name=name.strip() or url,
        url=url,
        event_types=chosen,
        status=EndpointStatus.ACTIVE if active else EndpointStatus.PAUSED,
        secret=secret,
        created_by=by,
    )
    audit.record(actor=by, action="created", obj=endpoint, note=f"{url}: {', '.join(chosen)}")
    return EndpointWithSecret(endpoint, secret)


@transaction.atomic
def change_endpoint(
    *,
    endpoint: WebhookEndpoint,
    by: User | None,
    name: str | None = None,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    status: str | None = None,
) -> WebhookEndpoint:
    """Changes what is given. Setting a disabled endpoint active again starts
    its failure count afresh and sends what waited."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = {f: getattr(endpoint, f) for f in ("name", "url", "event_types", "status")}
    new_url, chosen = _checked(
        url=endpoint.url if url is None else url,
        event_types=endpoint.event_types if event_types is None else event_types,
    )
    endpoint.url, endpoint.event_types = new_url, chosen
    if name is not None:
        endpoint.name = name.strip() or endpoint.url
    if status is not None:
        if status not in (EndpointStatus.ACTIVE, EndpointStatus.PAUSED):
            raise DomainError(
                f'An endpoint is set "active" or "paused", not "{status}".', field="status"
            )
        if status == EndpointStatus.ACTIVE and endpoint.status != EndpointStatus.ACTIVE:
            endpoint.failing_since, endpoint.disabled_reason = None, ""
        endpoint.status = status
    endpoint.save()
    changes = {
        field: [old, getattr(endpoint, field)]
        for field, old in before.items()
        if getattr(endpoint, field) != old
    }
    if changes:
        audit.record(actor=by, action="changed", obj=endpoint, changes=changes)
    if endpoint.status == EndpointStatus.ACTIVE:
        _send_soon(endpoint)
    return endpoint


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint, by: User | None) -> EndpointWithSecret:
    """Gives the endpoint a new secret, returned this once; the old one keeps
    signing too (both signatures are sent) for WEBHOOK_SECRET_GRACE_HOURS, so
    the receiver can switch without losing a message."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(
        hours=settings.WEBHOOK_SECRET_GRACE_HOURS
    )
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    audit.record(
        actor=by,
        action="rotated secret",
        obj=endpoint,
        note=f"The old one signs too until {endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M}.",
    )
    return EndpointWithSecret(endpoint, secret)


def send_test_event(*, endpoint: WebhookEndpoint, by: User | None) -> OutboxEvent:
    """Queues a ``webhook.test`` event for this endpoint only; it goes out
    after what is already waiting for it, like any other event."""
    if endpoint.status != EndpointStatus.ACTIVE:
        raise DomainError(
            f"{endpoint.name} is {endpoint.get_status_display().lower()}: "
            "set it active to send it a test event."
        )
    with transaction.atomic():
        event = record_event(
            type=EventType.TEST,
            data={
                "endpoint": {"id": endpoint.pk, "name": endpoint.name},
                "requested_by": by.get_username() if by else None,
                "message": "A test event from Handoff: your endpoint receives and verifies.",
            },
            endpoints=[endpoint],
        )
    assert event is not None
    return event


@transaction.atomic
def send_again(*, deliveries: Iterable[WebhookDelivery], by: User | None) -> int:
    """Sends the deliveries again (the same webhook-id, so a receiver that
    has it can tell), in their events' place in each endpoint's order.
    Returns how many were queued."""
    chosen = list(deliveries)
    ids = [d.pk for d in chosen]
    queued = WebhookDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=None, first_failed_at=None
    )
    for endpoint_id in sorted({d.endpoint_id for d in chosen}):
        enqueue_on_commit(_deliver_task(), endpoint_id=endpoint_id)
    return queued


def _send_soon(endpoint: WebhookEndpoint) -> None:
    if WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).exists():
        enqueue_on_commit(_deliver_task(), endpoint_id=endpoint.pk)


def _deliver_task():  # the tasks module imports the services' neighbours
    from handoff.tasks import deliver_webhooks

    return deliver_webhooks
