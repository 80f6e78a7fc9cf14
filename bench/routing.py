"""Routing at a million leads: the SDR queue page, the manager's SLA page, and
routing 10,000 new MQLs at once.

Pages: with 1,000,000 leads (bench.data) and 100,000 open assignments across
50 SDRs in the "Inbound MQLs" queue (plus 200,000 closed ones of the last 60
days, so the SLA page has history to count), ``/queue/`` for the SDRs and
``/manager/sla/`` for a sales manager are requested in-process through
Django's test Client (force_login; server time is the time the Client takes
to answer, templates rendered, no network). Median and p95, and the number
of SQL queries of one request (CaptureQueriesContext on the connection the
request uses, with Django's per-request reset of its query log held off for
that request). The same pages are measured first on a small data set (10,000
leads, 1,000 open assignments): the query counts must be the same. Goal: p95
under 100 ms. Before the pages are measured the SLA rollup is built, as the
SLA watcher keeps it (its full build and one incremental refresh are timed).

Throughput: 10,000 leads cross into MQL at once (stage set-wise, with their
StageChange rows), one ``routing.route_mql`` task each, run by two real
Celery workers (separate processes) on the bench Redis. SDRs' capacity is
set so that 7,500 fit and the rest wait. Timed from the first message to the
last task's end. Checks: no SDR above capacity in the queue, no lead with two
open assignments, every new MQL either with an SDR or visibly waiting (a
waiting reason), and each membership's open-MQL counter equal to the real
count.
"""

from __future__ import annotations

import os
import time

from django.contrib.auth.models import Group, User
from django.core.signals import request_started
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.common import percentile, wait_for_quiet
from bench.report import Report
from bench.rescore import celery_workers, empty_broker, load, wait_until_drained
from handoff import roles

NAME = "routing"
LEADS = int(os.environ.get("BENCH_RESCORE_LEADS", "1000000"))
ACTIVITIES_PER_LEAD = int(os.environ.get("BENCH_RESCORE_ACTIVITIES_PER_LEAD", "10"))
OPEN = int(os.environ.get("BENCH_ROUTING_OPEN", "100000"))
SDRS = 50
SMALL_LEADS, SMALL_OPEN = 10_000, 1_000
CROSSING = int(os.environ.get("BENCH_ROUTING_CROSSING", "10000"))
SPARE_PER_SDR = 150  # capacity left per SDR before the crossing: 50 x 150 = 7,500
REQUESTS = int(os.environ.get("BENCH_ROUTING_REQUESTS", "200"))
PAGE_TIME_LIMIT = 90.0  # seconds per page and data set
ROUTE_TIME_LIMIT = float(os.environ.get("BENCH_ROUTING_SECONDS", "900"))
QUEUE_NAME = "Inbound MQLs"


def _sql(sql: str, params: list | tuple | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- Data -------------------------------------------------------------------------------


def _people() -> tuple[list[User], User]:
    sdr_group = Group.objects.get(name=roles.SDR)
    manager_group = Group.objects.get(name=roles.SALES_MANAGER)
    sdrs = []
    for i in range(SDRS):
        user, _ = User.objects.get_or_create(
            username=f"bench-sdr-{i + 1:02d}",
            defaults={"first_name": "Bench", "last_name": f"SDR {i + 1:02d}"},
        )
        user.groups.add(sdr_group)
        sdrs.append(user)
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"first_name": "Bench", "last_name": "Manager"}
    )
    manager.groups.add(manager_group)
    return sdrs, manager


