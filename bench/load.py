"""Benchmark: ten minutes of mixed traffic on loopback, then is everything stored
and every score current?

The working set: 50,000 leads with about 8 activities each of the last 120 days
(bench.data), every lead scored, 15 SDRs each with 40 open MQLs in their queue.
The servers: a gunicorn (3 workers) and two Celery workers (separate
processes, one task at a time each) on the bench PostgreSQL and Redis.

The traffic (locust, bench/load_locustfile.py, in its own process), each user
at a steady pace (so the rate stays the same for the whole run while answers
are quick), about 36 requests/s in all; a rate the two cores sustain beside
other work, not the most they can take:
- 10 integrations x 2.5 requests/s POST activity events to /api/activities/,
  19 single events for 1 batch of 100 (about 150 events/s), each event with a
  unique external id; every request makes a Celery task rescore its leads;
- 15 SDRs x 0.4/s log in through /login/ once, then open /queue/ and their
  leads' pages;
- 6 API readers x 0.75/s page through /api/leads/, /api/scores/ and
  /api/assignments/ with the token.

It stops by itself after BENCH_LOAD_SECONDS (600) or BENCH_LOAD_MAX_REQUESTS
requests, whichever comes first. Reported: requests/s overall and per kind,
the lowest and the median rate over 10-second windows (sustained), error rate,
5xx count (goal 0), p50/p95/p99 latency per kind, the broker's backlog, and the
CPU each part used. Checks, after the workers have drained the backlog:
every event an answer said was stored is in the database, once; no 5xx; no
lead has an event received after its score (the sweep's condition); and a
sample of leads scored again one by one with the Python engine, as of their
stored score's time, gives the stored fit, engagement and total.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from bench import data
from bench.common import (
    DEFAULT_WORKERS,
    RESULTS_DIR,
    _machine_busy,
    _tree_cpu,
    auth_headers,
    gunicorn,
    integration_token,
    percentile,
    postmaster_pid,
    wait_for_quiet,
    warm_up,
)
from bench.report import Report
from bench.rescore import broker_backlog, celery_workers, empty_broker, load, wait_until_drained
from handoff import roles

NAME = "load"
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "600"))
MAX_REQUESTS = int(os.environ.get("BENCH_LOAD_MAX_REQUESTS", "200000"))
LEADS = int(os.environ.get("BENCH_LOAD_LEADS", "50000"))
ACTIVITIES_PER_LEAD = 8
SDRS = 15
OPEN_PER_SDR = 40
EVENT_LEADS = 10_000  # the leads events are about (a few of them busy, most quiet)
# Users and each one's pace (task runs per second; a task is one request).
INTEGRATIONS = int(os.environ.get("BENCH_LOAD_INTEGRATIONS", "10"))
INTEGRATION_RATE = float(os.environ.get("BENCH_LOAD_INTEGRATION_RATE", "2.5"))
SDR_RATE = float(os.environ.get("BENCH_LOAD_SDR_RATE", "0.4"))
READERS = int(os.environ.get("BENCH_LOAD_READERS", "6"))
READER_RATE = float(os.environ.get("BENCH_LOAD_READER_RATE", "0.75"))
RAMP_SECONDS = 5  # every user started within this time
WINDOW = 10  # seconds per window of the sustained rate
DRAIN_LIMIT = float(os.environ.get("BENCH_LOAD_DRAIN_SECONDS", "300"))
CHECK_TOUCHED, CHECK_UNTOUCHED = 3000, 500  # leads scored again for the last check
SOURCE = "bench-load"
WARMUP_SOURCE = "bench-warmup"  # bench.common.warm_up's events
SDR_PASSWORD = "bench-load-sdr-password"  # throwaway database, throwaway users
LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"


def _sql(sql: str, params: list | tuple | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- The working set ------------------------------------------------------------------


def score_every_lead(first: int, last: int) -> float:
    """Scores every lead set-wise, as a full rescore does; seconds taken. The
    MQL crossings it causes enqueue routing tasks, which are dropped: those
    leads stay MQLs without an SDR, which the load does not look at."""
    from scoring.selectors import live_model
    from scoring.services import rescore_id_range

    started = time.perf_counter()
    rescore_id_range(model=live_model(), first_id=first, last_id=last, as_of=timezone.now())
    empty_broker()
    return time.perf_counter() - started


def make_sdrs() -> list[User]:
    """SDRs with a password, members of both queues with room for every MQL
    the load makes (so routing never has to wait for capacity)."""
    from routing.models import Membership, Queue

    group = Group.objects.get(name=roles.SDR)
    password = make_password(SDR_PASSWORD)  # hashed once: hashing is slow on purpose
    sdrs = []
    for i in range(SDRS):
        user, _ = User.objects.update_or_create(
            username=f"bench-load-sdr-{i + 1:02d}",
            defaults={
                "first_name": "Load",
                "last_name": f"SDR {i + 1:02d}",
                "password": password,
                "is_active": True,
            },
        )
        user.groups.add(group)
        sdrs.append(user)
    Membership.objects.all().delete()
    Membership.objects.bulk_create(
        Membership(queue=queue, sdr=sdr, capacity=10_000)
        for queue in Queue.objects.all()
        for sdr in sdrs
    )
    return sdrs


def give_open_assignments(sdrs: list[User]) -> dict[int, list[int]]:
    """OPEN_PER_SDR open MQLs per SDR in the catch-all queue, set-wise, routed
    over the last two days with a 24-hour SLA (so some are overdue). Returns
    each SDR's assignment ids (a lead page is /queue/<assignment id>/)."""
    from routing.models import Queue

    queue = Queue.objects.get(name="Inbound MQLs")
    sdr_ids = [u.pk for u in sdrs]
    lead_ids = [
        row[0]
        for row in _sql(
            "SELECT id FROM leads_lead WHERE stage IN ('lead', 'nurture') ORDER BY hashint8(id)"
            " LIMIT %s",
            [len(sdrs) * OPEN_PER_SDR],
        )
    ]
    _sql("UPDATE leads_lead SET stage = 'mql' WHERE id = ANY(%s)", [lead_ids])
    _sql(
        "INSERT INTO routing_assignment (lead_id, queue_id, sdr_id, status, created_at,"
        " assigned_at, due_at, remind_at, first_touch_at, breached_at, closed_at, why,"
        " waiting_reason) "
        "SELECT id, %s, (%s::bigint[])[1 + mod(n, %s)], 'open', at, at,"
        " at + interval '24 hours', at + interval '18 hours', NULL, NULL, NULL,"
        " jsonb_build_object('queue', 'Inbound MQLs', 'matched_on', 'catch-all queue'), ''"
        " FROM (SELECT id, row_number() OVER (ORDER BY id) AS n,"
        "       now() - make_interval(secs => mod(abs(hashint8(id)), 172800)) AS at"
        "       FROM leads_lead WHERE id = ANY(%s)) l",
        [queue.pk, sdr_ids, len(sdr_ids), lead_ids],
    )
    _sql(
        "UPDATE routing_membership m SET assigned_count = a.n FROM (SELECT sdr_id, count(*) n"
        " FROM routing_assignment GROUP BY sdr_id) a WHERE a.sdr_id = m.sdr_id"
        " AND m.queue_id = %s",
        [queue.pk],
    )
    for table in ("leads_lead", "routing_assignment", "scoring_leadscore", "routing_membership"):
        _sql(f"VACUUM ANALYZE {table}")
    mine: dict[int, list[int]] = {u.pk: [] for u in sdrs}
    for sdr_id, assignment_id in _sql(
        "SELECT sdr_id, id FROM routing_assignment WHERE status = 'open'"
    ):
        mine[sdr_id].append(assignment_id)
    return mine


