"""Every write with business meaning in scoring: scores, MQL crossings."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from leads.models import Activity, Lead, LeadTouch, Stage
from scoring import bulk, engine
from scoring.fields import lead_values
from scoring.models import LeadScore, ScoringModel
from scoring.selectors import compiled_model, live_compiled_model, live_model
from scoring.services.accounts import account_ids_of_leads, score_accounts_on_commit
from scoring.services.crossing import STAGES_THAT_CAN_QUALIFY, qualify_lead, qualify_leads
from scoring.services.fast_lane import fresh_hand_raises, take_hand_raise
from scoring.services.nurture import STAGES_THAT_GO_TO_NURTURE, nurture_lead, nurture_leads

logger = logging.getLogger(__name__)


def score_one(model: ScoringModel, lead: Lead, *, as_of: datetime) -> engine.ScoreResult:
    """A lead's score under a version, in Python, without writing anything."""
    return _score_compiled(compiled_model(model), lead, as_of=as_of)


def _score_compiled(
    compiled: engine.CompiledModel,
    lead: Lead,
    *,
    as_of: datetime,
) -> engine.ScoreResult:
    activities = _activity_facts(compiled, lead.pk, as_of) if compiled.max_window_days else []
    return engine.score(
        compiled,
        values=lead_values(lead),
        attributes=lead.attributes,
        source_id=lead.source_id,
        touch_source_ids=_touch_source_ids(compiled, lead),
        activities=activities,
        as_of=as_of,
    )


def _touch_source_ids(compiled: engine.CompiledModel, lead: Lead) -> list[int]:
    """The sources of the lead's later touches, read only when its first
    source is not eligible already (most leads): then they cannot change
    whether it qualifies, and scoring one lead costs no extra query."""
    if lead.source_id in compiled.eligible_source_ids:
        return []
    return list(LeadTouch.objects.filter(lead_id=lead.pk).values_list("source_id", flat=True))


def _activity_facts(
    compiled: engine.CompiledModel,
    lead_id: int,
    as_of: datetime,
) -> list[engine.ActivityFacts]:
    """The lead's activities that some rule of the version may count: those
    inside the longest look-back window and, when every activity rule names
    its kinds, of one of those kinds (no other can match). Read as tuples,
    not model instances, and without their properties when no rule tests one:
    for a lead with 200 events, building them cost more than scoring them."""
    rules = [r for r in compiled.rules if r.matches_activities]
    activities = Activity.objects.filter(
        lead_id=lead_id, occurred_at__gte=as_of - timedelta(days=compiled.max_window_days)
    )
    if all(r.activity_kinds for r in rules):
        activities = activities.filter(kind__in={k for r in rules for k in r.activity_kinds})
    if any(r.property_conditions for r in rules):
        return [
            engine.ActivityFacts(kind=kind, url=url, properties=properties, occurred_at=at)
            for kind, url, properties, at in activities.order_by().values_list(
                "kind", "url", "properties", "occurred_at"
            )
        ]
    return [
        engine.ActivityFacts(kind=kind, url=url, properties={}, occurred_at=at)
        for kind, url, at in activities.order_by().values_list("kind", "url", "occurred_at")
    ]


# One statement: the upsert, and the score it replaced as it was before (the
# CTE reads the snapshot the statement started from), so that deciding whether
# the account needs scoring again costs no query of its own.
_UPSERT_ONE_SCORE = """
WITH previous AS (
    SELECT model_id, engagement, disqualified FROM scoring_leadscore WHERE lead_id = %s
), upserted AS (
    INSERT INTO scoring_leadscore (lead_id, model_id, fit, engagement, total, grade,
                                   disqualified, qualifies, explanation, basis, scored_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, NULL, %s)
    ON CONFLICT (lead_id) DO UPDATE SET
        model_id = EXCLUDED.model_id, fit = EXCLUDED.fit, engagement = EXCLUDED.engagement,
        total = EXCLUDED.total, grade = EXCLUDED.grade, disqualified = EXCLUDED.disqualified,
        qualifies = EXCLUDED.qualifies, explanation = EXCLUDED.explanation,
        basis = NULL, scored_at = EXCLUDED.scored_at
    RETURNING lead_id
)
SELECT p.model_id, p.engagement, p.disqualified FROM upserted LEFT JOIN previous p ON true
"""


