"""A full rescore at 10,000,000 leads, the longest benchmark (``make bench``
runs it last).

Data (bench.data): 10,000,000 leads across 1,000,000 accounts and on average
one activity per lead (0, 1 or 2, uniformly: 10,000,000 activities of the
last 120 days), so that generating it stays within minutes. The rescore runs
through the real job machinery (``start_rescore``, chunks run by real Celery
workers, one process each, on the bench Redis) under the default live model,
on leads without a score yet: every score row is written. Timed from the call
to the last chunk's end. Reported: the time, leads per second, and how much
scoring_leadscore and leads_lead grew (pg_total_relation_size before and
after, in MB). Bounded: generation and the job each have a time limit, and
the follow-up tasks the job enqueues (account scores, routing) are dropped,
not waited for.
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
    celery_workers,
    empty_broker,
    load,
    prepare_write_phase,
    run_job,
    sample_matches,
    size_mb,
)

NAME = "rescore_10m"
LEADS = int(os.environ.get("BENCH_10M_LEADS", "10000000"))
ACTIVITIES_PER_LEAD = 1
JOB_TIME_LIMIT = float(os.environ.get("BENCH_10M_JOB_SECONDS", "2700"))
# Disk the data set and its scores need, with room for the WAL (about 30 GB
# at 10,000,000 leads); the benchmark does not start with less free.
DISK_NEEDED_GB = 30 * LEADS / 10_000_000
TABLES = ("scoring_leadscore", "leads_lead", "leads_activity")


def run() -> Report:
    from scoring.selectors import live_model

    report = Report(NAME, config={"leads": LEADS, "activities_per_lead": "0-2, 1 on average",
                                  "workers": f"{WORKERS} Celery worker processes",
                                  "chunk_size": settings.RESCORE_CHUNK_SIZE,
                                  "load_at_start": load()})
    free_gb = shutil.disk_usage(RESULTS_DIR).free / 2**30
    report.config["disk_free_gb_at_start"] = round(free_gb, 1)
    if free_gb < DISK_NEEDED_GB:
        report.check("enough free disk", False,
                     f"{free_gb:.0f} GB free, {DISK_NEEDED_GB:.0f} GB needed: not run")
        return report

    started = time.perf_counter()
    ensured = data.ensure(leads=LEADS, activities_per_lead=ACTIVITIES_PER_LEAD,
                          accounts=LEADS // 10)
    report.config["data"] = {"set": ensured.spec.label, "activities": ensured.activities,
                             "reused": ensured.reused}
    report.figure("generating the data (not timed against a goal)",
                  time.perf_counter() - started, "s")
    data.reset_derived()
    empty_broker()
    model = live_model()
    before = {table: size_mb(table) for table in TABLES}

    with celery_workers(WORKERS, name=NAME):
        prepare_write_phase()
        report.config["load_before_job"] = load()
        job, seconds = run_job(model, "manual", time_limit=JOB_TIME_LIMIT)
    empty_broker()  # the account scores and routing it enqueued: not waited for
    after = {table: size_mb(table) for table in TABLES}

    report.figure("full rescore of every lead", seconds, "s")
    report.figure("  leads per second", job.leads_scored / seconds, "leads/s")
    report.figure("  of which became MQLs", job.became_mql, "leads")
    for table in TABLES[:2]:
        report.figure(f"{table}: size before", before[table], "MB")
        report.figure(f"{table}: size after", after[table], "MB")
        report.figure(f"{table}: grew by", after[table] - before[table], "MB")
    report.config["leads_activity_mb"] = round(after["leads_activity"])
    report.config["load_at_end"] = load()
    report.check("every lead scored", job.leads_scored == ensured.spec.leads,
                 f"{job.leads_scored:,} of {ensured.spec.leads:,}")
    ok, detail = sample_matches(model, job, ensured.lead_ids)
    report.check("200 random leads equal score_one", ok, detail)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        report.config["database_mb_at_end"] = round(cursor.fetchone()[0] / 2**20)
    return report
