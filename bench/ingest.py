"""Benchmark 1: bulk ingestion of activity events.

100,000 events go through the bulk API (POST /api/activities/, lists of 1,000,
token of an Integration user, a few concurrent connections to a gunicorn on
loopback), then the same rows go into an emptied table with a raw COPY, the
fastest way PostgreSQL takes rows. Goal: the API reaches a tenth of COPY's rate.
Checks: each way stores exactly 100,000 rows, and a replayed batch stores none.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from django.conf import settings
from django.utils import timezone

from bench.common import (
    DEFAULT_WORKERS,
    CpuMeter,
    auth_headers,
    checkpoint,
    count_where,
    describe_failures,
    ensure_leads,
    gunicorn,
    integration_token,
    lead_ref,
    percentile,
    post_concurrently,
    postmaster_pid,
    truncate_activities,
    wait_for_quiet,
    warm_up,
)
from bench.report import Report
from leads.models import Activity

NAME = "ingest"
LEADS = 10_000
EVENTS = int(os.environ.get("BENCH_INGEST_EVENTS", "100000"))
BATCH = 1_000
CLIENTS = int(os.environ.get("BENCH_INGEST_CLIENTS", "4"))
TIME_LIMIT = 600.0  # seconds for the API phase; the run reports what it got by then
SOURCE = "bench-ingest"
KINDS = (
    "page_view",
    "page_view",
    "page_view",
    "pricing_page_view",
    "email_open",
    "email_click",
    "content_download",
    "form_submit",
    "webinar_registration",
)


def make_events(lead_ids: list[int]) -> tuple[list[dict[str, Any]], list[int]]:
    """The events as an integration would send them, and each one's lead number."""
    rng = random.Random(20260101)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events, numbers = [], []
    for n in range(EVENTS):
        number = rng.randrange(len(lead_ids))
        kind = KINDS[rng.randrange(len(KINDS))]
        events.append(
            {
                **lead_ref(n, number, lead_ids),
                "kind": kind,
                "url": f"https://www.bench-vendor.example/{kind.replace('_', '-')}/{n % 50}",
                "properties": {
                    "utm_source": ("newsletter", "ads", "organic")[n % 3],
                    "campaign": f"spring-{n % 20}",
                },
                "occurred_at": (start + timedelta(seconds=n)).isoformat(),
                "source_system": SOURCE,
                "external_id": f"evt-{n}",
            }
        )
        numbers.append(number)
    return events, numbers


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
            "conn_max_age": os.environ.get("CONN_MAX_AGE", "0"),
            "lead_reference_mix": "3/5 lead_email, 1/5 lead_external_id, 1/5 lead",
        },
    )
    lead_ids = ensure_leads(LEADS)
    token = integration_token()
    events, numbers = make_events(lead_ids)
    bodies = [json.dumps(events[i : i + BATCH]).encode() for i in range(0, EVENTS, BATCH)]
    now = timezone.now()
    rows = [
        (
            lead_ids[number],
            e["kind"],
            e["url"],
            json.dumps(e["properties"]),
            datetime.fromisoformat(e["occurred_at"]),
            e["source_system"],
            e["external_id"],
            now,
        )
        for e, number in zip(events, numbers, strict=True)
    ]
    # A fresh cluster first creates its WAL files and faults in its buffers: write
    # the rows once, untimed, so that both timed phases see a warm database.
    truncate_activities()
    copy_rows(rows)
    truncate_activities()

    # --- Through the API ---
    database = postmaster_pid()
    with gunicorn(name=NAME, workers=workers) as server:
        warm_up(server.url, token, lead_ids[0], workers=workers)
        checkpoint()
        wait_for_quiet()
        with CpuMeter(web=server.pid, database=database) as api_cpu:
            load = post_concurrently(
                server.url, token, bodies, clients=CLIENTS, time_limit=TIME_LIMIT
            )
        with httpx.Client(base_url=server.url, headers=auth_headers(token), timeout=120) as client:
            replay = client.post("/api/activities/", content=bodies[0])
    api_stored = count_where(SOURCE)
    api_rate = api_stored / load.elapsed
    batch_latencies = [o.latency for o in load.outcomes if o.status == 201]
    errors = [o for o in load.outcomes if o.status != 201]
    report.figure("API events/s", api_rate, "events/s")
    report.figure("API batch latency p50", percentile(batch_latencies, 50) * 1000, "ms")
    report.figure("API batch latency p95", percentile(batch_latencies, 95) * 1000, "ms")
    api_cpu.report(report, prefix="API phase ", count=api_stored, unit="event", scale=1000)
    report.check(
        "API answered 201 to every batch",
        not errors and not load.stopped_by_time,
        describe_failures(errors)
        or (
            "stopped by the time limit" if load.stopped_by_time else f"{len(load.outcomes)} batches"
        ),
    )
    stored_said = sum(json.loads(o.body)["stored"] for o in load.outcomes if o.status == 201)
    report.check(
        "API stored every event once",
        api_stored == EVENTS == stored_said,
        f"{api_stored:,} rows, responses said {stored_said:,}",
    )
    replay_body = (
        replay.json()
        if replay.headers.get("content-type", "").startswith("application/json")
        else replay.text[:200]
    )
    report.check(
        "replayed batch stored nothing new",
        replay.status_code == 200
        and replay_body == {"received": BATCH, "stored": 0, "duplicates": BATCH}
        and count_where(SOURCE) == api_stored,
        f"{replay.status_code} {replay_body}",
    )

    # --- The same rows with COPY, into an emptied table ---
    truncate_activities()
    wait_for_quiet()
    with CpuMeter(database=database) as copy_cpu:
        copy_elapsed = copy_rows(rows)
    copy_stored = count_where(SOURCE)
    copy_rate = copy_stored / copy_elapsed
    report.figure("COPY events/s", copy_rate, "events/s")
    copy_cpu.report(report, prefix="COPY phase ", count=copy_stored, unit="event", scale=1000)
    report.figure("API / COPY", api_rate / copy_rate, "ratio", at_least=0.1)
    report.check("COPY stored every event once", copy_stored == EVENTS, f"{copy_stored:,} rows")
    truncate_activities()
    return report


def copy_rows(rows: list[tuple]) -> float:
    """COPY the rows in one transaction on a raw psycopg connection; seconds taken."""
    db = settings.DATABASES["default"]
    table = Activity._meta.db_table
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
    ) as conn:
        checkpoint()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY {table} (lead_id, kind, url, properties, occurred_at, source_system,"
                " external_id, received_at) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started
