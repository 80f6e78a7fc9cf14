"""Scoring at a million leads: single-lead scoring, full rescores against the
floor of rewriting the same rows, preview of a draft's impact, and freshness
from an API event to the stored score.

Data: 1,000,000 leads across 100,000 accounts of very different sizes, with
about 10,000,000 activities of the last 120 days (bench.data), under the
default live model from the migration.

1. Single lead: ``score_lead(lead_id=…)`` (the Python path, with its write)
   500 times for a lead with 200 activities. Goal: median under 5 ms.
2. Full rescore through the real job machinery: ``start_rescore`` in this
   process, the chunks run by real Celery workers (separate processes, one
   task at a time each) on the bench Redis. Timed from the call to the last
   chunk's commit. A job writes only the scores that changed. Five jobs:
   - the first scoring of every lead (rows inserted, MQL crossings);
   - a rescore under the same live version (what a manual rescore does):
     goal within 3x of the floor;
   - the same with chunks of BENCH_RESCORE_ALT_CHUNK leads (5,000) instead
     of the setting's 20,000: more, shorter transactions;
   - the same a day later (its as_of one day on), as the nightly rescore
     finds the leads: decay and windows have moved many scores;
   - publishing a new version (a clone with the same rules): every row gets
     the new model id, so every row is written; also within 3x of the floor.
   The floor is the same rows rewritten to themselves by bare UPDATEs split
   across as many connections as there are workers, timed in the same run
   (before and after the rescores; the figure is the faster of the two).
   Between phases, the follow-up tasks a job enqueues (its accounts' scores,
   routing of new MQLs) drain, timed, so that no phase shares the workers.
   Checks: every lead scored, every row holding the job's version, the rows
   stamped with the job's as_of being exactly the scores it changed, and the
   stored score of 200 random leads (written or left as it was) equals
   ``score_one(model, lead, as_of=job.as_of)``, explanation included.
3. Preview: a draft (the live version cloned, one rule's points changed)
   through ``preview_impact`` over every lead. Goal: under 10 s.
4. Freshness: 200 single events for different leads POSTed at a steady pace
   to a gunicorn, real workers rescoring; from each 201 answer to the stored
   score showing the event (scored after it, one more demo request in its
   explanation). Goal: p95 under 2 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import data
from bench.common import (
    RESULTS_DIR,
    auth_headers,
    checkpoint,
    gunicorn,
    integration_token,
    percentile,
    wait_for_quiet,
)
from bench.report import Report

NAME = "rescore"
LEADS = int(os.environ.get("BENCH_RESCORE_LEADS", "1000000"))
ACTIVITIES_PER_LEAD = int(os.environ.get("BENCH_RESCORE_ACTIVITIES_PER_LEAD", "10"))
WORKERS = int(os.environ.get("BENCH_RESCORE_WORKERS", "2"))
JOB_TIME_LIMIT = float(os.environ.get("BENCH_RESCORE_JOB_SECONDS", "900"))
DRAIN_TIME_LIMIT = float(os.environ.get("BENCH_RESCORE_DRAIN_SECONDS", "300"))
ALT_CHUNK_SIZE = int(os.environ.get("BENCH_RESCORE_ALT_CHUNK", "5000"))
SAMPLE = 200
SINGLE_ACTIVITIES = 200
SINGLE_REPETITIONS = 500
FRESH_EVENTS = 200
FRESH_RATE = float(os.environ.get("BENCH_FRESH_RATE", "5"))  # events per second
FRESH_TIME_LIMIT = 120.0
# Which parts run (all by default), e.g. BENCH_RESCORE_PARTS=single,rescore
PARTS = os.environ.get("BENCH_RESCORE_PARTS", "single,rescore,preview,freshness").split(",")


# --- Celery workers on the bench broker ------------------------------------------


def _redis():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def empty_broker() -> None:
    """Drops every message left by earlier phases or benchmarks (the bench
    broker is throwaway): workers then only see the work of the phase."""
    _redis().flushdb()


def broker_backlog() -> int:
    """Messages waiting or being worked on (acks_late: unacked until done)."""
    r = _redis()
    return r.llen("celery") + r.hlen("unacked")


@contextmanager
def celery_workers(count: int, *, name: str, ready_timeout: float = 60) -> Iterator[list[int]]:
    """``count`` real Celery workers (``celery -A config worker``), each one
    process taking one task at a time, on the bench broker. Yields their pids."""
    from config.celery import app

    RESULTS_DIR.mkdir(exist_ok=True)
    processes: list[subprocess.Popen] = []
    hostnames = [f"{name}{i + 1}-{os.getpid()}@bench" for i in range(count)]
    try:
        for i, hostname in enumerate(hostnames):
            log = RESULTS_DIR / f"{name}.worker{i + 1}.log"
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--loglevel",
                        "WARNING",
                        "--concurrency",
                        "1",
                        "--pool",
                        "solo",
                        "--hostname",
                        hostname,
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "--logfile",
                        str(log),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + ready_timeout
        while True:
            answered = {
                name
                for reply in app.control.ping(destination=hostnames, timeout=0.5)
                for name in reply
            }
            if answered >= set(hostnames):
                break
            for p in processes:
                if p.poll() is not None:
                    raise RuntimeError(f"a Celery worker exited with {p.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Celery workers not ready within {ready_timeout:.0f} s")
        yield [p.pid for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # warm shutdown: the task at hand ends first
        for p in processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def wait_until_drained(limit: float) -> tuple[float, bool]:
    """Waits until the broker has nothing waiting or running; (seconds, drained)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if broker_backlog() == 0:
            return time.perf_counter() - started, True
        time.sleep(0.2)
    return time.perf_counter() - started, False


