"""Account (ABM) scores, and the marketing qualified account (MQA) crossings.

An account's score under a version, from the account itself and the stored
lead scores of its contacts (its leads):

- fit: the points of the version's firmographic rules on ``account.*`` fields
  that hold for the account (firmographic rules on other fields need a lead
  and do not count); a disqualifier on an ``account.*`` field disqualifies it;
- engagement: the sum over its contacts of min(contact engagement, contact
  cap), so one very busy contact cannot qualify an account alone;
- engaged contacts: contacts whose engagement reaches ``account_engaged_at``;
- committee coverage: the share of the version's committee roles that engaged
  contacts fill, in whole percent rounded down (100 when there are no roles);
- total: fit + engagement;
- qualified (MQA): not disqualified, and fit, engagement, engaged contacts
  and coverage each reach the version's minimum.

Contacts whose lead score is disqualified (job seekers, students, do not
contact…) and contacts not scored yet count for nothing.

Two paths gather the same facts: one set-wise SQL statement per batch of
accounts on PostgreSQL, and Python for the embedded SQLite default. Both work
in integer hundredths of a point, and a property test holds them to agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from handoff import audit
from handoff.enqueue import enqueue_on_commit
from leads.models import Account, Activity, Lead
from scoring.bulk import condition_sql
from scoring.engine import CompiledRule, Condition, condition_holds
from scoring.events import announce_mqa
from scoring.fields import ACCOUNT_PREFIX, account_values
from scoring.models import AccountScore, Layer, ScoringModel
from scoring.patterns import Searchable, runnable_pattern
from scoring.selectors import compiled_model, live_model

# How many contacts an explanation names: the largest contributions first.
EXPLAINED_CONTACTS = 20
# Accounts per SQL statement and per upsert.
BATCH_SIZE = 1000


# --- what a version says about accounts -------------------------------------------------


@dataclass(frozen=True)
class CompiledRole:
    name: str
    title_pattern: str
    department_pattern: str
    title: Searchable
    department: Searchable | None

    def filled_by(self, title: str, department: str) -> bool:
        """Whether a contact with this title and department fits the role.
        Blank text is "not set" and matches nothing, as in the engine."""
        if not title or self.title.search(title) is None:
            return False
        if self.department is None:
            return True
        return bool(department) and self.department.search(department) is not None


@dataclass(frozen=True)
class AccountModel:
    """The parts of a version that score accounts."""

    model: ScoringModel
    rules: tuple[CompiledRule, ...]  # firmographic rules and disqualifiers on account.* fields
    roles: tuple[CompiledRole, ...]

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Each rule's condition, in the rules' order (account_model keeps only
        rules that test an account field, so every one has a condition)."""
        return tuple(rule.condition for rule in self.rules if rule.condition is not None)


def account_model(model: ScoringModel) -> AccountModel:
    rules = tuple(
        rule
        for rule in compiled_model(model).rules
        if rule.condition is not None
        and rule.condition.field.startswith(ACCOUNT_PREFIX)
        and rule.layer in (Layer.FIRMOGRAPHIC, Layer.DISQUALIFIER)
    )
    roles = tuple(
        CompiledRole(
            name=role.name,
            title_pattern=role.title_pattern,
            department_pattern=role.department_pattern,
            title=runnable_pattern(role.title_pattern),
            department=(
                runnable_pattern(role.department_pattern) if role.department_pattern else None
            ),
        )
        for role in model.committee_roles.order_by("position", "pk")
    )
    return AccountModel(model=model, rules=rules, roles=roles)


# --- the facts both paths gather -------------------------------------------------------


@dataclass(frozen=True)
class ContactFacts:
    lead_id: int
    engagement_cents: int
    counted_cents: int  # min(engagement, contact cap)
    engaged: bool
    roles: tuple[int, ...]  # indexes of the committee roles this contact fills


@dataclass(frozen=True)
class AccountFacts:
    account_id: int
    rule_hits: tuple[bool, ...]  # one per AccountModel.rules
    engagement_cents: int
    engaged_contacts: int
    roles_filled: tuple[bool, ...]  # one per AccountModel.roles
    contacts_scored: int
    top_contacts: tuple[ContactFacts, ...]  # the EXPLAINED_CONTACTS largest, engagement ≠ 0


def _contact_order(contact: ContactFacts) -> tuple[int, int]:
    return (-contact.counted_cents, contact.lead_id)


