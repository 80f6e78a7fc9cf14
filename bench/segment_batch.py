"""Segment ``batch`` intake against the bulk activities API, in the same run.

The same events (50,000 by default) go in twice, to the same gunicorn, from
the same number of clients, in batches of 1,000: first as Segment's calls to
``POST /api/segment/v1/batch`` (track and page calls, sent with the write
key as HTTP Basic's username, as Segment's libraries send them; event names
mapped to kinds in part, the rest kept as "other"), then, into an emptied
table, as Handoff's own events to ``POST /api/activities/``. Figures: events
per second each way and their ratio. Checks: each way stores every event
once, and a replayed Segment batch stores none.

The people are known to Handoff already (each CDP user id linked to its
lead, as identify calls leave them): the benchmark measures the steady
state, not the first sight of each person.
"""

from __future__ import annotations

import base64
import json
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import (
    DEFAULT_WORKERS,
    CpuMeter,
    checkpoint,
    count_where,
    describe_failures,
    ensure_leads,
    gunicorn,
    integration_token,
    lead_external_id,
    percentile,
    post_concurrently,
    postmaster_pid,
    truncate_activities,
    wait_for_quiet,
    warm_up,
)
from bench.report import Report
from leads.intake import CDP_SOURCE_SYSTEM
from leads.models import EventMapping, HeldEvent, Identity

NAME = "segment_batch"
LEADS = 10_000
EVENTS = int(os.environ.get("BENCH_SEGMENT_EVENTS", "50000"))
BATCH = 1_000
CLIENTS = int(os.environ.get("BENCH_SEGMENT_CLIENTS", "4"))
TIME_LIMIT = 600.0
BULK_SOURCE = "bench-bulk"
# (Segment event name, the kind the bulk API gets): mapped ones and two that are not.
TRACKED = (
    ("Pricing Viewed", "pricing_page_view"),
    ("Email Opened", "email_open"),
    ("Email Link Clicked", "email_click"),
    ("Whitepaper Downloaded", "content_download"),
    ("Webinar Registered", "webinar_registration"),
    ("Trial Extended", "other"),
    ("Seat Added", "other"),
)
MAPPED = {name: kind for name, kind in TRACKED if kind != "other"}


def make_calls() -> list[dict[str, Any]]:
    """The calls as Segment sends them: one in three a page call, the rest track calls."""
    rng = random.Random(20261207)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    calls = []
    for n in range(EVENTS):
        user_id = lead_external_id(rng.randrange(LEADS))
        at = (start + timedelta(seconds=n)).isoformat()
        common = {
            "userId": user_id,
            "messageId": f"msg-{n}",
            "timestamp": at,
            "context": {"ip": "203.0.113.9", "library": {"name": "analytics-python"}},
        }
        if n % 3 == 0:
            calls.append(
                {
                    "type": "page",
                    "name": "Pricing",
                    "properties": {
                        "url": f"https://www.bench-vendor.example/pricing/{n % 50}",
                        "title": "Pricing",
                    },
                    **common,
                }
            )
        else:
            event, _ = TRACKED[n % len(TRACKED)]
            calls.append(
                {
                    "type": "track",
                    "event": event,
                    "properties": {"campaign": f"spring-{n % 20}", "plan": "team"},
                    **common,
                }
            )
    return calls


def as_bulk_event(n: int, call: dict[str, Any]) -> dict[str, Any]:
    """The same event in Handoff's own format (what a sender had to write before)."""
    if call["type"] == "page":
        kind, url = "page_view", call["properties"]["url"]
    else:
        kind, url = dict(TRACKED)[call["event"]], ""
    return {
        "lead_external_id": call["userId"],
        "kind": kind,
        **({"url": url} if url else {}),
        "properties": call["properties"],
        "occurred_at": call["timestamp"],
        "source_system": BULK_SOURCE,
        "external_id": f"evt-{n}",
    }