def setup_assignments(open_count: int, lead_range: tuple[int, int]) -> tuple[list[User], User]:
    """``open_count`` open assignments (and twice as many closed ones) spread
    evenly over the SDRs, set-wise; leads with an open one are MQLs."""
    from routing.models import Membership, Queue

    data.reset_derived()
    sdrs, manager = _people()
    queue = Queue.objects.get(name=QUEUE_NAME)
    per_sdr = open_count // len(sdrs)
    Membership.objects.filter(queue__name__in=[QUEUE_NAME, "Demo requests"]).delete()
    Membership.objects.bulk_create(
        Membership(queue=queue, sdr=sdr, capacity=per_sdr + SPARE_PER_SDR, assigned_count=0)
        for sdr in sdrs
    )
    sdr_ids = [u.pk for u in sdrs]
    first = lead_range[0]
    closed = 2 * open_count
    # Leads first..first+open-1 have an open assignment; the next 2 x open a closed one.
    # Open: routed over the last 5 days with a 24 h SLA, so some are overdue
    # (those are marked breached) and a third were touched already.
    _sql(
        "UPDATE leads_lead SET stage = 'mql' WHERE id BETWEEN %s AND %s",
        [first, first + open_count - 1],
    )
    _sql(
        "INSERT INTO routing_assignment (lead_id, queue_id, sdr_id, status, created_at,"
        " assigned_at, due_at, remind_at, first_touch_at, breached_at, closed_at, why,"
        " waiting_reason) "
        "SELECT id, %s, (%s::bigint[])[1 + mod(id - %s, %s)], 'open', at, at,"
        " at + interval '24 hours', at + interval '18 hours',"
        " CASE WHEN mod(id, 3) = 0 THEN at + interval '3 hours' END,"
        " CASE WHEN mod(id, 3) <> 0 AND at + interval '24 hours' < now()"
        "  THEN at + interval '24 hours 5 minutes' END, NULL,"
        " jsonb_build_object('queue', %s, 'matched_on', 'catch-all queue'), ''"
        " FROM (SELECT id, now() - make_interval(secs => mod(abs(hashint8(id)), 432000))"
        "       AS at FROM leads_lead WHERE id BETWEEN %s AND %s) l",
        [queue.pk, sdr_ids, first, len(sdr_ids), QUEUE_NAME, first, first + open_count - 1],
    )
    # Closed: due over the last 60 days, accepted or rejected after a touch,
    # one in eight touched after its deadline.
    _sql(
        "INSERT INTO routing_assignment (lead_id, queue_id, sdr_id, status, created_at,"
        " assigned_at, due_at, remind_at, first_touch_at, breached_at, closed_at, why,"
        " waiting_reason) "
        "SELECT id, %s, (%s::bigint[])[1 + mod(id, %s)],"
        " CASE WHEN mod(id, 3) = 0 THEN 'rejected' ELSE 'accepted' END, at, at,"
        " at + interval '24 hours', at + interval '18 hours', at + touch, NULL, at + touch,"
        " jsonb_build_object('queue', %s, 'matched_on', 'catch-all queue'), ''"
        " FROM (SELECT id, now() - make_interval(secs => 86400 + mod(abs(hashint8(id)), 5097600))"
        "       AS at, CASE WHEN mod(id, 8) = 0 THEN interval '30 hours'"
        "       ELSE make_interval(mins => mod(id, 1200)::int) END AS touch"
        "       FROM leads_lead WHERE id BETWEEN %s AND %s) l",
        [
            queue.pk,
            sdr_ids,
            len(sdr_ids),
            QUEUE_NAME,
            first + open_count,
            first + open_count + closed - 1,
        ],
    )
    # What the queue page shows of each lead: a score with its explanation.
    _sql(
        "INSERT INTO scoring_leadscore (lead_id, model_id, fit, engagement, total, grade,"
        " disqualified, qualifies, explanation, scored_at) "
        "SELECT id, (SELECT id FROM scoring_scoringmodel WHERE status = 'published'),"
        " 25, 60, 85, 'B', false, true,"
        ' \'[{"rule": "Senior title", "points": 15}, {"rule": "Demo request",'
        '    "points": 30}, {"rule": "Pricing page visit", "points": 20}]\'::jsonb,'
        " now() FROM leads_lead WHERE id BETWEEN %s AND %s ON CONFLICT DO NOTHING",
        [first, first + open_count - 1],
    )
    # The counters routing reads, as the services would have kept them.
    _sql(
        "UPDATE routing_membership m SET assigned_count = n, open_count = o FROM"
        " (SELECT queue_id, sdr_id, count(*) n, count(*) FILTER (WHERE status = 'open') o"
        "  FROM routing_assignment GROUP BY queue_id, sdr_id) a"
        " WHERE a.sdr_id = m.sdr_id AND a.queue_id = m.queue_id"
    )
    # A few unread notices each, as the queue page lists them.
    _sql("DELETE FROM handoff_notice WHERE user_id = ANY(%s)", [sdr_ids])
    _sql(
        "INSERT INTO handoff_notice (user_id, kind, text, link, about, created_at, read_at,"
        " in_app, email, chat, chat_url, attempts, last_error) "
        "SELECT sdr_id, 'reminder', 'Bench reminder', '/queue/' || id || '/',"
        " 'assignment:' || id, now(), NULL, TRUE, '', '', '', 0, '' FROM ("
        " SELECT sdr_id, id, row_number() OVER (PARTITION BY sdr_id ORDER BY id) r"
        " FROM routing_assignment WHERE status = 'open') a WHERE r <= 12"
    )
    _sql("ANALYZE routing_assignment")
    _sql("ANALYZE handoff_notice")
    _sql("ANALYZE scoring_leadscore")
    return sdrs, manager