def make_plan(token: str, sdrs: list[User], assigned: dict[int, list[int]]) -> dict[str, Any]:
    """What the locust process needs: who logs in, which leads, how fast."""
    leads = _sql(
        "SELECT id, email FROM leads_lead WHERE stage NOT IN ('disqualified')"
        " ORDER BY hashint8(id + 17) LIMIT %s",
        [EVENT_LEADS],
    )
    counts = dict(
        zip(
            ("leads", "scores", "assignments"),
            _sql(
                "SELECT (SELECT count(*) FROM leads_lead),"
                " (SELECT count(*) FROM scoring_leadscore),"
                " (SELECT count(*) FROM routing_assignment)"
            )[0],
            strict=True,
        )
    )
    return {
        "run": f"load-{time.time_ns()}",
        "source_system": SOURCE,
        # The header as bench.common builds it (whatever the token scheme).
        "authorization": auth_headers(token)["Authorization"],
        "max_requests": MAX_REQUESTS,
        "integrations": INTEGRATIONS,
        "integration_rate": INTEGRATION_RATE,
        "sdr_rate": SDR_RATE,
        "readers": READERS,
        "reader_rate": READER_RATE,
        "sdrs": [
            {"username": u.username, "password": SDR_PASSWORD, "assignment_ids": assigned[u.pk]}
            for u in sdrs
        ],
        "event_leads": [list(row) for row in leads],
        "pages": {k: max(1, -(-n // 50)) for k, n in counts.items()},  # 50 per page
    }


# --- Running it ------------------------------------------------------------------------


class Cpu:
    """CPU seconds of each part (process trees) between two samples, and of the
    load generator: this process's reaped children (locust, once it exited)."""

    def __init__(self, roots: dict[str, list[int]]):
        self.roots = roots

    def sample(self) -> dict[str, float]:
        values = {part: sum(_tree_cpu(pid) for pid in pids) for part, pids in self.roots.items()}
        values["load generator"] = sum(os.times()[2:4])
        return {**values, "machine": _machine_busy(), "time": time.perf_counter()}

    @staticmethod
    def cores(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
        elapsed = end["time"] - start["time"]
        used = {k: (end[k] - start[k]) / elapsed for k in start if k != "time"}
        used["others"] = max(0.0, used.pop("machine") - sum(used.values()))
        return used


def run_locust(
    base_url: str,
    plan_path: Path,
    out_path: Path,
    cpu: Cpu,
) -> tuple[int, list[int], dict[str, float]]:
    """Runs locust headless until it stops by itself (time or count); kills its
    process group if it overstays. Returns its exit code, the broker backlog
    sampled every 5 s, and the CPU each part used meanwhile."""
    users = INTEGRATIONS + SDRS + READERS
    log = RESULTS_DIR / f"{NAME}.locust.log"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base_url,
        "--users",
        str(users),
        "--spawn-rate",
        str(users / RAMP_SECONDS),
        "--run-time",
        f"{int(SECONDS)}s",
        "--stop-timeout",
        "30",
        "--only-summary",
        "--csv",
        str(RESULTS_DIR / f"{NAME}.locust"),
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_path), "BENCH_LOAD_OUT": str(out_path)}
    backlog: list[int] = []
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )  # its own process group
        before = cpu.sample()
        deadline = time.monotonic() + SECONDS + 90
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"locust still running {SECONDS + 90:.0f} s after it started; see {log}"
                    )
                backlog.append(broker_backlog())
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
            after = cpu.sample()  # locust reaped: its CPU is in our children's times
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    return process.returncode, backlog, Cpu.cores(before, after)


