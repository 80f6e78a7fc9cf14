"""Outgoing webhooks: what is recorded with a change, how it is signed, and
how it is delivered (in order, retried with backoff, given up, disabled)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from handoff.models import (
    DeliveryStatus,
    EndpointStatus,
    EventType,
    Notice,
    NoticeKind,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
)
from handoff.webhooks import delivery, services
from handoff.webhooks.outbox import record_event
from handoff.webhooks.sending import EXCERPT_BYTES, new_secret
from tests.webhooks.receiver import Receiver


def an_event(n: int, type=EventType.LEAD_MQL):
    return record_event(type=type, data={"n": n})


def deliver(endpoint, *, at=None):
    """What the worker does; returns what happened, or the wait it asked for."""
    try:
        return delivery.deliver_webhooks(endpoint_id=endpoint.pk, now=at)
    except delivery.TryAgainLater as wait:
        return wait


# --- What is recorded ----------------------------------------------------------------------


def test_an_event_nobody_wants_is_not_stored(endpoint_to, receiver):
    endpoint_to(receiver.url, types=[EventType.LEAD_SQL])

    assert an_event(1, EventType.LEAD_MQL) is None
    assert OutboxEvent.objects.count() == 0


def test_an_event_gets_one_delivery_per_active_endpoint_that_wants_it(endpoint_to, receiver):
    wants = endpoint_to(receiver.url, name="A").endpoint
    paused = endpoint_to(receiver.url, name="B").endpoint
    services.change_endpoint(endpoint=paused, by=None, status=EndpointStatus.PAUSED)
    endpoint_to(receiver.url, types=[EventType.LEAD_SQL], name="C")

    event = an_event(1)

    assert event.message_id.startswith("msg_") and len(event.message_id) == 36
    assert list(event.deliveries.values_list("endpoint", flat=True)) == [wants.pk]


def test_a_change_rolled_back_takes_its_event_with_it(endpoint_to, receiver):
    endpoint_to(receiver.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        an_event(1)
        raise RuntimeError("the change failed")

    assert OutboxEvent.objects.count() == 0


# --- Signing ---------------------------------------------------------------------------------


def test_a_delivery_is_signed_as_standard_webhooks_says(endpoint_to, receiver):
    made = endpoint_to(receiver.url)
    event = an_event(7)

    deliver(made.endpoint)

    (got,) = receiver.received
    assert got.verified(made.secret) == {
        "id": event.message_id,
        "type": "lead.mql",
        "timestamp": event.occurred_at.isoformat(),
        "data": {"n": 7},
    }
    assert got.headers["webhook-id"] == event.message_id
    assert made.secret.startswith("whsec_")
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)


def test_after_rotation_both_secrets_verify_until_the_grace_period_ends(
    endpoint_to, receiver, settings
):
    settings.WEBHOOK_SECRET_GRACE_HOURS = 1
    made = endpoint_to(receiver.url)
    rotated = services.rotate_secret(endpoint=made.endpoint, by=None)
    an_event(1)
    deliver(made.endpoint)
    an_event(2)
    deliver(made.endpoint, at=timezone.now() + timedelta(hours=2))

    during, after = receiver.received
    assert during.verified(made.secret) and during.verified(rotated.secret)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.headers["webhook-signature"].count("v1,") == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(made.secret).verify(after.body, after.headers)


# --- Backoff -----------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_up_to_the_ceiling(settings):
    settings.WEBHOOK_MAX_BACKOFF_MINUTES = 60
    rng = random.Random(1)
    waits = [delivery.backoff(n, rng=rng).total_seconds() for n in range(1, 14)]

    for n, wait in enumerate(waits, start=1):
        full = min(10 * 2 ** (n - 1), 3600)
        assert full / 2 <= wait <= full
    assert len({round(w, 3) for w in waits}) == len(waits)  # jittered, not in step


def test_retries_go_on_for_three_days_by_default(settings):
    assert settings.WEBHOOK_RETRY_HOURS >= 72


# --- Order, retries, giving up -------------------------------------------------------------


def failing_then_ok(failures: int) -> Receiver:
    return Receiver(answer=lambda n: (500 if n < failures else 204, b"down", 0.0, {})).start()


def test_a_failed_event_holds_back_the_next_until_it_is_taken(endpoint_to):
    receiver = failing_then_ok(2)
    try:
        made = endpoint_to(receiver.url)
        first, second = an_event(1), an_event(2)

        wait = deliver(made.endpoint)
        assert isinstance(wait, delivery.TryAgainLater)
        assert timedelta(seconds=5) <= wait.retry_in <= timedelta(seconds=10)
        assert [r.json["id"] for r in receiver.received] == [first.message_id]

        # Too early for the next attempt: nothing is sent.
        assert isinstance(deliver(made.endpoint), delivery.TryAgainLater)
        assert len(receiver.received) == 1

        later = timezone.now() + timedelta(minutes=1)
        deliver(made.endpoint, at=later)  # fails again
        deliver(made.endpoint, at=later + timedelta(minutes=5))

        assert [r.json["id"] for r in receiver.ok()] == [first.message_id, second.message_id]
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2
        log = list(WebhookAttempt.objects.order_by("id").values_list("status_code", "ok"))
        assert log == [(500, False), (500, False), (204, True), (204, True)]
    finally:
        receiver.stop()


def test_a_delivery_failing_past_the_retry_period_is_given_up_and_the_next_goes(
    endpoint_to, settings
):
    settings.WEBHOOK_RETRY_HOURS = 72
    receiver = failing_then_ok(2)
    try:
        made = endpoint_to(receiver.url)
        first, second = an_event(1), an_event(2)
        start = timezone.now()
        deliver(made.endpoint, at=start)
        deliver(made.endpoint, at=start + timedelta(hours=72))

        assert WebhookDelivery.objects.get(event=first).status == DeliveryStatus.GIVEN_UP
        assert WebhookDelivery.objects.get(event=second).status == DeliveryStatus.SENT
        assert [r.json["id"] for r in receiver.ok()] == [second.message_id]
    finally:
        receiver.stop()


def test_an_endpoint_failing_for_days_is_disabled_and_marketing_ops_told(
    endpoint_to, marketing_ops, settings
):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    receiver = failing_then_ok(1000)
    try:
        made = endpoint_to(receiver.url)
        an_event(1)
        start = timezone.now()
        for day in range(0, 6):
            an_event(day + 2)
            deliver(made.endpoint, at=start + timedelta(days=day, minutes=1))

        made.endpoint.refresh_from_db()
        assert made.endpoint.status == EndpointStatus.DISABLED
        assert "failed for 5 days" in made.endpoint.disabled_reason
        notice = Notice.objects.get(user=marketing_ops, kind=NoticeKind.WEBHOOK_DISABLED)
        assert "Warehouse was disabled" in notice.text
        # Disabled: nothing more is sent, and nothing is lost.
        sent = len(receiver.received)
        deliver(made.endpoint, at=start + timedelta(days=7))
        assert len(receiver.received) == sent
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    finally:
        receiver.stop()


def test_send_again_puts_a_sent_delivery_back_in_the_queue(endpoint_to, receiver):
    made = endpoint_to(receiver.url)
    event = an_event(1)
    deliver(made.endpoint)

    queued = services.send_again(deliveries=WebhookDelivery.objects.all(), by=None)
    deliver(made.endpoint)

    assert queued == 1
    assert [r.json["id"] for r in receiver.received] == [event.message_id] * 2


def test_a_test_event_goes_to_that_endpoint_only(endpoint_to, receiver, marketing_ops):
    made = endpoint_to(receiver.url)
    other = endpoint_to(receiver.url, name="Other").endpoint

    services.send_test_event(endpoint=made.endpoint, by=marketing_ops)
    deliver(made.endpoint)
    deliver(other)

    (got,) = receiver.received
    assert got.verified(made.secret)["type"] == "webhook.test"
    assert got.json["data"]["requested_by"] == "mo.ops"


# --- Where requests may go -----------------------------------------------------------------


def test_loopback_is_refused_unless_the_setting_allows_it(endpoint_to, receiver, settings):
    made = endpoint_to(receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    an_event(1)

    deliver(made.endpoint)

    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.ok) == (None, False)
    assert "127.0.0.1 is an address on this server's own network" in attempt.error
    with pytest.raises(services.DomainError, match="own network"):
        services.create_endpoint(
            name="x", url="http://10.0.0.8/hook", event_types=["lead.mql"], by=None
        )


def test_a_redirect_is_not_followed(endpoint_to):
    target = Receiver().start()
    redirecting = Receiver(answer=lambda n: (307, b"", 0.0, {"location": target.url})).start()
    try:
        made = endpoint_to(redirecting.url)
        an_event(1)

        assert isinstance(deliver(made.endpoint), delivery.TryAgainLater)

        assert target.received == []
        assert WebhookAttempt.objects.get().status_code == 307
    finally:
        target.stop()
        redirecting.stop()


def test_a_slow_receiver_times_out_and_is_retried(endpoint_to, settings):
    settings.WEBHOOK_READ_TIMEOUT_SECONDS = 1
    slow = Receiver(answer=lambda n: (200, b"late", 3.0, {})).start()
    try:
        made = endpoint_to(slow.url)
        an_event(1)

        assert isinstance(deliver(made.endpoint), delivery.TryAgainLater)

        attempt = WebhookAttempt.objects.get()
        assert attempt.status_code is None and attempt.error.startswith("timed out")
        assert attempt.duration_ms < 2500
    finally:
        slow.stop()


def test_only_the_start_of_a_long_answer_is_kept(endpoint_to):
    chatty = Receiver(answer=lambda n: (200, b"x" * 100_000, 0.0, {})).start()
    try:
        made = endpoint_to(chatty.url)
        an_event(1)
        deliver(made.endpoint)

        assert len(WebhookAttempt.objects.get().response_excerpt) == EXCERPT_BYTES
    finally:
        chatty.stop()


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_finds_endpoints_whose_message_was_lost(endpoint_to, receiver):
    made = endpoint_to(receiver.url)
    an_event(1)
    now = timezone.now()

    assert delivery.endpoints_with_work(now=now) == []  # its own message may still come
    assert delivery.endpoints_with_work(now=now + timedelta(minutes=1)) == [made.endpoint.pk]
    deliver(made.endpoint)
    assert delivery.endpoints_with_work(now=now + timedelta(minutes=1)) == []