def facts_python(
    am: AccountModel, accounts: Sequence[Account], *, as_of: datetime
) -> dict[int, AccountFacts]:
    """The facts of each account, one contact at a time in Python."""
    model = am.model
    cap, engaged_at = model.account_contact_cap * 100, model.account_engaged_at * 100
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    rows = Lead.objects.filter(
        account__in=[a.pk for a in accounts], score__disqualified=False
    ).values_list("account_id", "pk", "title", "department", "score__engagement")
    for account_id, lead_id, title, department, engagement in rows:
        cents = int(engagement * 100)
        engaged = cents >= engaged_at
        roles = tuple(
            i for i, role in enumerate(am.roles) if engaged and role.filled_by(title, department)
        )
        contacts[account_id].append(
            ContactFacts(
                lead_id=lead_id,
                engagement_cents=cents,
                counted_cents=min(cents, cap),
                engaged=engaged,
                roles=roles,
            )
        )

    facts = {}
    for account in accounts:
        values = account_values(account)
        mine = contacts.get(account.pk, [])
        filled = {i for c in mine for i in c.roles}
        facts[account.pk] = AccountFacts(
            account_id=account.pk,
            rule_hits=tuple(
                condition_holds(condition, values.get(condition.field), as_of)
                for condition in am.conditions
            ),
            engagement_cents=sum(c.counted_cents for c in mine),
            engaged_contacts=sum(1 for c in mine if c.engaged),
            roles_filled=tuple(i in filled for i in range(len(am.roles))),
            contacts_scored=len(mine),
            top_contacts=tuple(
                sorted((c for c in mine if c.engagement_cents != 0), key=_contact_order)[
                    :EXPLAINED_CONTACTS
                ]
            ),
        )
    return facts


def _role_sql(role: CompiledRole) -> tuple[str, list[Any]]:
    # Both patterns spell their cases out (scoring.patterns): matched
    # case-sensitively, as RE2 matches them in filled_by.
    text, params = "(NULLIF(l.title, '') ~ %s)", [runnable_pattern(role.title_pattern).sql]
    if role.department_pattern:
        text += " AND (NULLIF(l.department, '') ~ %s)"
        params.append(runnable_pattern(role.department_pattern).sql)
    return f"COALESCE({text}, false)", params


def facts_sql(
    am: AccountModel, account_ids: Sequence[int], *, as_of: datetime
) -> dict[int, AccountFacts]:
    """The facts of each account, set-wise in one PostgreSQL statement."""
    model = am.model
    params: list[Any] = []
    hit_columns = []
    for i, condition in enumerate(am.conditions):
        cond = condition_sql(condition, container=None, as_of=as_of)
        hit_columns.append(f"COALESCE({cond.text}, false) AS h_{i}")
        params += cond.params
    params.append(list(account_ids))

    role_columns = []
    for j, role in enumerate(am.roles):
        text, role_params = _role_sql(role)
        role_columns.append(f"{text} AS r_{j}")
        params += role_params
    params += [model.account_contact_cap * 100, model.account_engaged_at * 100, list(account_ids)]
    role_indexes = (
        "ARRAY["
        + ", ".join(f"CASE WHEN engaged AND r_{j} THEN {j} END" for j in range(len(am.roles)))
        + "]::int[]"
        if am.roles
        else "ARRAY[]::int[]"
    )
    filled_columns = [f"bool_or(engaged AND r_{j}) AS f_{j}" for j in range(len(am.roles))]
    params.append(EXPLAINED_CONTACTS)

    text = (
        "WITH acc AS (SELECT "
        + ", ".join(["a.id AS account_id", *hit_columns])
        + " FROM leads_account a WHERE a.id = ANY(%s::bigint[])), "
        "contacts AS (SELECT l.account_id, l.id AS lead_id, "
        + "".join(f"{c}, " for c in role_columns)
        + "c.eng, LEAST(c.eng, %s) AS counted, c.eng >= %s AS engaged "
        "FROM leads_lead l JOIN scoring_leadscore s ON s.lead_id = l.id "
        "CROSS JOIN LATERAL (SELECT (s.engagement * 100)::bigint AS eng) c "
        "WHERE l.account_id = ANY(%s::bigint[]) AND NOT s.disqualified), "
        "ranked AS (SELECT contacts.*, row_number() OVER (PARTITION BY account_id, eng <> 0 "
        "ORDER BY counted DESC, lead_id) AS rn FROM contacts), "
        "agg AS (SELECT account_id, SUM(counted)::bigint AS eng_sum, "
        "COUNT(*) FILTER (WHERE engaged) AS n_engaged, COUNT(*) AS n_scored, "
        + "".join(f"{c}, " for c in filled_columns)
        + "jsonb_agg(jsonb_build_array(lead_id, eng, counted, engaged, "
        f"to_jsonb(array_remove({role_indexes}, NULL))) ORDER BY counted DESC, lead_id) "
        "FILTER (WHERE eng <> 0 AND rn <= %s) AS top "
        "FROM ranked GROUP BY account_id) "
        "SELECT acc.*, COALESCE(agg.eng_sum, 0), COALESCE(agg.n_engaged, 0), "
        "COALESCE(agg.n_scored, 0), COALESCE(agg.top, '[]'::jsonb)"
        + "".join(f", COALESCE(agg.f_{j}, false)" for j in range(len(am.roles)))
        + " FROM acc LEFT JOIN agg ON agg.account_id = acc.account_id"
    )
    n_rules = len(am.rules)
    facts = {}
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for row in cursor.fetchall():
            account_id, hits = row[0], row[1 : 1 + n_rules]
            eng, n_engaged, n_scored, top = row[1 + n_rules : 5 + n_rules]
            filled = row[5 + n_rules :]
            # Django reads jsonb from raw cursors as text.
            top = json.loads(top) if isinstance(top, str) else top
            facts[account_id] = AccountFacts(
                account_id=account_id,
                rule_hits=tuple(hits),
                engagement_cents=int(eng),
                engaged_contacts=n_engaged,
                roles_filled=tuple(filled),
                contacts_scored=n_scored,
                top_contacts=tuple(
                    ContactFacts(
                        lead_id=lead_id,
                        engagement_cents=e,
                        counted_cents=c,
                        engaged=engaged,
                        roles=tuple(roles),
                    )
                    for lead_id, e, c, engaged, roles in top
                ),
            )
    return facts