@transaction.atomic
def score_lead(
    *, lead_id: int, as_of: datetime | None = None, hand_raise: Activity | None = None
) -> LeadScore | None:
    """Scores one lead under the live version, stores the score and its
    explanation, and makes the lead an MQL if it now qualifies. With a fresh
    ``hand_raise`` (fast_lane.fresh_hand_raises) the lead takes the fast lane
    instead: an MQL whatever its score, or held back by a disqualifier. Its account
    is scored again after commit when the lead's part in it changed (its
    engagement, its disqualification, or the version that scored it).

    Returns None when there is no live version or no such lead.
    """
    compiled = live_compiled_model()
    lead = Lead.objects.select_related("account", "source").filter(pk=lead_id).order_by().first()
    if compiled is None or lead is None:
        return None
    as_of = as_of or timezone.now()
    result = _score_compiled(compiled, lead, as_of=as_of)
    score = LeadScore(
        lead=lead,
        model_id=compiled.id,
        fit=result.fit,
        engagement=result.engagement,
        total=result.total,
        grade=result.grade,
        disqualified=result.disqualified,
        qualifies=result.qualifies,
        explanation=result.explanation,
        scored_at=as_of,
    )
    previous = _upsert_one(score)
    if hand_raise is not None and lead.stage in STAGES_THAT_CAN_QUALIFY:
        take_hand_raise(
            lead=lead,
            score=score,
            model_id=compiled.id,
            model_version=compiled.version,
            activity=hand_raise,
        )
    elif result.qualifies and lead.stage in STAGES_THAT_CAN_QUALIFY:
        qualify_lead(lead=lead, score=score, model=compiled)
    elif result.fit_only and lead.stage in STAGES_THAT_GO_TO_NURTURE:
        nurture_lead(lead=lead, model=compiled)
    # ABM: an account is scored from its contacts' stored engagement and
    # disqualification. Enqueueing its rescore on every event cost about a
    # millisecond here; when neither moved, the account's score would not
    # either. (Changes to the lead itself, such as its title or its account,
    # come through rescore_leads, which always scores the accounts.)
    if lead.account_id is not None and previous != (
        compiled.id,
        result.engagement,
        result.disqualified,
    ):
        score_accounts_on_commit(account_ids=[lead.account_id])
    return score


def _upsert_one(score: LeadScore) -> tuple[int, Decimal, bool] | None:
    """Stores one score (insert or replace); returns the model, engagement
    and disqualification of the score it replaced, None if it had none."""
    if connection.vendor != "postgresql":
        previous = (
            LeadScore.objects.filter(lead_id=score.lead_id)
            .values_list("model_id", "engagement", "disqualified")
            .first()
        )
        score.save(force_insert=previous is None)
        return previous
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_ONE_SCORE,
            [
                score.lead_id,
                score.lead_id,
                score.model_id,
                score.fit,
                score.engagement,
                score.total,
                score.grade,
                score.disqualified,
                score.qualifies,
                json.dumps(score.explanation),
                score.scored_at,
            ],
        )
        model_id, engagement, disqualified = cursor.fetchone()
    return None if model_id is None else (model_id, engagement, disqualified)


@dataclass(frozen=True)
class RescoreResult:
    scored: int
    became_mql: int
    changed: int = 0
    nurtured: int = 0


# Scores and writes a set of leads in one statement. Rows whose score changed
# are updated in place (an UPDATE costs half an INSERT … ON CONFLICT that
# finds the row), leads without a score get one; unchanged rows are left as
# they are. What the caller acts on comes back in one row: how many leads
# were scored and changed, the qualifying leads that may cross into MQL, the
# fit-only leads that go to nurture, and the accounts of the changed leads.
_WRITE_SCORES = """
WITH scored AS MATERIALIZED ({scores}),
updated AS (
    UPDATE scoring_leadscore ls SET
        model_id = %s, fit = s.fit / 100.0, engagement = s.eng / 100.0,
        total = s.total / 100.0, grade = s.grade, disqualified = s.disqualified,
        qualifies = s.qualifies, explanation = s.explanation, basis = s.basis,
        scored_at = %s
    FROM scored s
    WHERE s.changed AND s.had_score AND ls.lead_id = s.lead_id AND {stored_filter}
),
inserted AS (
    INSERT INTO scoring_leadscore (lead_id, model_id, fit, engagement, total, grade,
                                   disqualified, qualifies, explanation, basis, scored_at)
    SELECT s.lead_id, %s, s.fit / 100.0, s.eng / 100.0, s.total / 100.0, s.grade,
           s.disqualified, s.qualifies, s.explanation, s.basis, %s
    FROM scored s WHERE s.changed AND NOT s.had_score
    ON CONFLICT (lead_id) DO UPDATE SET
        model_id = EXCLUDED.model_id, fit = EXCLUDED.fit, engagement = EXCLUDED.engagement,
        total = EXCLUDED.total, grade = EXCLUDED.grade, disqualified = EXCLUDED.disqualified,
        qualifies = EXCLUDED.qualifies, explanation = EXCLUDED.explanation,
        basis = EXCLUDED.basis, scored_at = EXCLUDED.scored_at
)
SELECT count(*), count(*) FILTER (WHERE changed),
       COALESCE(array_agg(lead_id ORDER BY lead_id)
                FILTER (WHERE qualifies AND stage = ANY(%s)), '{{}}'),
       COALESCE(array_agg(lead_id ORDER BY lead_id)
                FILTER (WHERE fit_only AND stage = ANY(%s)), '{{}}'),
       COALESCE(array_agg(DISTINCT account_id)
                FILTER (WHERE changed AND account_id IS NOT NULL), '{{}}')
FROM scored
"""