def _log_errors(*paths: Path) -> int:
    count = 0
    for path in paths:
        if path.exists():
            count += sum(
                1
                for line in path.read_text(errors="replace").splitlines()
                if "Traceback" in line or "ERROR" in line
            )
    return count


# --- The checks ------------------------------------------------------------------------------


def stale_scores() -> tuple[int, list[int]]:
    """Leads with an event of the run received after their score was stored,
    or with no score at all: sweep_unscored_leads' condition."""
    rows = _sql(
        "SELECT DISTINCT a.lead_id FROM leads_activity a"
        " LEFT JOIN scoring_leadscore s ON s.lead_id = a.lead_id"
        " WHERE a.source_system IN (%s, %s)"
        " AND (s.lead_id IS NULL OR a.received_at > s.scored_at) ORDER BY 1",
        [SOURCE, WARMUP_SOURCE],
    )
    return len(rows), [r[0] for r in rows[:5]]


def fresh_scores_match(touched: list[int]) -> tuple[int, list[str]]:
    """Scores a sample of leads again, one by one with the Python engine, as of
    their stored score's time; returns how many were compared and the first
    differences."""
    from leads.models import Lead
    from scoring.models import LeadScore
    from scoring.services.scores import score_one

    rng = random.Random(20260601)
    touched_set = set(touched)
    sample = rng.sample(touched, min(CHECK_TOUCHED, len(touched)))
    first, last = _sql("SELECT min(id), max(id) FROM leads_lead")[0]
    untouched = [
        i for i in rng.sample(range(first, last + 1), CHECK_UNTOUCHED * 2) if i not in touched_set
    ][:CHECK_UNTOUCHED]
    ids = sample + untouched
    leads = Lead.objects.select_related("account", "source").in_bulk(ids)
    scores = LeadScore.objects.select_related("model").in_bulk(ids)
    cent = Decimal("0.01")
    differences = []
    for lead_id in ids:
        score = scores.get(lead_id)
        if score is None:
            differences.append(f"lead {lead_id}: no score")
            continue
        fresh = score_one(score.model, leads[lead_id], as_of=score.scored_at)
        got = tuple(Decimal(v).quantize(cent) for v in (fresh.fit, fresh.engagement, fresh.total))
        stored = (score.fit, score.engagement, score.total)
        if got != stored:
            differences.append(
                f"lead {lead_id}: stored fit/engagement/total {stored}, scored again {got}"
            )
    return len(ids), differences