# --- from facts to a score -----------------------------------------------------------


def _points(cents: int) -> int | float:
    """Hundredths as points for an explanation (two decimals at most)."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def account_score_values(am: AccountModel, facts: AccountFacts) -> dict[str, Any]:
    """An AccountScore's fields (all but account, model and time) from its facts."""
    model = am.model
    hits = [rule for rule, hit in zip(am.rules, facts.rule_hits, strict=True) if hit]
    fit = sum(rule.points * 100 for rule in hits if rule.layer == Layer.FIRMOGRAPHIC)
    disqualified = any(rule.layer == Layer.DISQUALIFIER for rule in hits)
    engagement = facts.engagement_cents
    filled = [role.name for role, f in zip(am.roles, facts.roles_filled, strict=True) if f]
    coverage = len(filled) * 100 // len(am.roles) if am.roles else 100
    # (check, value, minimum, met): amounts compared in hundredths.
    checks = [
        ("fit", _points(fit), model.account_min_fit, fit >= model.account_min_fit * 100),
        (
            "engagement",
            _points(engagement),
            model.account_min_engagement,
            engagement >= model.account_min_engagement * 100,
        ),
        (
            "engaged_contacts",
            facts.engaged_contacts,
            model.account_min_engaged_contacts,
            facts.engaged_contacts >= model.account_min_engaged_contacts,
        ),
        ("coverage", coverage, model.account_min_coverage, coverage >= model.account_min_coverage),
    ]
    qualified = not disqualified and all(met for *_, met in checks)
    explanation = {
        "fit": [
            {
                "rule_id": rule.id,
                "rule": rule.name,
                "layer": rule.layer,
                "points": rule.points,
                "disqualifies": rule.layer == Layer.DISQUALIFIER,
            }
            for rule in hits
        ],
        "contacts": [
            {
                "lead_id": c.lead_id,
                "engagement": _points(c.engagement_cents),
                "counted": _points(c.counted_cents),
                "engaged": c.engaged,
                "roles": [am.roles[i].name for i in c.roles],
            }
            for c in facts.top_contacts
        ],
        "contacts_scored": facts.contacts_scored,
        "checks": [
            {"check": name, "value": value, "minimum": minimum, "met": met}
            for name, value, minimum, met in checks
        ],
    }
    return {
        "fit": _decimal(fit),
        "engagement": _decimal(engagement),
        "total": _decimal(fit + engagement),
        "engaged_contacts": facts.engaged_contacts,
        "coverage": coverage,
        "roles_filled": filled,
        "disqualified": disqualified,
        "qualified": qualified,
        "explanation": explanation,
    }


# --- the service ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccountScoringResult:
    scored: int
    became_mqa: int
    stopped_mqa: int


SCORE_FIELDS = [
    "model",
    "fit",
    "engagement",
    "total",
    "engaged_contacts",
    "coverage",
    "roles_filled",
    "disqualified",
    "qualified",
    "explanation",
    "scored_at",
]