# --- Pages ------------------------------------------------------------------------------


def measure_page(path: str, users: list[User]) -> dict[str, float]:
    """Requests ``path`` as each user in turn; times and query count."""
    clients = []
    for user in users:
        c = Client(HTTP_HOST="127.0.0.1")
        c.force_login(user)
        clients.append(c)
    for c in clients[:5]:  # warm: templates compiled, caches filled
        assert c.get(path).status_code == 200
    # Django empties the query log when a request starts (reset_queries on
    # request_started): kept for this one request, so the capture sees it all.
    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = clients[0].get(path)
        query_count = len(queries)  # now: the log is emptied again at the next request
    finally:
        request_started.connect(reset_queries)
    status = response.status_code
    wait_for_quiet(patience=20)
    times = []
    started = time.perf_counter()
    for n in range(REQUESTS):
        if time.perf_counter() - started > PAGE_TIME_LIMIT:
            break
        t0 = time.perf_counter()
        response = clients[n % len(clients)].get(path)
        times.append(time.perf_counter() - t0)
        if response.status_code != 200:
            status = response.status_code
    return {
        "median": percentile(times, 50) * 1000,
        "p95": percentile(times, 95) * 1000,
        "queries": query_count,
        "requests": len(times),
        "status": status,
        "bytes": len(response.content),
    }


def pages(
    report: Report,
    label: str,
    leads: int,
    activities: int,
    open_count: int,
) -> dict[str, dict[str, float]]:
    from routing.services.sla_rollup import refresh_sla_rollup

    ensured = data.ensure(leads=leads, activities_per_lead=activities)
    sdrs, manager = setup_assignments(open_count, ensured.lead_ids)
    # The SLA watcher builds the rollup on its first pass, then refreshes it
    # each minute (today's deadlines so far, and any day marked changed).
    t0 = time.perf_counter()
    refresh_sla_rollup(full=True)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    refresh_sla_rollup()
    refreshed = time.perf_counter() - t0
    results = {
        "/queue/": measure_page("/queue/", sdrs),
        "/manager/sla/": measure_page("/manager/sla/", [manager]),
    }
    report.config[f"pages_{label}"] = {
        "data": ensured.spec.label,
        "open_assignments": open_count,
        "closed_assignments": 2 * open_count,
        "sdrs": SDRS,
        "load": load(),
        "sla_rollup_full_build_seconds": round(built, 2),
        "sla_rollup_refresh_seconds": round(refreshed, 3),
        **{path: {k: r[k] for k in ("requests", "status", "bytes")} for path, r in results.items()},
    }
    return results


# --- Throughput ----------------------------------------------------------------------------


