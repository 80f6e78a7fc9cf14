"""Benchmark: outgoing webhooks with real Celery workers to receivers on loopback.

Latency: events recorded one by one (each its own transaction, as a change
makes them), one endpoint that answers at once: from the commit to the
receiver's arrival, median and 95th percentile. Goal: p95 under 1 s.

Drain: BENCH_WEBHOOK_EVENTS (10,000) events to three endpoints: one healthy,
one failing 30 % of its requests at random (503), one down (connection
refused) for the first BENCH_WEBHOOK_DOWN_SECONDS (60). Checks: every event
reaches every endpoint, each in the order recorded (by first arrival), and an
event that arrives twice carries the same webhook-id (ids are per event).
Figures: the time to drain, and how many requests were repeats.

The workers back off from 1 s up to 1 min here (WEBHOOK_BACKOFF_BASE_SECONDS,
WEBHOOK_MAX_BACKOFF_MINUTES), so the down endpoint is retried within a minute
of coming back; production starts at 10 s.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import free_port, percentile
from bench.report import Report

NAME = "webhooks"
LATENCY_EVENTS = int(os.environ.get("BENCH_WEBHOOK_LATENCY_EVENTS", "300"))
EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
DOWN_SECONDS = float(os.environ.get("BENCH_WEBHOOK_DOWN_SECONDS", "60"))
FAIL_RATE = 0.3
WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "2"))
DRAIN_LIMIT = float(os.environ.get("BENCH_WEBHOOK_DRAIN_LIMIT", "1800"))


class Receiver:
    """Records (arrival time, webhook-id, status) of every request."""

    def __init__(self, *, fail_rate: float = 0.0, port: int | None = None):
        self.fail_rate = fail_rate
        self.port = port or free_port()
        self.arrivals: list[tuple[float, str, int]] = []
        self.lock = threading.Lock()
        self.rng = random.Random(14)
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    status = 503 if receiver.rng.random() < receiver.fail_rate else 204
                    receiver.arrivals.append((time.time(), self.headers["webhook-id"], status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def taken(self) -> list[str]:
        """Ids answered 2xx, in order of first arrival."""
        with self.lock:
            return list(dict.fromkeys(i for _, i, s in self.arrivals if s < 300))


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE handoff_webhookattempt, handoff_webhookdelivery, handoff_outboxevent, "
            "handoff_webhookendpoint CASCADE"
        )


def _endpoint(url: str, name: str):
    from handoff.models import EventType
    from handoff.webhooks import services

    return services.create_endpoint(
        name=name, url=url, event_types=[EventType.LEAD_SQL], by=None
    ).endpoint


def _record(n: int):
    from handoff.models import EventType
    from handoff.webhooks.outbox import record_event

    return record_event(type=EventType.LEAD_SQL, data={"n": n})


def run() -> Report:
    from django.conf import settings

    from bench.rescore import celery_workers, empty_broker

    report = Report(NAME)
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receivers are on loopback
    os.environ.update(
        WEBHOOKS_ALLOW_PRIVATE="true",
        WEBHOOK_BACKOFF_BASE_SECONDS=os.environ.get("BENCH_WEBHOOK_BACKOFF_SECONDS", "1"),
        WEBHOOK_MAX_BACKOFF_MINUTES="1",
    )
    report.config = {
        "latency_events": LATENCY_EVENTS,
        "events": EVENTS,
        "endpoints": 3,
        "fail_rate": FAIL_RATE,
        "down_seconds": DOWN_SECONDS,
        "workers": f"{WORKERS} Celery worker processes (solo pool) on the bench Redis",
        "first backoff (s)": os.environ.get("BENCH_WEBHOOK_BACKOFF_SECONDS", "1"),
    }
    _reset()
    empty_broker()
    with celery_workers(WORKERS, name=NAME):
        _latency(report)
        _reset()
        _drain(report)
    return report


def _latency(report: Report) -> None:
    receiver = Receiver().start()
    try:
        _endpoint(receiver.url, "latency")
        committed: dict[str, float] = {}
        for n in range(LATENCY_EVENTS):
            event = _record(n)
            committed[event.message_id] = time.time()
            time.sleep(0.02)
        deadline = time.monotonic() + 60
        while len(receiver.taken()) < LATENCY_EVENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        first = {}
        for at, message_id, _status in receiver.arrivals:
            first.setdefault(message_id, at)
        waits = [first[m] - committed[m] for m in committed if m in first]
        report.check(
            "latency: every event arrived",
            len(waits) == LATENCY_EVENTS,
            f"{len(waits)} of {LATENCY_EVENTS}",
        )
        if waits:
            report.figure("change to received, median", statistics.median(waits) * 1000, "ms")
            report.figure("change to received, p95", percentile(waits, 95) * 1000, "ms", below=1000)
    finally:
        receiver.stop()


def _drain(report: Report) -> None:
    healthy = Receiver().start()
    flaky = Receiver(fail_rate=FAIL_RATE).start()
    late = Receiver()  # not listening yet: connections are refused
    try:
        for receiver, name in ((healthy, "healthy"), (flaky, "flaky"), (late, "down at first")):
            _endpoint(receiver.url, name)
        started = time.monotonic()
        recorded: list[str] = []
        for n in range(EVENTS):
            recorded.append(_record(n).message_id)
            if not late.server and time.monotonic() - started >= DOWN_SECONDS:
                late.start()
        report.figure(f"recording {EVENTS:,} events (3 endpoints)", time.monotonic() - started, "s")
        while not late.server:
            time.sleep(0.2)
            if time.monotonic() - started >= DOWN_SECONDS:
                late.start()
        receivers = {"healthy": healthy, "flaky": flaky, "down at first": late}
        while time.monotonic() - started < DRAIN_LIMIT:
            if all(len(r.taken()) >= EVENTS for r in receivers.values()):
                break
            time.sleep(0.5)
        report.figure("time to drain", time.monotonic() - started, "s")
        for name, receiver in receivers.items():
            taken = receiver.taken()
            report.check(f"{name}: every event taken", len(taken) == EVENTS, f"{len(taken):,}")
            report.check(f"{name}: in the order recorded", taken == recorded[: len(taken)])
            report.figure(f"{name}: requests", len(receiver.arrivals), "")
            repeats = sum(1 for _, _, s in receiver.arrivals if s < 300) - len(taken)
            report.figure(f"{name}: repeats of a taken event (same id)", repeats, "")
        report.check(
            "ids are per event (a repeat carries the same id)",
            len(set(recorded)) == len(recorded),
            json.dumps({"events": len(recorded)}),
        )
    finally:
        for receiver in (healthy, flaky, late):
            receiver.stop()
