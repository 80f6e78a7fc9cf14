"""Recording what happened, in the transaction of the change: the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from handoff.enqueue import enqueue_each_on_commit
from handoff.models import (
    EndpointStatus,
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


def new_message_id() -> str:
    """``msg_`` and 32 hex digits: the webhook-id receivers deduplicate by."""
    return f"msg_{uuid.uuid4().hex}"


# Read by the INSERT itself, so the id is the recording transaction's own.
_CURRENT_TXID = RawSQL("pg_current_xact_id()::text::bigint", [])


def _endpoints_wanting(type: EventType) -> list[WebhookEndpoint]:
    active = WebhookEndpoint.objects.filter(status=EndpointStatus.ACTIVE)
    if connection.vendor == "postgresql":
        return list(active.filter(event_types__contains=[str(type)]).only("pk"))
    # SQLite (the embedded default) has no JSON containment; its few
    # endpoints are filtered here instead.
    return [e for e in active.only("pk", "event_types") if str(type) in e.event_types]


def record_event(
    *,
    type: EventType,
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    occurred_at: datetime | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> OutboxEvent | None:
    """Records an event of ``type`` with ``data`` (the current state of the
    objects it concerns, JSON-ready, built by the app that knows them) in the
    caller's transaction, with one delivery for each active endpoint that
    wants the type, and sends them after commit. A change rolled back takes
    its event with it; a broker that is down loses nothing (the sweep sends).

    ``data`` may be a function that builds it: it is called only when an
    endpoint wants the event, so a change nobody subscribed to costs one query.
    ``endpoints`` names the receivers instead (a test event). Returns the
    event, or None when no endpoint wants it (nothing is stored then)."""
    if endpoints is None:
        endpoints = _endpoints_wanting(type)
    if not endpoints:
        return None
    # Both rows or neither; inside the caller's transaction, no savepoint.
    with transaction.atomic(savepoint=False):
        event = OutboxEvent.objects.create(
            message_id=new_message_id(),
            type=type,
            occurred_at=occurred_at or timezone.now(),
            data=dict(data() if callable(data) else data),
            # SQLite (the embedded default) runs one writer at a time, so
            # ids already follow commit order there: no transaction id needed.
            txid=_CURRENT_TXID if connection.vendor == "postgresql" else 0,
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, endpoint=endpoint) for endpoint in endpoints
        )
    from handoff.tasks import deliver_webhooks

    enqueue_each_on_commit(deliver_webhooks, [{"endpoint_id": e.pk} for e in endpoints])
    return event
