"""Outgoing webhooks with real workers on a real broker, to a real receiver
on loopback: a new MQL arrives signed, a receiver that fails and recovers
gets every event in order, and a broker outage loses none."""

from __future__ import annotations

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from config.celery import app
from handoff.models import DeliveryStatus, EventType, WebhookDelivery
from handoff.tasks import resend_webhooks
from handoff.webhooks import services
from handoff.webhooks.outbox import record_event
from tests.feedback.test_outcomes import BANT, make_sal
from tests.integration.conftest import _test_database_url, wait_for
from tests.integration.servers import RedisServer, start_web
from tests.routing.test_queue_pages import qualified_lead
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def subscribe(url: str, types: list[str]):
    return services.create_endpoint(name="Receiver", url=url, event_types=types, by=None)


def test_a_lead_crossing_the_threshold_arrives_as_a_signed_lead_mql(
    celery_worker_process, receiver
):
    made = subscribe(receiver.url, [EventType.LEAD_MQL])

    lead = qualified_lead(first_name="Ada", last_name="Lovelace", email="ada@acme.example")

    wait_for(lambda: receiver.ok(), timeout=30, what="the lead.mql webhook")
    (got,) = receiver.received
    payload = Webhook(made.secret).verify(got.body, got.headers)
    assert payload["type"] == "lead.mql"
    assert payload["data"]["lead"]["id"] == lead.pk
    assert payload["data"]["lead"]["stage"] == "mql"
    assert payload["data"]["score"]["explanation"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SENT


def test_a_receiver_that_fails_and_recovers_gets_every_event_in_order(worker_starter):
    # Down for its first five requests (5xx and a timeout), then well.
    def answer(n: int):
        if n == 2:
            return 200, b"slow", 3.0, {}
        return (503 if n < 5 else 204), b"", 0.0, {}

    flaky = Receiver(answer=answer).start()
    try:
        worker_starter(WEBHOOK_BACKOFF_BASE_SECONDS="1", WEBHOOK_READ_TIMEOUT_SECONDS="1")
        subscribe(flaky.url, [EventType.LEAD_SQL])
        recorded = [
            record_event(type=EventType.LEAD_SQL, data={"n": n}).message_id for n in range(12)
        ]

        def taken() -> list[str]:
            # A receiver deduplicates by webhook-id: the request that timed
            # out reached it, and came again with the same id.
            return list(dict.fromkeys(r.json["id"] for r in flaky.ok()))

        wait_for(lambda: len(taken()) >= 12, timeout=60, what="every event to be taken")

        assert taken() == recorded
        assert [r.json["id"] for r in flaky.received[:6]] == [recorded[0]] * 6
        assert len(flaky.received) == 12 + 5
        assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SENT).exists()
    finally:
        flaky.stop()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_stopped_while_changes_happen_loses_no_event(
    worker_starter, redis_server, receiver, integration_client, sdr, tmp_path
):
    leads = [make_sal(sdr, email=f"buyer{n}@co{n}.example") for n in range(8)]
    for lead in leads:
        from feedback.services import qualify_sql

        qualify_sql(lead=lead, by=sdr, **BANT)
    made = subscribe(receiver.url, [EventType.OPPORTUNITY_WON])
    web = start_web(
        tmp_path / "web.log", database_url=_test_database_url(), broker_url=redis_server.url
    )
    auth = integration_client._credentials["HTTP_AUTHORIZATION"]
    worker_starter(CELERY_BROKER_URL=redis_server.url)

    def won(n: int):
        today = timezone.localdate().isoformat()
        body = {
            "crm_id": f"OPP-{n}",
            "lead": leads[n].pk,
            "amount": "1000",
            "status": "won",
            "created_on": today,
            "closed_on": today,
        }
        answer = web.request("POST", "/api/opportunities/", body=body, authorization=auth)
        assert answer.status == 201, answer.text

    try:
        won(0)
        wait_for(lambda: len(receiver.ok()) == 1, what="the first webhook")

        redis_server.stop()
        for n in range(1, 8):
            won(n)
        assert "were not queued" in web.log()

        # Redis is back, empty: the sweep (beat runs it every minute; sent
        # here) finds the endpoints with deliveries left behind.
        redis_server.start()
        with app.connection_for_write(redis_server.url) as connection:
            resend_webhooks.apply_async(kwargs={"grace_seconds": 0}, connection=connection)
        wait_for(lambda: len(receiver.ok()) == 8, timeout=40, what="every webhook")
    finally:
        web.stop()

    crm_ids = [Webhook(made.secret).verify(r.body, r.headers) for r in receiver.ok()]
    assert [p["data"]["opportunity"]["crm_id"] for p in crm_ids] == [f"OPP-{n}" for n in range(8)]