# --- Helpers --------------------------------------------------------------------------


def _sql(sql: str, params: list | tuple | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _conninfo() -> str:
    return os.environ["DATABASE_URL"]


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def vacuum(table: str) -> None:
    _sql(f"VACUUM {table}")


def size_mb(table: str) -> float:
    return _sql("SELECT pg_total_relation_size(%s)", [table])[0][0] / 2**20


# --- 1. One lead --------------------------------------------------------------------------


def single_lead(report: Report) -> None:
    from scoring.services import score_lead

    lead_id = _sql(
        "SELECT id FROM leads_lead WHERE account_id IS NOT NULL AND stage = 'lead'"
        " ORDER BY id LIMIT 1"
    )[0][0]
    # 200 activities of every kind over the last 120 days, some on the careers pages.
    kinds = [k for k, _ in data.KINDS]
    _sql(
        "INSERT INTO leads_activity (lead_id, kind, url, properties, occurred_at,"
        " source_system, external_id, received_at) "
        "SELECT %s, (%s::text[])[1 + mod(n, %s)],"
        " 'https://www.bench-vendor.example/' || CASE WHEN mod(n, 50) = 0 THEN 'careers/'"
        "  ELSE 'product/' END || n, jsonb_build_object('utm_source', 'ads'),"
        " now() - make_interval(secs => n * 51840.0), 'bench-single-lead', 'single-' || n,"
        " now() FROM generate_series(1, %s) n ON CONFLICT DO NOTHING",
        [lead_id, kinds, len(kinds), SINGLE_ACTIVITIES],
    )
    count = _sql("SELECT count(*) FROM leads_activity WHERE lead_id = %s", [lead_id])[0][0]
    for _ in range(50):  # warm: imports, compiled model, caches, the first crossing
        score_lead(lead_id=lead_id)
    wait_for_quiet()
    times = []
    for _ in range(SINGLE_REPETITIONS):
        t0 = time.perf_counter()
        score_lead(lead_id=lead_id)
        times.append(time.perf_counter() - t0)
    report.config["single_lead"] = {
        "lead_id": lead_id,
        "activities": count,
        "repetitions": SINGLE_REPETITIONS,
        "load": load(),
    }
    report.figure("score_lead: median", percentile(times, 50) * 1000, "ms", below=5)
    report.figure("score_lead: p99", percentile(times, 99) * 1000, "ms")
    empty_broker()  # the account rescores score_lead enqueued: not this benchmark's


# --- 2. Full rescores and their floor ---------------------------------------------------


def run_job(
    model, reason: str, *, time_limit: float = JOB_TIME_LIMIT, later_by: timedelta = timedelta(0)
) -> tuple[object, float]:
    """Starts a rescore of every lead (``reason`` "publish": by publishing
    ``model``) and waits for its last chunk; returns the job and its duration,
    from the call (splitting the leads into chunks included) to the last
    chunk's commit. ``later_by`` moves the job's as_of on, before any chunk
    is sent: the rescore as it would run that much later. Raises when the job
    was cancelled or did not end within the time limit (it is cancelled
    then, so that no worker goes on with it)."""
    from django.db import transaction
    from django.db.models import F

    from scoring.models import JobStatus, RescoreJob
    from scoring.services import publish_model, start_rescore

    started = timezone.now()
    if reason == "publish":
        job = publish_model(model=model, by=_superuser())
    else:
        with transaction.atomic():  # the chunks are sent when this commits
            job = start_rescore(model=model, reason=RescoreJob.Reason.MANUAL)
            RescoreJob.objects.filter(pk=job.pk).update(as_of=F("as_of") + later_by)
        job.refresh_from_db()
    deadline = time.monotonic() + time_limit
    while True:
        job.refresh_from_db()
        if job.status != JobStatus.RUNNING:
            break
        if time.monotonic() > deadline:
            RescoreJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.CANCELLED, finished_at=timezone.now()
            )
            empty_broker()
            raise TimeoutError(
                f"rescore job {job.pk} not done within {time_limit:.0f} s "
                f"({job.chunks_done}/{job.chunks_total} chunks); cancelled"
            )
        time.sleep(0.1)
    if job.status != JobStatus.DONE:
        raise RuntimeError(
            f"rescore job {job.pk} ended {job.status}, "
            f"{job.chunks_done}/{job.chunks_total} chunks done"
        )
    # finished_at is the closing worker's clock: the same machine as this one.
    return job, (job.finished_at - started).total_seconds()