def throughput(report: Report) -> None:
    from leads.models import Stage
    from routing.models import OPEN_STATUSES
    from routing.services.capacity import real_open_counts
    from routing.tasks import route_new_mql

    # Leads not with sales yet, without an assignment, cross into MQL at once.
    crossing = [
        row[0]
        for row in _sql(
            "SELECT id FROM leads_lead l WHERE stage IN ('lead', 'nurture') AND NOT EXISTS"
            " (SELECT 1 FROM routing_assignment a WHERE a.lead_id = l.id)"
            " ORDER BY hashint8(id) LIMIT %s",
            [CROSSING],
        )
    ]
    _sql(
        "INSERT INTO leads_stagechange (lead_id, from_stage, to_stage, changed_by_id,"
        " changed_at, reason) SELECT id, stage, %s, NULL, now(), 'Bench: crossed at once'"
        " FROM leads_lead WHERE id = ANY(%s)",
        [Stage.MQL, crossing],
    )
    _sql(
        "UPDATE leads_lead SET stage = %s, updated_at = now() WHERE id = ANY(%s)",
        [Stage.MQL, crossing],
    )
    before = _sql("SELECT count(*) FROM routing_assignment")[0][0]
    empty_broker()
    with celery_workers(2, name=NAME):
        wait_for_quiet(patience=30)
        load_before = load()
        started = time.perf_counter()
        for lead_id in crossing:
            route_new_mql.delay(lead_id=lead_id)
        enqueued = time.perf_counter() - started
        _, drained = wait_until_drained(ROUTE_TIME_LIMIT)
        elapsed = time.perf_counter() - started
        if not drained:
            empty_broker()
    statuses = dict(
        _sql(
            "SELECT status, count(*) FROM routing_assignment WHERE lead_id = ANY(%s)"
            " GROUP BY status",
            [crossing],
        )
    )
    routed = sum(statuses.values())
    waiting_without_reason = _sql(
        "SELECT count(*) FROM routing_assignment WHERE lead_id = ANY(%s) AND status = 'waiting'"
        " AND waiting_reason = ''",
        [crossing],
    )[0][0]
    reasons = _sql(
        "SELECT waiting_reason, count(*) FROM routing_assignment WHERE lead_id ="
        " ANY(%s) AND status = 'waiting' GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        [crossing],
    )
    report.figure(f"routing: {len(crossing):,} new MQLs, time to route all", elapsed, "s")
    report.figure("routing: MQLs routed per second", routed / elapsed, "MQLs/s")
    report.figure("routing: of which given to an SDR", statuses.get("open", 0), "MQLs")
    report.figure("routing: of which waiting (SDRs full)", statuses.get("waiting", 0), "MQLs")
    report.figure("routing: of which not routed (the task failed)", len(crossing) - routed, "MQLs")
    report.config["throughput"] = {
        "crossing": len(crossing),
        "workers": "2 Celery worker processes (solo pool) on the bench Redis",
        "enqueue_seconds": round(enqueued, 2),
        "load_before": load_before,
        "load_after": load(),
        "assignments_before": before,
        "waiting_reasons": [[r, n] for r, n in reasons],
    }
    report.check(
        "routing: finished within the time limit", drained, f"{ROUTE_TIME_LIMIT:.0f} s limit"
    )
    over = [
        f"{sdr_id}: {n}/{capacity}"
        for sdr_id, n, capacity in _sql(
            "SELECT m.sdr_id, count(a.id), m.capacity FROM routing_membership m"
            " JOIN routing_assignment a ON a.queue_id = m.queue_id AND a.sdr_id = m.sdr_id"
            " AND a.status = 'open' GROUP BY m.id HAVING count(a.id) > m.capacity"
        )
    ]
    report.check("routing: no SDR above capacity", not over, "; ".join(over[:5]))
    doubles = _sql(
        "SELECT count(*) FROM (SELECT lead_id FROM routing_assignment WHERE status"
        " = ANY(%s) GROUP BY lead_id HAVING count(*) > 1) d",
        [list(OPEN_STATUSES)],
    )[0][0]
    report.check("routing: no lead with two open assignments", doubles == 0, f"{doubles} leads")
    report.check(
        "routing: every new MQL with an SDR or visibly waiting",
        routed == len(crossing) and waiting_without_reason == 0,
        f"{statuses.get('open', 0)} with an SDR, {statuses.get('waiting', 0)} waiting"
        f" ({waiting_without_reason} without a reason), {len(crossing) - routed} of"
        f" {len(crossing)} not routed",
    )
    counters = dict(_sql("SELECT id, open_count FROM routing_membership"))
    drifted = {pk: (counters[pk], n) for pk, n in real_open_counts().items() if counters[pk] != n}
    report.check(
        "routing: each membership's open-MQL counter equals the real count",
        not drifted,
        "; ".join(
            f"membership {pk}: {c} counted, {n} real" for pk, (c, n) in list(drifted.items())[:5]
        ),
    )


def run() -> Report:
    report = Report(
        NAME,
        config={
            "sdrs": SDRS,
            "requests_per_page": REQUESTS,
            "client": "django.test.Client in-process, force_login",
            "load_at_start": load(),
            "cpus": os.cpu_count(),
            "note": "the machine's cores are shared with other work: "
            "see the load averages beside each phase",
        },
    )
    small = pages(report, "small", SMALL_LEADS, 2, SMALL_OPEN)
    large = pages(report, "large", LEADS, ACTIVITIES_PER_LEAD, OPEN)
    for path, label in (("/queue/", "SDR queue /queue/"), ("/manager/sla/", "SLA /manager/sla/")):
        for size, result in ((SMALL_OPEN, small), (OPEN, large)):
            report.figure(f"{label}: median ({size:,} open)", result[path]["median"], "ms")
            report.figure(f"{label}: p95 ({size:,} open)", result[path]["p95"], "ms", below=100)
        report.figure(f"{label}: queries ({SMALL_OPEN:,} open)", small[path]["queries"], "")
        report.figure(f"{label}: queries ({OPEN:,} open)", large[path]["queries"], "")
        report.check(
            f"{label}: answered 200",
            small[path]["status"] == 200 and large[path]["status"] == 200,
            f"{small[path]['status']}, {large[path]['status']}",
        )
        report.check(
            f"{label}: query count independent of data size",
            small[path]["queries"] == large[path]["queries"],
            f"{small[path]['queries']} and {large[path]['queries']} queries",
        )
    throughput(report)
    data.reset_derived()
    report.config["load_at_end"] = load()
    return report
