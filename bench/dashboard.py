"""The manager's dashboard with 1,000,000 leads. Goal: p95 server time under 300 ms.

Data, generated set-wise in SQL over the last two years: a million leads, 15 %
of them MQLs with a hand-off snapshot, an assignment decided by an SDR
(accepted, rejected with a reason, or recycled) and stage changes; some
accepted ones became SQLs and opportunities, won or lost. The weekly rollup is
built once (timed), then the page is requested in-process with Django's test
client, as a sales manager, for several periods and filters.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta

from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.report import Report
from feedback import rollup
from scoring.selectors import live_model

LEADS = int(os.environ.get("BENCH_DASHBOARD_LEADS", "1000000"))
REQUESTS = 40
DAYS = 730


def _generate(leads: int) -> None:
    model = live_model()
    # (%% is a literal % only in statements that have parameters.)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead RESTART IDENTITY CASCADE")
        cursor.execute("SELECT id FROM routing_queue ORDER BY priority")
        queues = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM auth_user WHERE username LIKE 'bench-sdr-%'")
        sdrs = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO leads_lead (email, first_name, last_name, title, seniority, department,"
            " phone, country, company_name, source_id, source_detail, stage, attributes,"
            " do_not_contact, created_at, updated_at) "
            "SELECT 'd' || g || '@c' || (g %% 9000) || '.example', '', '', '', '', '', '', '',"
            " '', (SELECT id FROM leads_leadsource ORDER BY id OFFSET (g %% 4) LIMIT 1), '',"
            " CASE WHEN g %% 100 < 15 THEN 'sal' ELSE 'lead' END, '{}', false,"
            " now() - make_interval(days => (g %% %s)), now() FROM generate_series(1, %s) g",
            [DAYS, leads],
        )
        # Every 100th..15th lead became an MQL: crossing, snapshot, decision.
        cursor.execute(
            "INSERT INTO leads_stagechange (lead_id, from_stage, to_stage, changed_at, reason)"
            " SELECT id, 'lead', 'mql', created_at, 'bench' FROM leads_lead WHERE stage = 'sal'"
        )
        cursor.execute(
            "INSERT INTO scoring_mqlsnapshot (lead_id, model_id, fit, engagement, total, grade,"
            " explanation, created_at) SELECT id, %s, 20, 60 + id %% 40, 80 + id %% 40, 'B',"
            " '[]', created_at FROM leads_lead WHERE stage = 'sal'",
            [model.pk],
        )
        cursor.execute(
            "INSERT INTO routing_assignment (lead_id, queue_id, sdr_id, status, created_at,"
            " assigned_at, due_at, first_touch_at, closed_at, why, waiting_reason)"
            " SELECT id, (%s::bigint[])[1 + id %% %s], (%s::int[])[1 + id %% %s],"
            " CASE WHEN id %% 10 < 6 THEN 'accepted' WHEN id %% 10 < 9 THEN 'rejected'"
            " ELSE 'recycled' END, created_at, created_at, created_at + interval '24 hours',"
            " created_at + make_interval(mins => (id %% 2000)::int),"
            " created_at + make_interval(mins => (id %% 2000)::int), '{}', ''"
            " FROM leads_lead WHERE stage = 'sal'",
            [queues, len(queues), sdrs, len(sdrs)],
        )
        cursor.execute(
            "INSERT INTO routing_touch (assignment_id, kind, by_id, at, reason, note)"
            " SELECT a.id, CASE a.status WHEN 'accepted' THEN 'accept' WHEN 'rejected'"
            " THEN 'reject' ELSE 'recycle' END, a.sdr_id, a.closed_at,"
            " CASE WHEN a.status = 'rejected' THEN (ARRAY['not_a_fit', 'no_budget',"
            " 'bad_timing', 'no_response'])[1 + a.id % 4] ELSE '' END, ''"
            " FROM routing_assignment a"
        )
        cursor.execute(
            "INSERT INTO feedback_opportunity (crm_id, lead_id, name, amount, currency, status,"
            " created_on, closed_on, updated_at)"
            " SELECT 'opp-' || a.lead_id, a.lead_id, '', 1000 + (a.lead_id % 50) * 500, 'USD',"
            " CASE WHEN a.lead_id % 3 = 0 THEN 'won' WHEN a.lead_id % 3 = 1 THEN 'lost'"
            " ELSE 'open' END, a.closed_at::date + 14,"
            " CASE WHEN a.lead_id % 3 < 2 THEN a.closed_at::date + 45 END, now()"
            " FROM routing_assignment a WHERE a.status = 'accepted' AND a.lead_id % 10 = 0"
        )
        cursor.execute("ANALYZE")


def _manager() -> User:
    user, _ = User.objects.get_or_create(username="bench-manager", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Sales manager"))
    return user


def _sdrs() -> None:
    group = Group.objects.get(name="SDR")
    for n in range(50):
        user, _ = User.objects.get_or_create(username=f"bench-sdr-{n}")
        user.groups.add(group)


def run() -> Report:
    report = Report("dashboard")
    report.config = {
        "leads": LEADS,
        "requests per view": REQUESTS,
        "days of history": DAYS,
        "how": "in-process, Django test client, as a sales manager",
    }
    _sdrs()
    started = time.perf_counter()
    _generate(LEADS)
    report.figure(
        "generating the data (not timed against the goal)", time.perf_counter() - started, "s"
    )
    started = time.perf_counter()
    rollup.refresh_weekly_counts(full=True)
    report.figure("full rollup build", time.perf_counter() - started, "s")
    started = time.perf_counter()
    rollup.refresh_weekly_counts()
    report.figure("incremental rollup refresh", time.perf_counter() - started, "s")

    client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS accepts
    client.force_login(_manager())
    today = date.today()
    views = {
        "12 weeks (default)": "/manager/",
        "52 weeks": f"/manager/?start={today - timedelta(weeks=51)}",
        "104 weeks, one source": f"/manager/?start={today - timedelta(weeks=103)}"
        "&source=inbound_form",
    }
    for name, url in views.items():
        times = []
        for _ in range(REQUESTS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                report.check(f"{name} answered", False, f"HTTP {response.status_code}")
                break
        times.sort()
        report.figure(f"{name}: p50", statistics.median(times), "ms")
        report.figure(f"{name}: p95", times[int(len(times) * 0.95) - 1], "ms", below=300)
        report.figure(f"{name}: queries", len(queries), "")
    return report