@transaction.atomic
def score_accounts(
    *, account_ids: Iterable[int], model: ScoringModel | None = None, as_of: datetime | None = None
) -> AccountScoringResult:
    """Scores the given accounts under ``model`` (the live version by default)
    from their contacts' stored lead scores, and stores each score with its
    explanation.

    Guarantees: one transaction; accounts that no longer exist are skipped;
    each account that becomes or stops being an MQA gets exactly one audit
    entry, even when two workers score it at once (the account rows are
    locked, in id order, before their old scores are read). Scoring again
    with nothing changed writes the same numbers and no audit entry.
    """
    model = model or live_model()
    ids = sorted(set(account_ids))
    if model is None or not ids:
        return AccountScoringResult(scored=0, became_mqa=0, stopped_mqa=0)
    as_of = as_of or timezone.now()
    am = account_model(model)
    scored = became = stopped = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        # NO KEY UPDATE: serialises scorers of the same accounts without
        # blocking leads being added to them (their FK takes KEY SHARE).
        accounts = list(
            Account.objects.select_for_update(no_key=True).filter(pk__in=batch).order_by("pk")
        )
        if not accounts:
            continue
        was_qualified = dict(
            AccountScore.objects.filter(account__in=accounts).values_list("account_id", "qualified")
        )
        if connection.vendor == "postgresql":
            facts = facts_sql(am, [a.pk for a in accounts], as_of=as_of)
        else:
            facts = facts_python(am, accounts, as_of=as_of)
        scores = [
            AccountScore(
                account=account,
                model=model,
                scored_at=as_of,
                **account_score_values(am, facts[account.pk]),
            )
            for account in accounts
        ]
        AccountScore.objects.bulk_create(
            scores, update_conflicts=True, unique_fields=["account"], update_fields=SCORE_FIELDS
        )
        scored += len(scores)
        for account, score in zip(accounts, scores, strict=True):
            before = was_qualified.get(account.pk, False)
            if score.qualified == before:
                continue
            if score.qualified:
                became += 1
            else:
                stopped += 1
            audit.record(
                actor=None,
                action="became MQA" if score.qualified else "no longer MQA",
                obj=account,
                changes={"qualified": [before, score.qualified]},
                note=_summary(score, model),
            )
            if score.qualified:
                announce_mqa(account=account, score=score, version=model.version)
    return AccountScoringResult(scored=scored, became_mqa=became, stopped_mqa=stopped)


def _summary(score: AccountScore, model: ScoringModel) -> str:
    return (
        f"Fit {score.fit:f}, engagement {score.engagement:f}, "
        f"{score.engaged_contacts} engaged contacts, committee {score.coverage}% "
        f"(model v{model.version})"
    )


# --- hand-off from lead scoring --------------------------------------------------------


def score_accounts_on_commit(*, account_ids: Iterable[int]) -> None:
    """Rescores these accounts in a task once the caller's transaction commits
    (their contacts' new scores are visible to it only then). A message lost
    to a broker outage is made up for by sweep_stale_account_scores."""
    from scoring.tasks import refresh_account_scores as task

    ids = sorted({i for i in account_ids if i is not None})
    if ids:
        enqueue_on_commit(task, account_ids=ids)


def account_ids_of_leads(*, lead_ids: Iterable[int]) -> list[int]:
    ids = list(lead_ids)
    if not ids:
        return []
    return sorted(
        set(
            Lead.objects.filter(pk__in=ids, account__isnull=False).values_list(
                "account_id", flat=True
            )
        )
    )


def sweep_stale_account_scores(
    *, batch: int = BATCH_SIZE, settle: timedelta = timedelta(seconds=30)
) -> int:
    """Scores again the accounts left behind their contacts: a lead with an
    event of the last day whose score is newer than its account's (or whose
    account has none). That is a lost message (a broker outage, a crash), or
    one score_lead did not send because the lead's engagement and
    disqualification did not move. Lead scores of the last ``settle`` are
    left to the messages in flight. Returns how many accounts it scored."""
    now = timezone.now()
    behind = (
        Activity.objects.filter(
            received_at__gte=now - timedelta(days=1),
            lead__account__isnull=False,
            lead__score__scored_at__lt=now - settle,
        )
        .filter(
            Q(lead__account__score__isnull=True)
            | Q(lead__account__score__scored_at__lt=F("lead__score__scored_at"))
        )
        .order_by()
        .values_list("lead__account_id", flat=True)
        .distinct()[:batch]
    )
    account_ids = list(behind)
    if not account_ids:
        return 0
    return score_accounts(account_ids=account_ids).scored
