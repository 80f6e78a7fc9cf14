"""Likely duplicate leads: pairs that look like one person, for marketing ops
to merge or dismiss (``DuplicateCandidate``, listed in the admin).

Three reasons, tried in this order (a pair is kept with the first it matched):

- ``mailbox``: the same mailbox written differently. Case never matters. On
  Gmail (and its old name, googlemail.com) dots in the name and a ``+tag``
  are ignored by the provider: ``Jane.Doe+news@googlemail.com`` is
  ``janedoe@gmail.com``. Providers in ``PLUS_ADDRESSING`` ignore a ``+tag``
  only. A company's own domain is taken as written: only its mail server
  knows whether ``j.doe`` and ``jdoe`` are one person.
- ``phone``: the same number (its digits, the last ten, at least seven)
  AND the same last name. A number alone is not enough: colleagues share a
  switchboard, so different people at one company never match on it.
- ``name_at_company``: the same first and last name (case and spaces
  ignored) in the same account, i.e. the same company domain. Same first
  name with another last name, or two people at one company, do not match.

A key shared by more than ``LARGEST_GROUP`` leads is left out: that many
"Jane Doe"s or one number on a hundred leads is a placeholder, not a person.

The search runs on the beat schedule (``leads.find_duplicate_candidates``):
on PostgreSQL one set-wise statement per reason (a hash aggregate over the
leads, then the pairs within each small group), inserting only pairs not
already known; a pair dismissed once is kept, and so never proposed again.
On SQLite (development) the same keys are computed in Python.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from handoff import audit
from leads.models import DuplicateCandidate, DuplicateReason, Lead

GMAIL = ("gmail.com", "googlemail.com")
# Providers that deliver name+tag@ to name@ (dots still count there).
PLUS_ADDRESSING = (
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
)
LARGEST_GROUP = 10
SHORTEST_PHONE = 7
PHONE_DIGITS = 10


# --- The keys, in Python (the reference, and the SQLite path) ----------------------------------


def mailbox_key(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    if domain in GMAIL:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    if domain in PLUS_ADDRESSING:
        return local.split("+", 1)[0] + "@" + domain
    return f"{local}@{domain}"


def phone_key(phone: str, last_name: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", phone or "")
    last = (last_name or "").strip().lower()
    if len(digits) < SHORTEST_PHONE or not last:
        return None
    return f"{digits[-PHONE_DIGITS:]} {last}"


def name_key(account_id: int | None, first_name: str, last_name: str) -> str | None:
    first, last = (first_name or "").strip().lower(), (last_name or "").strip().lower()
    if account_id is None or not first or not last:
        return None
    return f"{first} {last} @{account_id}"


# --- The same keys in SQL (PostgreSQL) -----------------------------------------------------------

_EMAIL = "lower(btrim(email))"
_LOCAL = f"split_part({_EMAIL}, '@', 1)"
_DOMAIN = f"split_part({_EMAIL}, '@', 2)"
_MAILBOX_SQL = f"""
    CASE
        WHEN {_DOMAIN} = ANY(%(gmail)s)
            THEN replace(split_part({_LOCAL}, '+', 1), '.', '') || '@gmail.com'
        WHEN {_DOMAIN} = ANY(%(plus)s) THEN split_part({_LOCAL}, '+', 1) || '@' || {_DOMAIN}
        ELSE {_EMAIL}
    END
"""
_DIGITS = "regexp_replace(phone, '[^0-9]', '', 'g')"
_PHONE_SQL = (
    f"CASE WHEN length({_DIGITS}) >= %(shortest_phone)s AND btrim(last_name) <> '' "
    f"THEN right({_DIGITS}, %(phone_digits)s) || ' ' || lower(btrim(last_name)) END"
)
_NAME_SQL = (
    "CASE WHEN account_id IS NOT NULL AND btrim(first_name) <> '' AND btrim(last_name) <> '' "
    "THEN lower(btrim(first_name)) || ' ' || lower(btrim(last_name)) || ' @' || account_id END"
)
# The leads worth keying at all: a phone search reads only leads with a phone, etc.
_KEYS_SQL = {
    DuplicateReason.MAILBOX: (_MAILBOX_SQL, "email LIKE '%%@%%'"),
    DuplicateReason.PHONE: (_PHONE_SQL, "phone <> ''"),
    DuplicateReason.NAME_AT_COMPANY: (_NAME_SQL, "account_id IS NOT NULL"),
}

_INSERT_PAIRS = """
WITH keyed AS (
    SELECT id, {key} AS k FROM leads_lead WHERE {where}
), shared AS (
    SELECT k FROM keyed WHERE k IS NOT NULL
    GROUP BY k HAVING count(*) BETWEEN 2 AND %(largest)s
), members AS (
    SELECT keyed.id, keyed.k FROM keyed JOIN shared ON shared.k = keyed.k
)
INSERT INTO leads_duplicatecandidate
    (first_id, second_id, reason, matched_on, found_at, dismissed_by_name)
