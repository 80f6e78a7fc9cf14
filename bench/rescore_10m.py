"""A full rescore at 10,000,000 leads, the longest benchmark (``make bench``
runs it last).

Data (bench.data): 10,000,000 leads across 1,000,000 accounts and on average
one activity per lead (0, 1 or 2, uniformly: 10,000,000 activities of the
last 120 days), so that generating it stays within minutes. Jobs run through
the real machinery (``start_rescore``, chunks run by real Celery workers, one
process each, on the bench Redis) under the default live model, timed from
the call to the last chunk's commit:

1. the first scoring of every lead (no score yet: every row inserted);
2. the full rescore: a new version published (the live one's rules), so
   every lead is scored again and every score row rewritten. Reported:
   its time, leads per second, and how much each table grew
   (pg_total_relation_size, heap, indexes and TOAST, before and after, in MB),
   with autovacuum on as in production.

Bounded: a disk check first, a time limit on each job, and the follow-up
tasks a job enqueues (account scores, routing of new MQLs) are dropped, not
waited for; the workers stop between the two jobs. The load average is
recorded with the figures: the machine may be shared.
"""

from __future__ import annotations

import os
import shutil
import time

from django.conf import settings
from django.db import connection

from bench import data
from bench.report import Report
from bench.rescore import (
    RESULTS_DIR,
    WORKERS,
    approved_clone,
    celery_workers,
    empty_broker,
    load,
    prepare_write_phase,
    rows_written,
    run_job,
    sample_matches,
    size_mb,
)

NAME = "rescore_10m"
LEADS = int(os.environ.get("BENCH_10M_LEADS", "10000000"))
ACTIVITIES_PER_LEAD = 1
JOB_TIME_LIMIT = float(os.environ.get("BENCH_10M_JOB_SECONDS", "2700"))
# Disk the data set and its scores need, with room for the WAL and a
# rewritten score table (about 30 GB at 10,000,000 leads); the benchmark does
# not start with less free.
DISK_NEEDED_GB = 30 * LEADS / 10_000_000
TABLES = ("scoring_leadscore", "leads_lead", "leads_activity")


def _job(report: Report, model, label: str, reason: str = "manual") -> tuple[object, float]:
    """One job with its own workers; what it enqueued besides is dropped."""
    with celery_workers(WORKERS, name=NAME):
        prepare_write_phase()
        report.config[f"load_before_{label}"] = load()
        job, seconds = run_job(model, reason, time_limit=JOB_TIME_LIMIT)
        report.config[f"load_after_{label}"] = load()
        empty_broker()  # the account scores and routing it enqueued: not waited for
    empty_broker()  # and what the stopping workers had taken but not done
    return job, seconds


def run() -> Report:
    from scoring.models import ModelStatus, ScoringModel
    from scoring.selectors import live_model

    report = Report(
        NAME,
        config={
            "leads": LEADS,
            "activities_per_lead": "0-2, 1 on average",
            "workers": f"{WORKERS} Celery worker processes",
            "chunk_size": settings.RESCORE_CHUNK_SIZE,
            "cpus": os.cpu_count(),
            "load_at_start": load(),
        },
    )
    free_gb = shutil.disk_usage(RESULTS_DIR).free / 2**30
    report.config["disk_free_gb_at_start"] = round(free_gb, 1)
    if free_gb < DISK_NEEDED_GB:
        report.check(
            "enough free disk",
            False,
            f"{free_gb:.0f} GB free, {DISK_NEEDED_GB:.0f} GB needed: not run",
        )
        return report

    started = time.perf_counter()
    ensured = data.ensure(
        leads=LEADS, activities_per_lead=ACTIVITIES_PER_LEAD, accounts=LEADS // 10
    )
    report.config["data"] = {
        "set": ensured.spec.label,
        "activities": ensured.activities,
        "reused": ensured.reused,
    }
    report.figure(
        "generating the data (not timed against a goal)", time.perf_counter() - started, "s"
    )
    data.reset_derived()
    empty_broker()
    model = live_model()
    leads = ensured.spec.leads

    empty = {table: size_mb(table) for table in TABLES}
    job, seconds = _job(report, model, "first_scoring")
    report.figure("first scoring of every lead (rows inserted)", seconds, "s")
    report.figure("  leads per second", job.leads_scored / seconds, "leads/s")
    report.figure("  of which became MQLs", job.became_mql, "leads")
    report.check(
        "first scoring: every lead scored",
        job.leads_scored == leads,
        f"{job.leads_scored:,} of {leads:,}",
    )

    before = {table: size_mb(table) for table in TABLES}
    published = approved_clone(model)
    job, seconds = _job(report, published, "full_rescore", reason="publish")
    after = {table: size_mb(table) for table in TABLES}
    report.figure("full rescore of every lead (a new version: every row rewritten)", seconds, "s")
    report.figure("  leads per second", job.leads_scored / seconds, "leads/s")
    for table in TABLES:
        report.figure(f"{table}: size before the first scoring", empty[table], "MB")
        report.figure(f"{table}: size before the full rescore", before[table], "MB")
        report.figure(f"{table}: size after the full rescore", after[table], "MB")
        report.figure(f"{table}: grew by, in the full rescore", after[table] - before[table], "MB")
    report.config["load_at_end"] = load()

    report.check(
        "full rescore: every lead scored",
        job.leads_scored == leads,
        f"{job.leads_scored:,} of {leads:,}",
    )
    written = rows_written(job, published)
    report.check(
        "full rescore: every score row rewritten",
        written == leads,
        f"{written:,} of {leads:,} rows have the job's as_of and version",
    )
    ok, detail = sample_matches(published, job, ensured.lead_ids)
    report.check("full rescore: 200 random leads equal score_one", ok, detail)
    # Back to the migration's version, as the 1M benchmark leaves it.
    ScoringModel.objects.filter(pk=published.pk).update(status=ModelStatus.ARCHIVED)
    ScoringModel.objects.filter(pk=model.pk).update(status=ModelStatus.PUBLISHED, archived_at=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        report.config["database_mb_at_end"] = round(cursor.fetchone()[0] / 2**20)
    return report
