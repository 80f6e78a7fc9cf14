"""Set-wise test data for the scoring and routing benchmarks, generated in SQL.

``ensure(leads=N, activities_per_lead=M)`` makes the database hold exactly
this data set: N leads across accounts of very different sizes (a few with
thousands of contacts, most with a handful, one lead in ten with none), and
on average M activities per lead of varied kinds and ages over the last 120
days, stored in the order they happened (as a live system stores them, so a
lead's events are spread over the table). Everything is INSERT … SELECT
generate_series, then VACUUM ANALYZE, so that a timed phase does not pay for
the hint bits and statistics of the load.

A row of ``bench_dataset`` says which data set is there: a benchmark of the
same run that asks for the same one reuses it (if no other benchmark
truncated the leads meanwhile). ``reset_derived()`` puts back what the
benchmarks change (scores, stages, assignments) without generating again.

Every lead's attributes are a function of its id (hashint8), so the original
stage, say, can be computed again in SQL; only activity kinds and ages use
random() (seeded).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from django.db import connection, transaction

# (value, per mille) choices, turned into SQL CASE expressions on a hash.
TITLES = [
    ("VP Marketing", 60),
    ("Director of Sales", 60),
    ("CEO", 20),
    ("Head of Growth", 40),
    ("Founder", 20),
    ("CTO", 20),
    ("Marketing Manager", 160),
    ("Product Manager", 120),
    ("Software Engineer", 160),
    ("Analyst", 120),
    ("Consultant", 80),
    ("Sales Representative", 80),
    ("", 60),
]
SENIORITIES = [
    ("executive", 100),
    ("director", 150),
    ("manager", 300),
    ("individual", 450),
    ("", 0),
]
DEPARTMENTS = [
    ("Marketing", 300),
    ("Sales", 250),
    ("Engineering", 200),
    ("Finance", 100),
    ("Operations", 100),
    ("", 50),
]
COUNTRIES = [
    ("US", 400),
    ("Germany", 120),
    ("United Kingdom", 120),
    ("France", 80),
    ("Canada", 60),
    ("Netherlands", 40),
    ("Brazil", 60),
    ("India", 80),
    ("Japan", 40),
]
INDUSTRIES = [
    ("Software", 300),
    ("Financial services", 150),
    ("Manufacturing", 150),
    ("Retail", 100),
    ("Healthcare", 100),
    ("Education", 50),
    ("Media", 50),
    ("", 100),
]
SOURCES = [
    ("inbound_form", 300),
    ("website", 250),
    ("content", 120),
    ("webinar", 80),
    ("event_list_import", 80),
    ("trade_show_badge_scan", 40),
    ("cold_list", 60),
    ("partner", 40),
    ("api", 30),
]
# The stage a generated lead starts in: most are not with sales yet.
STAGES = [
    ("lead", 720),
    ("nurture", 200),
    ("sal", 30),
    ("sql", 20),
    ("lost", 10),
    ("disqualified", 20),
]
# Activity kinds by share of events (per mille).
KINDS = [
    ("page_view", 480),
    ("email_open", 150),
    ("email_click", 80),
    ("content_download", 80),
    ("pricing_page_view", 60),
    ("webinar_registration", 40),
    ("form_submit", 40),
    ("webinar_attendance", 30),
    ("demo_request", 20),
    ("email_unsubscribe", 20),
]
DAYS = 120  # activities happen over the last 120 days


@dataclass(frozen=True)
class Spec:
    leads: int
    activities_per_lead: int
    accounts: int

    @property
    def label(self) -> str:
        return (
            f"{self.leads:,} leads, {self.accounts:,} accounts, "
            f"~{self.leads * self.activities_per_lead:,} activities"
        )


@dataclass
class Ensured:
    spec: Spec
    reused: bool
    seconds: float
    lead_ids: tuple[int, int]  # first and last id
    activities: int


def _pick(choices: list[tuple[str, int]], hash_sql: str) -> str:
    """A CASE choosing a value by weight from ``hash_sql``, an integer in 0..999."""
    total = sum(w for _, w in choices)
    parts, upto = [], 0
    for value, weight in choices:
        if not weight:
            continue
        upto += weight * 1000 // total
        parts.append(f"WHEN {hash_sql} < {upto} THEN '{value}'")
    return f"(CASE {' '.join(parts)} ELSE '{choices[0][0]}' END)"


def h(expr: str, salt: int) -> str:
    """A stable pseudo-random integer in 0..999 from an integer expression."""
    return f"mod(abs(hashint8(({expr})::bigint * 7919 + {salt})), 1000)"


def stage_sql(id_sql: str) -> str:
    """The stage a generated lead starts in, from its id."""
    return _pick(STAGES, h(id_sql, 5))


def _execute(sql: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _scalar(sql: str, params: list | tuple = ()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _marker() -> dict | None:
    _execute(
        "CREATE TABLE IF NOT EXISTS bench_dataset (id int PRIMARY KEY, spec jsonb NOT NULL,"
        " first_lead bigint, last_lead bigint, activities bigint)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT spec, first_lead, last_lead, activities FROM bench_dataset WHERE id = 1"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    spec = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return {"spec": spec, "first": row[1], "last": row[2], "activities": row[3]}


def ensure(
    *, leads: int, activities_per_lead: int, accounts: int | None = None, log=print
) -> Ensured:
    """The data set, generated unless it is there already (see the module)."""
    spec = Spec(leads, activities_per_lead, accounts or max(1, leads // 10))
    started = time.perf_counter()
    marker = _marker()
    if marker is not None and marker["spec"] == asdict(spec):
        bounds = _bounds()
        if bounds == (marker["first"], marker["last"]) and _count_leads() == spec.leads:
            log(f"   reusing the data set: {spec.label}")
            return Ensured(spec, True, time.perf_counter() - started, bounds, marker["activities"])
    log(f"   generating {spec.label} …")
    _execute("DELETE FROM bench_dataset")
    _generate(spec, log)
    bounds = _bounds()
    activities = _scalar("SELECT count(*) FROM leads_activity")
    _execute(
        "INSERT INTO bench_dataset (id, spec, first_lead, last_lead, activities)"
        " VALUES (1, %s, %s, %s, %s)",
        [json.dumps(asdict(spec)), *bounds, activities],
    )
    seconds = time.perf_counter() - started
    log(f"   generated in {seconds:.0f} s")
    return Ensured(spec, False, seconds, bounds, activities)


def _bounds() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM leads_lead")
        return tuple(cursor.fetchone())


def _count_leads() -> int:
    return _scalar("SELECT count(*) FROM leads_lead")


def forget() -> None:
    """Marks the data set as gone (for a benchmark that changes it beyond repair)."""
    _marker()
    _execute("DELETE FROM bench_dataset")


def reset_derived() -> None:
    """Empties what scoring and routing derive from the data (scores, snapshots,
    account scores, rescore jobs, assignments, stage history) and puts every
    lead back in its generated stage. The generated rows stay."""
    _execute(
        "TRUNCATE scoring_leadscore, scoring_mqlsnapshot, scoring_accountscore,"
        " scoring_rescorejob, routing_assignment, leads_stagechange, routing_sladay,"
        " routing_slafirsttouch, routing_slarollupstate, routing_slachangedday CASCADE"
    )
    _execute(f"UPDATE leads_lead SET stage = {stage_sql('id')} WHERE stage <> {stage_sql('id')}")
    _execute("UPDATE routing_membership SET assigned_count = 0, open_count = 0")
    _execute("DELETE FROM leads_activity WHERE source_system <> 'bench-gen'")


def _generate(spec: Spec, log) -> None:
    with transaction.atomic():
        _execute("TRUNCATE leads_account, leads_lead RESTART IDENTITY CASCADE")
        _execute("SET LOCAL work_mem = '256MB'")
        # Bulk load: no foreign-key triggers (the ids come from the rows just
        # written), and each table's secondary indexes are built once at the end.
        _execute("SET LOCAL session_replication_role = replica")
        t = time.perf_counter()
        with _indexes_dropped("leads_account"), _indexes_dropped("leads_lead"):
            _accounts(spec)
            _leads(spec)
        log(
            f"   {spec.leads:,} leads and {spec.accounts:,} accounts: "
            f"{time.perf_counter() - t:.0f} s"
        )
        t = time.perf_counter()
        with _indexes_dropped("leads_activity"):
            _activities(spec)
        log(f"   activities and their indexes: {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    for table in ("leads_account", "leads_lead", "leads_activity"):
        _execute(f"VACUUM (FREEZE, ANALYZE) {table}")
    _execute("CHECKPOINT")
    log(f"   VACUUM and CHECKPOINT: {time.perf_counter() - t:.0f} s")


def _accounts(spec: Spec) -> None:
    g = "g"
    _execute(
        "INSERT INTO leads_account (name, domain, industry, employee_count, annual_revenue,"
        " country, last_funding_date, owner_id, is_target_account, created_at, updated_at) "
        f"SELECT 'Bench Account ' || g, 'acct' || g || '.example', {_pick(INDUSTRIES, h(g, 11))},"
        # Log-uniform sizes from 1 to about 50,000 employees; one in twenty unknown.
        f" CASE WHEN {h(g, 12)} < 50 THEN NULL"
        f"  ELSE floor(exp(({h(g, 13)} / 1000.0) * ln(50000)))::int END,"
        f" CASE WHEN {h(g, 14)} < 300 THEN NULL ELSE ({h(g, 15)} + 1) * 100000 END,"
        f" {_pick(COUNTRIES, h(g, 16))},"
        f" CASE WHEN {h(g, 17)} < 100 THEN current_date - mod({h(g, 18)}, 365)::int END,"
        f" NULL, {h(g, 19)} < 20, now(), now()"
        " FROM generate_series(1, %s::bigint) g",
        [spec.accounts],
    )


def _leads(spec: Spec) -> None:
    g = "g"
    with connection.cursor() as cursor:
        cursor.execute("SELECT slug, id FROM leads_leadsource")
        source_ids = dict(cursor.fetchall())
    source = _pick([(str(source_ids[slug]), w) for slug, w in SOURCES], h(g, 4))
    # Account sizes: account k (1-based) gets a share ~ 1/sqrt(k) of the leads
    # (power(u, 2) of a uniform u), so the largest accounts have thousands of
    # contacts and most have a few; one lead in ten has no account.
    account = (
        f"CASE WHEN {h(g, 1)} < 100 THEN NULL ELSE 1 + floor(%s * "
        f"power(mod(abs(hashint8(g * 104729 + 3)), 1000003) / 1000003.0, 2))::bigint END"
    )
    _execute(
        "INSERT INTO leads_lead (email, external_id, first_name, last_name, title, seniority,"
        " department, phone, country, company_name, account_id, source_id, source_detail, stage,"
        " owner_id, attributes, known_outcome, do_not_contact, created_at, updated_at) "
        "SELECT CASE WHEN account_id IS NULL THEN"
        "  CASE WHEN " + h(g, 2) + " < 60 THEN 'p' || g || '@uni' || mod(g, 100) || '.edu'"
        "  ELSE 'p' || g || '@mail' || mod(g, 50) || '.example' END"
        " ELSE 'p' || g || '@acct' || account_id || '.example' END,"
        " NULL, 'Bench', 'Person ' || g, "
        f" {_pick(TITLES, h(g, 6))}, {_pick(SENIORITIES, h(g, 7))},"
        f" {_pick(DEPARTMENTS, h(g, 8))}, '', {_pick(COUNTRIES, h(g, 9))},"
        " COALESCE('Bench Account ' || account_id, ''), account_id,"
        f" {source}::bigint, '', {stage_sql(g)}, NULL,"
        f" CASE WHEN {h(g, 10)} < 100 THEN '{{\"plan\": \"team\"}}'::jsonb ELSE '{{}}'::jsonb END,"
        f" NULL, {h(g, 3)} < 10, now() - make_interval(secs => {h(g, 20)} * 31536.0), now()"
        f" FROM (SELECT g, {account} AS account_id FROM generate_series(1, %s::bigint) g) s",
        [spec.accounts, spec.leads],
    )


def _activities(spec: Spec) -> None:
    _execute("SELECT setseed(0.20260101)")
    kind = _pick(KINDS, "floor(r * 1000)::int")
    # Between 0 and twice the average per lead (uniform), at random moments
    # of the last 120 days, inserted in time order.
    _execute(
        "INSERT INTO leads_activity (lead_id, kind, url, properties, occurred_at, source_system,"
        " external_id, received_at) "
        "SELECT lead_id, kind,"
        " CASE kind WHEN 'page_view' THEN 'https://www.bench-vendor.example/'"
        "   || CASE WHEN u < 0.01 THEN 'careers/' ELSE 'product/' END || mod(n, 40)"
        "  WHEN 'pricing_page_view' THEN 'https://www.bench-vendor.example/pricing'"
        "  WHEN 'content_download' THEN 'https://www.bench-vendor.example/ebooks/' || mod(n, 12)"
        "  ELSE '' END,"
        " jsonb_build_object('utm_source', (ARRAY['newsletter', 'ads', 'organic'])[1 + mod(n, 3)]),"
        " at, 'bench-gen', 'gen-' || lead_id || '-' || n, at + interval '1 minute'"
        " FROM (SELECT l.id AS lead_id, n, random() AS u,"
        f"        {kind} AS kind, now() - make_interval(secs => random() * {DAYS} * 86400) AS at"
        "       FROM (SELECT id, random() AS r0 FROM leads_lead) l,"
        "       LATERAL (SELECT n, random() AS r FROM generate_series(1,"
        "                floor(l.r0 * (2 * %s + 1))::int) n) s) e"
        " ORDER BY at",
        [spec.activities_per_lead],
    )


class _indexes_dropped:
    """Drops a table's secondary indexes and unique constraints (not its primary
    key) and builds them again on exit, in the caller's transaction."""

    def __init__(self, table: str):
        self.table = table

    def __enter__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'u'",
                [self.table],
            )
            self.constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [self.table],
            )
            self.indexes = cursor.fetchall()
            for name, _ in self.constraints:
                cursor.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
            for name, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name}")

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            return  # the transaction rolls back: the indexes were never dropped
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for _, definition in self.indexes:
                cursor.execute(definition)
            for name, definition in self.constraints:
                cursor.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