def _rescore_where(
    model: ScoringModel,
    lead_filter: bulk.Sql,
    *,
    key_filter: bulk.Sql,
    as_of: datetime,
    python_ids: Iterable[int],
    score_accounts: bool = True,
    only_changed: bool = False,
) -> RescoreResult:
    """Rescores the leads ``lead_filter`` keeps; ``key_filter`` (see
    bulk.rescore_sql) covers them all."""
    if connection.vendor == "postgresql":
        scores = bulk.rescore_sql(
            compiled_model(model),
            as_of=as_of,
            lead_filter=lead_filter,
            key_filter=key_filter,
            model_id=model.pk,
            only_changed=only_changed,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _WRITE_SCORES.format(
                    scores=scores.text, stored_filter=key_filter.text.format(lead_id="ls.lead_id")
                ),
                [
                    *scores.params,
                    model.pk,
                    as_of,
                    *key_filter.params,
                    model.pk,
                    as_of,
                    list(STAGES_THAT_CAN_QUALIFY),
                    list(STAGES_THAT_GO_TO_NURTURE),
                ],
            )
            scored, changed, qualifying, nurturing, account_ids = cursor.fetchone()
    else:
        # The embedded SQLite default has no set-wise path; the Python engine
        # gives the same numbers, one lead at a time, and writes every lead.
        scored, qualifying, nurturing, scored_ids = 0, [], [], []
        for lead in Lead.objects.select_related("account", "source").filter(pk__in=python_ids):
            result = score_one(model, lead, as_of=as_of)
            LeadScore.objects.update_or_create(
                lead=lead,
                defaults={
                    "model": model,
                    "fit": result.fit,
                    "engagement": result.engagement,
                    "total": result.total,
                    "grade": result.grade,
                    "disqualified": result.disqualified,
                    "qualifies": result.qualifies,
                    "explanation": result.explanation,
                    "basis": None,
                    "scored_at": as_of,
                },
            )
            scored += 1
            scored_ids.append(lead.pk)
            if result.qualifies and lead.stage in STAGES_THAT_CAN_QUALIFY:
                qualifying.append(lead.pk)
            elif result.fit_only and lead.stage in STAGES_THAT_GO_TO_NURTURE:
                nurturing.append(lead.pk)
        changed = scored
        account_ids = account_ids_of_leads(lead_ids=scored_ids)
    became = qualify_leads(lead_ids=qualifying, model=model) if qualifying else 0
    nurtured = nurture_leads(lead_ids=nurturing, model=model) if nurturing else 0
    # ABM: the accounts of these leads are scored again from the new lead scores.
    if score_accounts and account_ids:
        score_accounts_on_commit(account_ids=sorted(account_ids))
    return RescoreResult(scored=scored, became_mql=became, changed=changed, nurtured=nurtured)


# New events usually concern one lead or a few: one at a time, the Python
# engine costs a fraction of the set-wise statement for so few.
EVENT_LEADS_ONE_BY_ONE = 20