def link_identities() -> None:
    """Each bench lead's CDP user id linked to it, as identify calls leave them."""
    from leads.models import Lead

    leads = dict(
        Lead.objects.filter(external_id__startswith="bench-crm-").values_list("external_id", "pk")
    )
    Identity.objects.bulk_create(
        [
            Identity(kind=Identity.Kind.USER_ID, value=value, lead_id=pk)
            for value, pk in leads.items()
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )


def run() -> Report:
    workers = DEFAULT_WORKERS
    report = Report(
        NAME,
        config={
            "events": EVENTS,
            "batch": BATCH,
            "leads": LEADS,
            "clients": CLIENTS,
            "gunicorn_workers": workers,
            "mix": "1/3 page calls, 2/3 track calls (5 of 7 event names mapped)",
        },
    )
    lead_ids = ensure_leads(LEADS)
    link_identities()
    for name, kind in MAPPED.items():
        EventMapping.objects.update_or_create(event_name=name, defaults={"kind": kind})
    HeldEvent.objects.all().delete()
    token = integration_token()
    write_key = {
        "Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    calls = make_calls()
    segment_bodies = [
        json.dumps(
            {"batch": calls[i : i + BATCH], "sentAt": datetime.now(UTC).isoformat()}
        ).encode()
        for i in range(0, EVENTS, BATCH)
    ]
    bulk_events = [as_bulk_event(n, call) for n, call in enumerate(calls)]
    bulk_bodies = [json.dumps(bulk_events[i : i + BATCH]).encode() for i in range(0, EVENTS, BATCH)]
    truncate_activities()

    database = postmaster_pid()
    with gunicorn(name=NAME, workers=workers) as server:
        warm_up(server.url, token, lead_ids[0], workers=workers)

        # --- Segment batch ---
        checkpoint()
        wait_for_quiet()
        with CpuMeter(web=server.pid, database=database) as segment_cpu:
            segment = post_concurrently(
                server.url,
                token,
                segment_bodies,
                clients=CLIENTS,
                time_limit=TIME_LIMIT,
                path="/api/segment/v1/batch",
                headers=write_key,
            )
        segment_stored = count_where(CDP_SOURCE_SYSTEM)
        other_kept = _count_other_with_names()
        with httpx.Client(base_url=server.url, headers=write_key, timeout=120) as client:
            replay = client.post("/api/segment/v1/batch", content=segment_bodies[0])
        after_replay = count_where(CDP_SOURCE_SYSTEM)

        # --- The bulk API, into an emptied table ---
        truncate_activities()
        checkpoint()
        wait_for_quiet()
        with CpuMeter(web=server.pid, database=database) as bulk_cpu:
            bulk = post_concurrently(
                server.url, token, bulk_bodies, clients=CLIENTS, time_limit=TIME_LIMIT
            )
    bulk_stored = count_where(BULK_SOURCE)

    segment_rate = segment_stored / segment.elapsed
    bulk_rate = bulk_stored / bulk.elapsed
    report.figure("Segment batch events/s", segment_rate, "events/s")
    report.figure("bulk API events/s", bulk_rate, "events/s")
    report.figure("Segment / bulk API", segment_rate / bulk_rate if bulk_rate else 0.0, "ratio")
    for label, load in (("Segment", segment), ("bulk API", bulk)):
        ok = [o.latency for o in load.outcomes if 200 <= o.status < 300]
        report.figure(f"{label} batch latency p50", percentile(ok, 50) * 1000, "ms")
        report.figure(f"{label} batch latency p95", percentile(ok, 95) * 1000, "ms")
    segment_cpu.report(
        report, prefix="Segment phase ", count=segment_stored, unit="event", scale=1000
    )
    bulk_cpu.report(report, prefix="bulk phase ", count=bulk_stored, unit="event", scale=1000)

    segment_errors = [o for o in segment.outcomes if o.status != 200]
    bulk_errors = [o for o in bulk.outcomes if o.status != 201]
    report.check(
        "Segment: every batch answered 200",
        not segment_errors and not segment.stopped_by_time,
        describe_failures(segment_errors) or f"{len(segment.outcomes)} batches",
    )
    report.check(
        "Segment: every event stored once",
        segment_stored == EVENTS,
        f"{segment_stored:,} rows of {EVENTS:,}",
    )
    report.check(
        "Segment: unmapped events kept as other, with their names",
        other_kept == sum(1 for c in calls if c.get("event") in ("Trial Extended", "Seat Added")),
        f"{other_kept:,} rows",
    )
    replay_body = replay.json() if replay.status_code == 200 else replay.text[:200]
    report.check(
        "Segment: a replayed batch stored nothing new",
        replay.status_code == 200
        and replay_body["stored"] == 0
        and replay_body["duplicates"] == BATCH
        and after_replay == segment_stored,
        f"{replay.status_code} {replay_body}",
    )
    report.check(
        "bulk API: every batch answered 201 and every event stored once",
        not bulk_errors and bulk_stored == EVENTS,
        describe_failures(bulk_errors) or f"{bulk_stored:,} rows",
    )
    truncate_activities()
    return report


def _count_other_with_names() -> int:
    from leads.models import Activity

    return (
        Activity.objects.filter(source_system=CDP_SOURCE_SYSTEM, kind="other")
        .exclude(event_name="")
        .count()
    )
