"""The search for likely duplicate leads over 1,000,000 leads. Goal: under 60 s.

Data, generated set-wise in SQL: a million leads in 20,000 accounts (50 each),
each a distinct person, a tenth of them on Gmail, most with a phone number;
then planted duplicates, one in 500 leads each way: a Gmail address written
with dots removed and a +tag on googlemail.com, the same phone number written
another way under the same last name, the same name in the same account under
another mailbox. The search runs twice: the first finds them all (checked pair
by pair), the second (nothing new) is what an hourly run costs afterwards.
"""

from __future__ import annotations

import os
import time

from django.db import connection

from bench.report import Report
from leads.duplicates import find_duplicate_candidates

LEADS = int(os.environ.get("BENCH_DUPLICATE_LEADS", "1000000"))
PER_ACCOUNT = 50
PLANT_EVERY = 500
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon"]


def _generate(leads: int) -> int:
    accounts = max(1, leads // PER_ACCOUNT)
    # (%% is a literal % only in statements that have parameters.)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead, leads_account RESTART IDENTITY CASCADE")
        cursor.execute(
            "INSERT INTO leads_account (name, domain, industry, country, is_target_account,"
            " created_at, updated_at) SELECT 'Company ' || a, 'c' || a || '.example', '', '',"
            " false, now(), now() FROM generate_series(1, %s) a",
            [accounts],
        )
        common = (
            "'', '', '', '', '', (SELECT min(id) FROM leads_leadsource), '', 'lead', '{}', false,"
            " now(), now()"
        )
        columns = (
            "(email, first_name, last_name, phone, account_id, title, seniority, department,"
            " country, company_name, source_id, source_detail, stage, attributes,"
            " do_not_contact, created_at, updated_at)"
        )
        cursor.execute(
            f"INSERT INTO leads_lead {columns} SELECT"
            " CASE WHEN g %% 10 = 0 THEN 'p.erson' || g || '@gmail.com'"
            " ELSE 'p' || g || '@c' || (1 + g %% %(accounts)s) || '.example' END,"
            " (%(first)s::text[])[1 + g %% 10], 'Last' || g,"
            " CASE WHEN g %% 5 < 3 THEN '+1 555 ' || lpad(g::text, 7, '0') ELSE '' END,"
            " CASE WHEN g %% 10 = 0 THEN NULL ELSE 1 + g %% %(accounts)s END,"
            f" {common} FROM generate_series(1, %(leads)s) g",
            {"accounts": accounts, "first": FIRST_NAMES, "leads": leads},
        )
        planted = 0
        # The same Gmail mailbox: dots dropped, a tag, the old domain.
        cursor.execute(
            f"INSERT INTO leads_lead {columns} SELECT"
            " replace(split_part(email, '@', 1), '.', '') || '+promo@googlemail.com',"
            f" first_name, last_name, '', NULL, {common}"
            " FROM leads_lead WHERE email LIKE '%%@gmail.com' AND id %% %(every)s = 0",
            {"every": PLANT_EVERY},
        )
        planted += cursor.rowcount
        # The same phone written another way, the same last name, another mailbox.
        cursor.execute(
            f"INSERT INTO leads_lead {columns} SELECT"
            " 'phone' || id || '@elsewhere.example', '', last_name,"
            " '(555) ' || right(phone, 7), NULL,"
            f" {common} FROM leads_lead WHERE phone <> '' AND id %% %(every)s = 1",
            {"every": PLANT_EVERY},
        )
        planted += cursor.rowcount
        # The same name in the same account, another mailbox.
        cursor.execute(
            f"INSERT INTO leads_lead {columns} SELECT"
            " 'second' || id || '@c' || account_id || '.example', upper(first_name),"
            f" ' ' || last_name, '', account_id, {common}"
            " FROM leads_lead WHERE account_id IS NOT NULL AND id %% %(every)s = 2",
            {"every": PLANT_EVERY},
        )
        planted += cursor.rowcount
        cursor.execute("ANALYZE leads_lead")
        return planted


def run() -> Report:
    report = Report("duplicates")
    report.config = {
        "leads": LEADS,
        "leads per account": PER_ACCOUNT,
        "planted pairs": f"one in {PLANT_EVERY} leads, for each of the three reasons",
        "how": "leads.duplicates.find_duplicate_candidates, as the hourly task runs it",
    }
    started = time.perf_counter()
    planted = _generate(LEADS)
    report.figure(
        "generating the data (not timed against the goal)", time.perf_counter() - started, "s"
    )
    started = time.perf_counter()
    first = find_duplicate_candidates()
    report.figure("first search (every pair new)", time.perf_counter() - started, "s", below=60)
    report.check(
        "every planted pair found, and nothing else",
        first.total == planted,
        f"{first.found} for {planted:,} planted",
    )
    started = time.perf_counter()
    again = find_duplicate_candidates()
    report.figure("next search (nothing new)", time.perf_counter() - started, "s", below=60)
    report.check("the next search proposes nothing again", again.total == 0, str(again.found))
    return report
