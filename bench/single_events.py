"""Benchmark 2: single-event POSTs under concurrent load.

Closed loop: concurrent clients, each on its own connection, POST one event per
request to a gunicorn on loopback, as fast as answers come, for a fixed number
of requests or a time limit, whichever comes first. Goal: at least 200
requests/s with a 95th percentile latency under 50 ms on a 2-core machine, and
no errors. With C clients, latency is about C / throughput by construction.

Open loop: then, events arrive at a steady 200/s whatever the answers' pace, as
from many independent senders; latency counts from when each was due. Goal: a
95th percentile under 50 ms there too.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

from bench.common import (
    DEFAULT_WORKERS,
    CpuMeter,
    checkpoint,
    count_where,
    describe_failures,
    ensure_leads,
    gunicorn,
    integration_token,
    lead_ref,
    percentile,
    post_at_rate,
    post_concurrently,
    postmaster_pid,
    truncate_activities,
    wait_for_quiet,
    warm_up,
)
from bench.report import Report

NAME = "single_events"
LEADS = 10_000
REQUESTS = int(os.environ.get("BENCH_SINGLE_REQUESTS", "5000"))
TIME_LIMIT = float(os.environ.get("BENCH_SINGLE_SECONDS", "30"))
CLIENTS = int(os.environ.get("BENCH_SINGLE_CLIENTS", "8"))
STEADY_RATE = float(os.environ.get("BENCH_SINGLE_RATE", "200"))
STEADY_SECONDS = float(os.environ.get("BENCH_SINGLE_STEADY_SECONDS", "15"))
SOURCE = "bench-single"


def make_bodies(lead_ids: list[int]) -> list[bytes]:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    return [
        json.dumps(
            {
                **lead_ref(n, (n * 7919) % len(lead_ids), lead_ids),
                "kind": "pricing_page_view" if n % 4 == 0 else "page_view",
                "url": f"https://www.bench-vendor.example/page/{n % 50}",
                "properties": {"utm_source": "ads"},
                "occurred_at": (start + timedelta(seconds=n)).isoformat(),
                "source_system": SOURCE,
                "external_id": f"single-{n}",
            }
        ).encode()
        for n in range(REQUESTS + int(STEADY_RATE * STEADY_SECONDS))
    ]


def run() -> Report:
    workers = DEFAULT_WORKERS
    report = Report(
        NAME,
        config={
            "requests": REQUESTS,
            "time_limit_s": TIME_LIMIT,
            "clients": CLIENTS,
            "steady_rate": STEADY_RATE,
            "steady_seconds": STEADY_SECONDS,
            "gunicorn_workers": workers,
            "conn_max_age": os.environ.get("CONN_MAX_AGE", "0"),
        },
    )
    lead_ids = ensure_leads(LEADS)
    token = integration_token()
    bodies = make_bodies(lead_ids)
    truncate_activities()
    database = postmaster_pid()
    with gunicorn(name=NAME, workers=workers) as server:
        warm_up(server.url, token, lead_ids[0], workers=workers)
        checkpoint()
        wait_for_quiet()
        with CpuMeter(web=server.pid, database=database) as cpu:
            load = post_concurrently(
                server.url,
                token,
                bodies[:REQUESTS],
                clients=CLIENTS,
                time_limit=TIME_LIMIT,
                keep_body=lambda status: status != 201,
            )
        wait_for_quiet()
        steady = post_at_rate(
            server.url, token, bodies[REQUESTS:], rate=STEADY_RATE, time_limit=STEADY_SECONDS * 2
        )
    ok = [o for o in load.outcomes if o.status == 201]
    failures = [o for o in load.outcomes if o.status != 201]
    latencies = load.latencies
    report.figure("requests/s", len(load.outcomes) / load.elapsed, "req/s", at_least=200)
    report.figure("latency p50", percentile(latencies, 50) * 1000, "ms")
    report.figure("latency p95", percentile(latencies, 95) * 1000, "ms", below=50)
    report.figure("latency p99", percentile(latencies, 99) * 1000, "ms")
    report.figure("errors", len(failures), "requests", below=1)
    report.figure("requests sent", len(load.outcomes), "requests")
    cpu.report(report, count=len(load.outcomes), unit="request")
    steady_latencies = steady.latencies
    steady_failures = [o for o in steady.outcomes if o.status != 201]
    label = f"at a steady {STEADY_RATE:g}/s:"
    report.figure(f"{label} latency p50", percentile(steady_latencies, 50) * 1000, "ms")
    report.figure(f"{label} latency p95", percentile(steady_latencies, 95) * 1000, "ms", below=50)
    report.figure(f"{label} errors", len(steady_failures), "requests", below=1)
    unsent = len(bodies) - REQUESTS - len(steady.outcomes)
    report.figure(f"{label} left unsent, too far behind", unsent, "requests", below=1)
    ok += [o for o in steady.outcomes if o.status == 201]
    failures += steady_failures
    stored = count_where(SOURCE)
    report.check(
        "every accepted event stored once",
        stored == len(ok),
        f"{stored:,} rows for {len(ok):,} answers 201"
        + (f"; {describe_failures(failures)}" if failures else ""),
    )
    truncate_activities()
    return report