def routed_during(since) -> tuple[int, int]:
    """Leads that became MQLs during the run, and how many of those got an
    open (or waiting) assignment."""
    crossed, routed = _sql(
        "SELECT count(DISTINCT c.lead_id), count(DISTINCT a.lead_id) FROM leads_stagechange c"
        " LEFT JOIN routing_assignment a ON a.lead_id = c.lead_id"
        "  AND a.status IN ('open', 'waiting')"
        " WHERE c.to_stage = 'mql' AND c.changed_at >= %s",
        [since],
    )[0]
    return crossed, routed


# --- The benchmark ------------------------------------------------------------------------------


def run() -> Report:
    report = Report(
        NAME,
        config={
            "seconds": SECONDS,
            "max_requests": MAX_REQUESTS,
            "leads": LEADS,
            "activities_per_lead": ACTIVITIES_PER_LEAD,
            "sdrs": SDRS,
            "open_assignments_per_sdr": OPEN_PER_SDR,
            "event_leads": EVENT_LEADS,
            "users": {
                "integrations": f"{INTEGRATIONS} x {INTEGRATION_RATE:g} requests/s "
                "(19 single events : 1 batch of 100)",
                "sdrs": f"{SDRS} x {SDR_RATE:g} requests/s (1 /queue/ : 2 lead pages)",
                "api_readers": f"{READERS} x {READER_RATE:g} requests/s "
                "(2 leads : 2 scores : 1 assignments)",
            },
            "gunicorn_workers": DEFAULT_WORKERS,
            "celery_workers": "2 processes, solo pool",
            "conn_max_age": os.environ.get("CONN_MAX_AGE", "0"),
            "load_at_start": load(),
        },
    )
    started = time.perf_counter()
    ensured = data.ensure(leads=LEADS, activities_per_lead=ACTIVITIES_PER_LEAD)
    data.reset_derived()
    first, last = ensured.lead_ids
    scoring_seconds = score_every_lead(first, last)
    sdrs = make_sdrs()
    assigned = give_open_assignments(sdrs)
    token = integration_token()
    plan = make_plan(token, sdrs, assigned)
    plan_path, out_path = RESULTS_DIR / f"{NAME}.plan.json", RESULTS_DIR / f"{NAME}.out.json"
    RESULTS_DIR.mkdir(exist_ok=True)
    plan_path.write_text(json.dumps(plan))
    out_path.unlink(missing_ok=True)
    report.config["data"] = {
        "set": ensured.spec.label,
        "activities": ensured.activities,
        "initial scoring_s": round(scoring_seconds, 1),
        "setup_s": round(time.perf_counter() - started, 1),
    }
    print(
        f"   working set ready in {time.perf_counter() - started:.0f} s "
        f"(scoring every lead: {scoring_seconds:.0f} s)",
        flush=True,
    )

    logs = [RESULTS_DIR / f"{NAME}.worker{i}.log" for i in (1, 2)]
    logs.append(RESULTS_DIR / f"{NAME}.gunicorn.log")
    for path in logs:
        path.unlink(missing_ok=True)
    target_rate = INTEGRATIONS * INTEGRATION_RATE + SDRS * SDR_RATE + READERS * READER_RATE
    empty_broker()
    with celery_workers(2, name=NAME) as worker_pids, gunicorn(name=NAME) as server:
        warm_up(server.url, token, plan["event_leads"][0][0], workers=DEFAULT_WORKERS)
        wait_until_drained(60)
        wait_for_quiet(patience=60)
        since = _sql("SELECT now()")[0][0]
        report.config["load_before"] = load()
        print(f"   {SECONDS:.0f} s of load at about {target_rate:.0f} requests/s …", flush=True)
        cpu = Cpu(
            {
                "web": [server.pid],
                "workers": worker_pids,
                "database": [p for p in [postmaster_pid()] if p],
            }
        )
        exit_code, backlog, cores = run_locust(server.url, plan_path, out_path, cpu)
        report.config["load_after"] = load()
        drain_seconds, drained = wait_until_drained(DRAIN_LIMIT)

    # --- What the users saw ---
    if not out_path.exists():
        report.check(
            "locust ran and wrote its results",
            False,
            f"exit code {exit_code}; see {RESULTS_DIR / (NAME + '.locust.log')}",
        )
        return report
    out = json.loads(out_path.read_text())
    statuses = {name: {int(k): v for k, v in by.items()} for name, by in out["statuses"].items()}
    # Every kind of request but logging in, in the locustfile's order.
    kinds = [k for k in out["names"] if k in out["latencies_ms"]]
    duration = max(1e-9, out["ended"] - out["started"])
    total = sum(sum(by.values()) for by in statuses.values())
    server_errors = sum(n for by in statuses.values() for s, n in by.items() if s >= 500)
    no_answer = sum(by.get(0, 0) for by in statuses.values())
    logins = statuses.get("/login/", {})
    failed = sum(
        n
        for name, by in statuses.items()
        for s, n in by.items()
        if not (200 <= s < 300 or (name == "/login/" and s == 302))
    )
    windows = _window_rates(out["per_second"], out["all_logged_in"])

    report.config["locust_exit_code"] = exit_code
    report.config["stopped_by"] = "count" if out["stopped_by_count"] else "time"
    if out["all_logged_in"]:
        report.config["every_sdr_logged_in_after_s"] = round(
            out["all_logged_in"] - out["started"], 1
        )
    report.figure("duration", duration, "s")
    report.figure("requests", total, "requests")
    report.figure("requests/s overall", total / duration, "req/s")
    report.figure(
        "requests/s sustained (lowest 10 s window)",
        min(windows, default=0.0),
        "req/s",
        at_least=0.9 * target_rate,
    )
    report.figure(
        "requests/s median 10 s window", statistics.median(windows) if windows else 0.0, "req/s"
    )
    report.figure("error rate", 100 * failed / max(1, total), "%", below=0.1)
    report.figure("5xx answers", server_errors, "requests", below=1)
    report.figure("requests without an answer", no_answer, "requests", below=1)
    all_latencies = [v for k in kinds for v in out["latencies_ms"][k]]
    for p in (50, 95, 99):
        report.figure(f"all: latency p{p}", percentile(all_latencies, p), "ms")
    for kind in kinds:
        values = out["latencies_ms"][kind]
        report.figure(f"{kind}: requests/s", len(values) / duration, "req/s")
        for p in (50, 95, 99):
            report.figure(f"{kind}: latency p{p}", percentile(values, p), "ms")
    events = out["events"]
    report.figure("events accepted", events.get("stored", 0), "events")
    report.figure("events/s accepted", events.get("stored", 0) / duration, "events/s")
    for part, used in cores.items():
        report.figure(f"CPU: {part}", used, "cores")
    # Less sensitive to others' load on the machine than the rates are.
    ours = sum(v for k, v in cores.items() if k != "others") * duration
    report.figure("CPU per request (web, workers, database, locust)", ours / total * 1000, "ms")
    report.figure(
        "broker backlog: median", statistics.median(backlog) if backlog else 0.0, "messages"
    )
    report.figure("broker backlog: max", max(backlog, default=0), "messages")
    report.figure("drain after the load", drain_seconds, "s")
    crossed, routed = routed_during(since)
    report.figure("new MQLs during the load", crossed, "leads")
    report.figure("new MQLs with an open assignment", routed, "leads")
    report.figure("errors in worker and gunicorn logs", _log_errors(*logs), "lines", below=1)

    # --- The checks ---
    report.check(
        "every SDR logged in",
        logins.get(302, 0) == SDRS,
        f"{logins.get(302, 0)} of {SDRS} logins answered 302; {logins}"
        " (the login page's GET answers 200)",
    )
    report.check(
        "no 5xx answer and no request without an answer",
        server_errors == 0 and no_answer == 0 and out["user_errors"] == 0,
        f"{server_errors} 5xx, {no_answer} without an answer, "
        f"{out['user_errors']} errors in the users' code; first errors: "
        f"{out['first_error'] or 'none'}",
    )
    stored_rows = _sql("SELECT count(*) FROM leads_activity WHERE source_system = %s", [SOURCE])[0][
        0
    ]
    report.figure("events stored", stored_rows, "events")
    # Requests still in flight when locust stopped its users got no answer:
    # their events may or may not have been stored, and neither is a loss.
    in_flight = events.get("sent", 0) - events.get("answered", 0)
    report.figure("events in requests cut off when the load stopped", in_flight, "events")
    accepted = events.get("received", 0)
    report.check(
        "events stored = events accepted, none lost or stored twice",
        accepted == events.get("stored", 0)
        and events.get("duplicates", 0) == 0
        and accepted <= stored_rows <= accepted + in_flight,
        f"{stored_rows:,} rows for {accepted:,} accepted (+{in_flight} cut off unanswered); "
        f"answers: {events}",
    )
    report.check(
        "workers drained the backlog",
        drained,
        f"in {drain_seconds:.0f} s"
        if drained
        else f"{broker_backlog()} messages left after {DRAIN_LIMIT:.0f} s",
    )
    stale, examples = stale_scores()
    report.check(
        "every lead's score is current (no event received after it)",
        stale == 0,
        f"{stale} leads behind" + (f", e.g. {examples}" if stale else ""),
    )
    touched = [
        r[0]
        for r in _sql(
            "SELECT DISTINCT lead_id FROM leads_activity WHERE source_system = %s", [SOURCE]
        )
    ]
    report.figure("leads that got events", len(touched), "leads")
    t = time.perf_counter()
    compared, differences = fresh_scores_match(touched)
    report.check(
        "stored scores = scored again one by one (Python engine)",
        not differences,
        f"{compared} leads compared in {time.perf_counter() - t:.0f} s"
        + (f"; {len(differences)} differ: {differences[:3]}" if differences else ""),
    )
    return report


def _window_rates(per_second: dict[str, int], steady_from: float | None) -> list[float]:
    """Requests/s in each whole 10-second window of the steady state: from when
    every user has started and every SDR has logged in, leaving out the last
    seconds (the users stopping)."""
    if not per_second:
        return []
    counts = {int(k): v for k, v in per_second.items()}
    start = max(min(counts) + RAMP_SECONDS, int(steady_from or 0) + 1)
    end = max(counts) - 2
    return [
        sum(counts.get(s, 0) for s in range(w, w + WINDOW)) / WINDOW
        for w in range(start, end - WINDOW + 1, WINDOW)
    ]