# Every column a rescore writes, set to itself: "UPDATE … SET score = score".
SCORE_COLUMNS = (
    "model_id = model_id, fit = fit, engagement = engagement, total = total,"
    " grade = grade, disqualified = disqualified, qualifies = qualifies,"
    " explanation = explanation, basis = basis, scored_at = scored_at"
)


def floor(first: int, last: int, parts: int) -> float:
    """Seconds to rewrite every score row's score columns to themselves:
    ``parts`` UPDATEs over consecutive lead id ranges, each on its own
    connection, started together (as many as the rescore has workers)."""
    step = (last - first + parts) // parts
    ranges = [(first + i * step, min(last, first + (i + 1) * step - 1)) for i in range(parts)]
    barrier = threading.Barrier(parts + 1)
    errors: list[BaseException] = []

    def update(lo: int, hi: int) -> None:
        try:
            with psycopg.connect(_conninfo(), autocommit=True) as conn:
                conn.execute("SET jit = off")  # as in a rescore chunk
                barrier.wait()
                conn.execute(
                    f"UPDATE scoring_leadscore SET {SCORE_COLUMNS} WHERE lead_id BETWEEN %s AND %s",
                    [lo, hi],
                )
        except BaseException as exc:  # raised in the caller below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=update, args=r) for r in ranges]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a thread failed: raised below
        barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def prepare_write_phase() -> None:
    """Every timed write starts alike: dead rows vacuumed, dirty pages flushed,
    a machine as quiet as others let it be."""
    vacuum("scoring_leadscore")
    checkpoint()
    wait_for_quiet(patience=30)


def rows_written(job, model) -> int:
    """Score rows the job wrote: stamped with its as_of under its version."""
    return _sql(
        "SELECT count(*) FROM scoring_leadscore WHERE scored_at = %s AND model_id = %s",
        [job.as_of, model.pk],
    )[0][0]


def rows_of_version(model) -> int:
    return _sql("SELECT count(*) FROM scoring_leadscore WHERE model_id = %s", [model.pk])[0][0]