SELECT a.id, b.id, %(reason)s, left(a.k, 300), %(now)s, ''
FROM members a JOIN members b ON b.k = a.k AND a.id < b.id
ON CONFLICT (first_id, second_id) DO NOTHING
"""


@dataclass(frozen=True)
class SearchResult:
    found: dict[str, int]  # reason -> new pairs

    @property
    def total(self) -> int:
        return sum(self.found.values())


@transaction.atomic
def find_duplicate_candidates() -> SearchResult:
    """Records every likely duplicate pair not yet known (new or dismissed)."""
    found = _find_in_sql() if connection.vendor == "postgresql" else _find_in_python()
    return SearchResult(found=found)


def _find_in_sql() -> dict[str, int]:
    params = {
        "gmail": list(GMAIL),
        "plus": list(PLUS_ADDRESSING),
        "shortest_phone": SHORTEST_PHONE,
        "phone_digits": PHONE_DIGITS,
        "largest": LARGEST_GROUP,
        "now": timezone.now(),
    }
    found = {}
    with connection.cursor() as cursor:
        for reason in DuplicateReason:
            key, where = _KEYS_SQL[reason]
            cursor.execute(
                _INSERT_PAIRS.format(key=key, where=where), {**params, "reason": reason.value}
            )
            found[reason.value] = cursor.rowcount
    return found


def _pairs(keys: Iterable[tuple[int, str | None]]) -> Iterator[tuple[int, int, str]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for lead_id, key in keys:
        if key is not None:
            groups[key].append(lead_id)
    for key, ids in groups.items():
        if 2 <= len(ids) <= LARGEST_GROUP:
            ids.sort()
            for i, low in enumerate(ids):
                for high in ids[i + 1 :]:
                    yield low, high, key


def _find_in_python() -> dict[str, int]:
    """The same search, read lead by lead: fine for a development database."""
    rows = list(
        Lead.objects.order_by().values_list(
            "pk", "email", "phone", "first_name", "last_name", "account_id"
        )
    )
    keyed = {
        DuplicateReason.MAILBOX: [(pk, mailbox_key(email)) for pk, email, *_ in rows],
        DuplicateReason.PHONE: [(pk, phone_key(phone, last)) for pk, _, phone, _, last, _ in rows],
        DuplicateReason.NAME_AT_COMPANY: [
            (pk, name_key(account, first, last)) for pk, _, _, first, last, account in rows
        ],
    }
    known = set(DuplicateCandidate.objects.values_list("first_id", "second_id"))
    found = {}
    for reason in DuplicateReason:
        new = [
            DuplicateCandidate(first_id=low, second_id=high, reason=reason, matched_on=key[:300])
            for low, high, key in _pairs(keyed[reason])
            if (low, high) not in known
        ]
        known.update((c.first_id, c.second_id) for c in new)
        DuplicateCandidate.objects.bulk_create(new)
        found[reason.value] = len(new)
    return found


# --- Deciding on a pair ---------------------------------------------------------------------------


@transaction.atomic
def dismiss_candidates(*, candidate_ids: Iterable[int], by: User) -> int:
    """Marks pairs as not duplicates: they stay recorded, so the search never
    proposes them again. Returns how many were dismissed (already dismissed
    ones are left as they were)."""
    pairs = list(
        DuplicateCandidate.objects.select_for_update()
        .filter(pk__in=list(candidate_ids), dismissed_at__isnull=True)
        .order_by("pk")
    )
    now = timezone.now()
    for pair in pairs:
        pair.dismissed_at, pair.dismissed_by = now, by
        pair.dismissed_by_name = by.get_username()
        audit.record(actor=by, action="dismissed", obj=pair, note=pair.get_reason_display())
    DuplicateCandidate.objects.bulk_update(
        pairs, ["dismissed_at", "dismissed_by", "dismissed_by_name"]
    )
    return len(pairs)