def rescore_after_events(*, lead_ids: Iterable[int]) -> None:
    """Rescores leads that received new events. Events move engagement only
    (not a title or an account), so each lead's account is scored again only
    when its part in it moved, as score_lead decides. Many leads at once (a
    big batch) go set-wise. Each lead commits on its own: a redelivered task
    simply scores again."""
    as_of = timezone.now()
    ids = sorted(set(lead_ids))
    # Hand-raisers go one by one, whatever their number, each through the
    # fast lane: a person who asked for sales must not wait for a score.
    raised = fresh_hand_raises(lead_ids=ids, as_of=as_of)
    others = [lead_id for lead_id in ids if lead_id not in raised]
    if len(others) > EVENT_LEADS_ONE_BY_ONE:
        rescore_leads(lead_ids=others)
    else:
        for lead_id in others:
            score_lead(lead_id=lead_id, as_of=as_of)
    for lead_id, activity in sorted(raised.items()):
        score_lead(lead_id=lead_id, as_of=as_of, hand_raise=activity)


@transaction.atomic
def rescore_leads(*, lead_ids: Iterable[int], as_of: datetime | None = None) -> RescoreResult:
    """Rescores a set of leads under the live version (set-wise on PostgreSQL).
    Leads with a fresh hand-raise are scored one by one through the fast lane
    (as rescore_after_events does): a new lead's upsert and its demo request
    arrive together, and whichever is scored first, the lead crosses as a
    hand-raiser."""
    ids = sorted(set(lead_ids))
    model = live_model()
    if model is None or not ids:
        return RescoreResult(scored=0, became_mql=0)
    as_of = as_of or timezone.now()
    raised = fresh_hand_raises(lead_ids=ids, as_of=as_of)
    crossed = 0
    if raised:
        could = list(
            Lead.objects.filter(pk__in=raised, stage__in=STAGES_THAT_CAN_QUALIFY).values_list(
                "pk", flat=True
            )
        )
        for lead_id, activity in sorted(raised.items()):
            score_lead(lead_id=lead_id, as_of=as_of, hand_raise=activity)
        crossed = Lead.objects.filter(pk__in=could, stage=Stage.MQL).count()
    ids = [lead_id for lead_id in ids if lead_id not in raised]
    result = RescoreResult(scored=0, became_mql=0)
    if ids:
        named = bulk.Sql("{lead_id} = ANY(%s::bigint[])", [ids])
        result = _rescore_where(model, named, key_filter=named, as_of=as_of, python_ids=ids)
    return RescoreResult(
        scored=result.scored + len(raised),
        became_mql=result.became_mql + crossed,
        changed=result.changed + len(raised),
        nurtured=result.nurtured,
    )


@transaction.atomic
def rescore_id_range(
    *,
    model: ScoringModel,
    first_id: int,
    last_id: int,
    as_of: datetime,
    engaged_since: datetime | None = None,
    score_accounts: bool = True,
) -> RescoreResult:
    """Rescores every lead with first_id <= id <= last_id under ``model`` (only
    those with activity since ``engaged_since``, when given), in one
    transaction: a chunk is applied whole or not at all. Only the scores that
    changed are written: most of a rescore's leads keep theirs, and writing
    them again cost more than scoring them. Without ``score_accounts`` their
    accounts are left to the caller.

    (rescore_leads writes every lead it is given: the sweep counts on the
    time of a lead's score to know it saw the lead's events.)"""
    where = "{lead_id} BETWEEN %s AND %s"
    params: list = [first_id, last_id]
    id_range = bulk.Sql(where, [first_id, last_id])
    leads = Lead.objects.filter(pk__gte=first_id, pk__lte=last_id)
    if engaged_since is not None:
        where += " AND {lead_id} IN (SELECT lead_id FROM leads_activity WHERE occurred_at >= %s)"
        params.append(engaged_since)
        leads = leads.filter(activities__occurred_at__gte=engaged_since).distinct()
    python_ids = leads.values_list("pk", flat=True) if connection.vendor != "postgresql" else ()
    if connection.vendor == "postgresql":
        # For this transaction only: chunks run side by side on the workers, so
        # parallel query inside one only takes cores from the others; JIT
        # compiling this long statement costs more than it saves on a chunk;
        # and the tables a rescore reads are in memory, where a random read
        # costs about a sequential one (bulk.RANDOM_READ_COST).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
                "set_config('jit', 'off', true), "
                "set_config('random_page_cost', %s, true)",
                [bulk.RANDOM_READ_COST],
            )
    return _rescore_where(
        model,
        bulk.Sql(where, params),
        key_filter=id_range,
        as_of=as_of,
        python_ids=python_ids,
        score_accounts=score_accounts,
        only_changed=True,
    )