def check_rows(report: Report, label: str, job, model, leads: int, *, all_change: bool) -> None:
    """Every lead scored and holding a score of the job's version; the rows
    the job stamped are exactly the scores it says it changed (all of them
    when ``all_change``: first scoring, a new version); the others are left
    as they were, and the sample check shows they equal the job's scores."""
    report.check(
        f"{label}: every lead scored",
        job.leads_scored == leads,
        f"{job.leads_scored:,} of {leads:,}",
    )
    versioned = rows_of_version(model)
    report.check(
        f"{label}: every row holds the job's version",
        versioned == leads,
        f"{versioned:,} of {leads:,}",
    )
    written = rows_written(job, model)
    expected = leads if all_change else job.scores_changed
    report.check(
        f"{label}: the rows written are the scores changed",
        written == job.scores_changed == expected,
        f"{written:,} rows have the job's as_of; it changed {job.scores_changed:,}",
    )


def sample_matches(model, job, lead_range: tuple[int, int]) -> tuple[bool, str]:
    """Whether the stored score of SAMPLE random leads equals the Python
    engine's (score_one) as of the job, explanation included."""
    from leads.models import Lead
    from scoring.models import LeadScore
    from scoring.services import score_one

    rng = random.Random(job.pk)
    ids = rng.sample(range(lead_range[0], lead_range[1] + 1), SAMPLE)
    stored = {s.lead_id: s for s in LeadScore.objects.filter(lead_id__in=ids)}
    mismatches = []
    for lead in Lead.objects.select_related("account", "source").filter(pk__in=ids):
        expected = score_one(model, lead, as_of=job.as_of)
        s = stored.get(lead.pk)
        got = (
            None
            if s is None
            else (
                s.model_id,
                s.fit,
                s.engagement,
                s.total,
                s.grade,
                s.disqualified,
                s.qualifies,
                s.explanation,
            )
        )
        want = (
            model.pk,
            expected.fit,
            expected.engagement,
            expected.total,
            expected.grade,
            expected.disqualified,
            expected.qualifies,
            expected.explanation,
        )
        if got != want:
            mismatches.append(lead.pk)
    detail = f"{SAMPLE - len(mismatches)}/{SAMPLE} equal"
    if mismatches:
        detail += f"; first differing leads: {mismatches[:5]}"
    return not mismatches, detail


def full_rescores(report: Report, ensured: data.Ensured) -> None:
    from scoring.models import ModelStatus, ScoringModel
    from scoring.selectors import live_model

    first, last = ensured.lead_ids
    leads = ensured.spec.leads
    model = live_model()
    config = report.config["rescore"] = {
        "workers": f"{WORKERS} Celery worker processes (solo pool, one task at a time each) "
        "on the bench Redis",
        "chunk_size": settings.RESCORE_CHUNK_SIZE,
        "floor": f"UPDATE scoring_leadscore SET {SCORE_COLUMNS} WHERE lead_id BETWEEN …, "
        f"{WORKERS} connections at once over consecutive id ranges",
        "timed": "from the start_rescore (or publish_model) call to the last chunk's commit",
        "before_each_timed_write": "VACUUM scoring_leadscore, CHECKPOINT, a quiet machine",
    }

    def changed(label: str, job) -> None:
        report.figure(f"  scores changed: {label}", job.scores_changed, "leads")

    def drain(label: str, limit: float) -> None:
        """The follow-up tasks a job enqueues (its accounts' scores, routing of
        new MQLs) run before the next timed phase, so as not to share the
        workers with it; timed, and dropped when they take too long."""
        seconds, done = wait_until_drained(limit)
        report.figure(
            f"  then its follow-up tasks (account scores, routing): {label}", seconds, "s"
        )
        if not done:
            config[f"{label}: follow-up"] = f"not drained within {limit:.0f} s; the rest dropped"
            empty_broker()

    with celery_workers(WORKERS, name=NAME):
        # The first scoring of every lead: rows inserted, MQL crossings routed.
        prepare_write_phase()
        job, seconds = run_job(model, "manual")
        report.figure("first scoring of every lead (rows inserted)", seconds, "s")
        report.figure("  of which became MQLs", job.became_mql, "leads")
        check_rows(report, "first scoring", job, model, leads, all_change=True)
        drain("first scoring", DRAIN_TIME_LIMIT)

        # The floor. Its first run rewrites a freshly inserted (packed) table:
        # no room on any page, every new row version goes to a new page. Every
        # later rewrite, the rescores' included, finds the room VACUUM left
        # after the previous one: the floor compared with is that.
        prepare_write_phase()
        report.figure(
            "floor, first rewrite of the inserted rows (not compared)",
            floor(first, last, WORKERS),
            "s",
        )
        prepare_write_phase()
        floor_before = floor(first, last, WORKERS)
        report.figure("floor: UPDATE of every score column to itself", floor_before, "s")

        # A rescore under the same version: what a manual rescore does.
        prepare_write_phase()
        config["load_before_same_version"] = load()
        job, same = run_job(model, "manual")
        report.figure("rescore, same version", same, "s")
        report.figure("  leads per second", leads / same, "leads/s")
        changed("same version", job)
        check_rows(report, "rescore, same version", job, model, leads, all_change=False)
        ok, detail = sample_matches(model, job, (first, last))
        report.check(f"rescore, same version: {SAMPLE} random leads equal score_one", ok, detail)
        drain("same version", DRAIN_TIME_LIMIT)

        # The same with smaller chunks: more, shorter transactions.
        default_size = settings.RESCORE_CHUNK_SIZE
        settings.RESCORE_CHUNK_SIZE = ALT_CHUNK_SIZE  # read by start_rescore, in this process
        try:
            prepare_write_phase()
            job, same_alt = run_job(model, "manual")
        finally:
            settings.RESCORE_CHUNK_SIZE = default_size
        report.figure(f"rescore, same version, chunks of {ALT_CHUNK_SIZE:,}", same_alt, "s")
        changed(f"chunks of {ALT_CHUNK_SIZE:,}", job)
        check_rows(
            report, f"rescore, chunks of {ALT_CHUNK_SIZE:,}", job, model, leads, all_change=False
        )
        drain(f"chunks of {ALT_CHUNK_SIZE:,}", DRAIN_TIME_LIMIT)

        # A day later, as the nightly rescore finds it: decay has moved the
        # points of recent activities, and some have left their window.
        prepare_write_phase()
        job, day_later = run_job(model, "manual", later_by=timedelta(days=1))
        report.figure("rescore a day later, same version", day_later, "s")
        changed("a day later", job)
        check_rows(report, "rescore a day later", job, model, leads, all_change=False)
        ok, detail = sample_matches(model, job, (first, last))
        report.check(f"a day later: {SAMPLE} random leads equal score_one", ok, detail)
        drain("a day later", DRAIN_TIME_LIMIT)

        # Publishing a new version (a clone, same rules): every row gets the
        # new version's id.
        draft = approved_clone(model)
        prepare_write_phase()
        config["load_before_publish"] = load()
        job, publish = run_job(draft, "publish")
        published = ScoringModel.objects.get(pk=draft.pk)
        report.figure("rescore on publishing a new version", publish, "s")
        check_rows(report, "publish", job, published, leads, all_change=True)
        ok, detail = sample_matches(published, job, (first, last))
        report.check(f"publish: {SAMPLE} random leads equal score_one", ok, detail)
        drain("publish", DRAIN_TIME_LIMIT)

        # The floor again, for a machine that got busier or quieter meanwhile.
        prepare_write_phase()
        floor_after = floor(first, last, WORKERS)
        report.figure("floor, again after the rescores", floor_after, "s")
        # Back to the migration's version, for the parts that follow.
        ScoringModel.objects.filter(pk=draft.pk).update(status=ModelStatus.ARCHIVED)
        ScoringModel.objects.filter(pk=model.pk).update(
            status=ModelStatus.PUBLISHED, archived_at=None
        )

    floor_seconds = min(floor_before, floor_after)
    config["floor_compared_with"] = "the faster of the two floor runs"
    report.figure("rescore, same version / floor", same / floor_seconds, "x", below=3)
    report.figure(
        f"rescore, same version, chunks of {ALT_CHUNK_SIZE:,} / floor",
        same_alt / floor_seconds,
        "x",
        below=3,
    )
    report.figure("rescore a day later / floor", day_later / floor_seconds, "x", below=3)
    report.figure("rescore on publishing / floor", publish / floor_seconds, "x", below=3)


def approved_clone(model):
    """A new version with the live one's rules, approved: publishing it
    rescores every lead, and every score row changes (its version)."""
    from scoring.services import approve_model, clone_model, submit_model

    draft = clone_model(source=model, by=None, name="Bench: same rules, new version")
    submit_model(model=draft, by=_superuser())
    return approve_model(model=draft, by=_superuser("bench-approver"))


def _superuser(username: str = "bench-admin"):
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(
        username=username, defaults={"is_superuser": True, "is_staff": True}
    )
    if not user.is_superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    return user


# --- 3. Preview -------------------------------------------------------------------------------


def preview(report: Report, ensured: data.Ensured) -> None:
    try:
        from scoring.preview import preview_impact
    except ImportError:
        report.check("preview_impact exists", False, "scoring.preview.preview_impact is missing")
        return
    from scoring.models import Layer
    from scoring.selectors import live_model
    from scoring.services import clone_model, discard_draft

    live = live_model()
    draft = clone_model(source=live, by=None, name="Bench preview draft")
    rule = (
        draft.rules.filter(layer=Layer.ENGAGEMENT, activity_kinds=["demo_request"]).first()
        or draft.rules.filter(layer=Layer.ENGAGEMENT).first()
    )
    rule.points += 15
    rule.save(update_fields=["points"])
    wait_for_quiet(patience=30)
    started = time.perf_counter()
    impact = preview_impact(draft=draft)
    seconds = time.perf_counter() - started
    report.config["preview"] = {
        "changed_rule": f"{rule.name}: {rule.points - 15} -> {rule.points} points",
        "load": load(),
    }
    report.figure("preview_impact over every lead", seconds, "s", below=10)
    report.figure("  leads that would newly qualify", impact.newly_qualify, "leads")
    report.check(
        "preview counted every lead",
        impact.leads == ensured.spec.leads,
        f"{impact.leads:,} leads, {impact.unscored:,} without a live score",
    )
    with contextlib.suppress(Exception):  # a draft left behind changes nothing measured
        discard_draft(model=draft, by=_superuser())


# --- 4. Freshness ----------------------------------------------------------------------------


def freshness(report: Report, ensured: data.Ensured) -> None:
    from scoring.models import LeadScore
    from scoring.services import rescore_leads

    first, last = ensured.lead_ids
    lead_ids = random.Random(4242).sample(range(first, last + 1), FRESH_EVENTS + 1)
    warm_lead = lead_ids.pop()
    rescore_leads(lead_ids=lead_ids)  # each has a current score to compare with
    before = {
        s.lead_id: _demo_count(s.explanation)
        for s in LeadScore.objects.filter(lead_id__in=lead_ids)
    }
    token = integration_token()
    now = timezone.now()
    bodies = [
        json.dumps(
            {
                "lead": lead_id,
                "kind": "demo_request",
                "url": "https://www.bench-vendor.example/demo",
                "occurred_at": (now - timedelta(seconds=1)).isoformat(),
                "source_system": "bench-fresh",
                "external_id": f"fresh-{time.time_ns()}-{n}",
            }
        ).encode()
        for n, lead_id in enumerate(lead_ids)
    ]

    empty_broker()
    with celery_workers(WORKERS, name=f"{NAME}-fresh"), gunicorn(name=NAME) as server:
        _warm(server.url, token, warm_lead)
        time.sleep(2)
        empty_broker()
        wait_for_quiet(patience=30)
        accepted: dict[int, float] = {}
        seen: dict[int, float] = {}
        sending_done = threading.Event()

        def poll() -> None:
            with psycopg.connect(_conninfo(), autocommit=True) as conn:
                while True:
                    pending = [i for i in lead_ids if i not in seen]
                    if not pending or (sending_done.is_set() and time.perf_counter() > give_up[0]):
                        return
                    rows = conn.execute(
                        "SELECT lead_id, explanation FROM scoring_leadscore"
                        " WHERE lead_id = ANY(%s)",
                        [pending],
                    ).fetchall()
                    t = time.perf_counter()
                    for lead_id, explanation in rows:
                        if _demo_count(explanation) > before[lead_id]:
                            seen[lead_id] = t
                    time.sleep(0.02)

        give_up = [float("inf")]
        poller = threading.Thread(target=poll)
        poller.start()
        result = _post_each(server.url, token, bodies, lead_ids, accepted)
        give_up[0] = time.perf_counter() + 30
        sending_done.set()
        poller.join()
    latencies = [seen[i] - accepted[i] for i in lead_ids if i in seen and i in accepted]
    report.config["freshness"] = {
        "events": FRESH_EVENTS,
        "rate_per_s": FRESH_RATE,
        "workers": f"{WORKERS} Celery worker processes",
        "poll_interval_ms": 20,
        "load": load(),
    }
    report.figure(
        "freshness: event accepted -> score stored, median", percentile(latencies, 50), "s"
    )
    report.figure("freshness: p95", percentile(latencies, 95), "s", below=2)
    report.figure("freshness: max", max(latencies, default=float("nan")), "s")
    report.check(
        "freshness: every event accepted (201)",
        result == FRESH_EVENTS,
        f"{result} of {FRESH_EVENTS}",
    )
    report.check(
        "freshness: every event reflected in its lead's score",
        len(latencies) == FRESH_EVENTS,
        f"{len(latencies)} of {FRESH_EVENTS}",
    )


def _demo_count(explanation) -> int:
    if isinstance(explanation, str):
        explanation = json.loads(explanation)
    return sum(e.get("count", 0) for e in explanation or [] if e.get("rule") == "Demo request")


def _warm(base_url: str, token: str, lead_id: int) -> None:
    import httpx

    with httpx.Client(base_url=base_url, headers=auth_headers(token), timeout=30) as client:
        for i in range(10):
            client.post(
                "/api/activities/",
                json={
                    "lead": lead_id,
                    "kind": "page_view",
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "source_system": "bench-warmup",
                    "external_id": f"warm-{time.time_ns()}-{i}",
                },
            )


def _post_each(
    base_url: str, token: str, bodies: list[bytes], lead_ids: list[int], accepted: dict[int, float]
) -> int:
    """POSTs the events one after the other at a steady pace (one every
    1/FRESH_RATE s); records when each was accepted. Returns how many were."""
    import httpx

    started = time.perf_counter() + 0.2
    with httpx.Client(base_url=base_url, headers=auth_headers(token), timeout=30) as client:
        for n, (body, lead_id) in enumerate(zip(bodies, lead_ids, strict=True)):
            if time.perf_counter() - started > FRESH_TIME_LIMIT:
                break
            time.sleep(max(0.0, started + n / FRESH_RATE - time.perf_counter()))
            response = client.post("/api/activities/", content=body)
            if response.status_code == 201:
                accepted[lead_id] = time.perf_counter()
    return len(accepted)


# --- The benchmark ---------------------------------------------------------------------------


def run() -> Report:
    report = Report(
        NAME,
        config={
            "leads": LEADS,
            "activities_per_lead": ACTIVITIES_PER_LEAD,
            "parts": PARTS,
            "load_at_start": load(),
        },
    )
    ensured = data.ensure(leads=LEADS, activities_per_lead=ACTIVITIES_PER_LEAD)
    report.config["data"] = {
        "set": ensured.spec.label,
        "activities": ensured.activities,
        "reused": ensured.reused,
        "seconds": round(ensured.seconds),
    }
    data.reset_derived()
    empty_broker()
    if "single" in PARTS:
        single_lead(report)
    if "rescore" in PARTS:
        full_rescores(report, ensured)
    if "preview" in PARTS:
        preview(report, ensured)
    if "freshness" in PARTS:
        freshness(report, ensured)
    report.config["load_at_end"] = load()
    return report
