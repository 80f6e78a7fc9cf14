"""Reads of scoring models and scores."""

from datetime import datetime, timedelta
from functools import lru_cache

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from leads.models import Activity, Lead, Stage, StageChange
from leads.selectors import accounts_visible_to, leads_visible_to
from scoring.bulk import rule_matches_sql
from scoring.engine import (
    ActivityFacts,
    CompiledModel,
    CompiledRule,
    activity_matches,
    compile_model,
    compile_rule,
    condition_holds,
)
from scoring.fields import ATTRIBUTE_PREFIX, lead_values
from scoring.models import AccountScore, LeadScore, ModelStatus, Rule, ScoringModel


def live_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(status=ModelStatus.PUBLISHED).first()


def live_compiled_model() -> CompiledModel | None:
    """The live version, compiled, for a path that needs only its rules and
    settings: one narrow query, no ScoringModel instance (half a millisecond
    of a single lead's scoring went into building one)."""
    model_id = (
        ScoringModel.objects.filter(status=ModelStatus.PUBLISHED)
        .values_list("pk", flat=True)
        .first()
    )
    return None if model_id is None else _compiled(model_id)


@lru_cache(maxsize=8)
def _compiled(model_id: int) -> CompiledModel:
    return compile_model(ScoringModel.objects.get(pk=model_id))


def compiled_model(model: ScoringModel) -> CompiledModel:
    """The compiled form of a version. Only drafts change, so anything else is
    cached per process; a draft is compiled afresh each time."""
    if model.is_editable:
        return compile_model(model)
    return _compiled(model.pk)


def lead_scores_visible_to(user: User | AnonymousUser) -> QuerySet[LeadScore]:
    """The scores of the leads ``user`` may see, newest leads first, with their version."""
    return (
        LeadScore.objects.filter(lead__in=leads_visible_to(user).values("pk"))
        .select_related("model")
        .order_by("-lead_id")
    )


def account_scores_visible_to(
    user: User | AnonymousUser,
) -> QuerySet[AccountScore]:
    """The scores of the accounts ``user`` may see, MQAs first, with account and version."""
    return AccountScore.objects.filter(
        account__in=accounts_visible_to(user).values("pk")
    ).select_related("account", "model")


def rule_match_count(*, rule: Rule, as_of: datetime | None = None) -> int:
    """How many current leads a (possibly unsaved, validated) rule matches,
    counted set-wise in PostgreSQL."""
    as_of = as_of or timezone.now()
    compiled = compile_rule(rule)
    if connection.vendor != "postgresql":
        return _match_count_in_python(compiled, as_of)
    query = rule_matches_sql(compiled, as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute(query.text, query.params)
        return int(cursor.fetchone()[0])


def _match_count_in_python(rule: CompiledRule, as_of: datetime) -> int:
    """The embedded default's count (SQLite, a demo-sized database): the
    engine's own tests, lead by lead or activity by activity."""
    condition = rule.condition
    if condition is not None:
        leads = Lead.objects.select_related("account", "source").iterator(chunk_size=2000)
        if condition.field.startswith(ATTRIBUTE_PREFIX):
            name = condition.field.removeprefix(ATTRIBUTE_PREFIX)
            values = ((lead.attributes or {}).get(name) for lead in leads)
        else:
            values = (lead_values(lead).get(condition.field) for lead in leads)
        return sum(condition_holds(condition, value, as_of) for value in values)
    activities = Activity.objects.filter(
        occurred_at__gte=as_of - timedelta(days=rule.window_days)
    ).only("lead_id", "kind", "url", "properties", "occurred_at")
    if rule.activity_kinds:
        activities = activities.filter(kind__in=rule.activity_kinds)
    matched: set[int] = set()
    for a in activities.iterator(chunk_size=2000):
        facts = ActivityFacts(
            kind=a.kind, url=a.url, properties=a.properties or {}, occurred_at=a.occurred_at
        )
        if a.lead_id not in matched and activity_matches(rule, facts, as_of):
            matched.add(a.lead_id)
    return len(matched)


# Text fields whose values ops pick from what the data holds (the rule editor
# offers the most common ones), by the lead lookup that reads each.
PICKABLE_FIELDS = {
    "country": "country",
    "seniority": "seniority",
    "department": "department",
    "source_detail": "source_detail",
    "source": "source__slug",
    "account.industry": "account__industry",
    "account.country": "account__country",
}


def common_values(*, field: str, limit: int = 12) -> list[tuple[str, int]]:
    """The values of a pickable field most leads hold, most common first, with
    how many leads hold each; [] for any other field. One grouped query."""
    lookup = PICKABLE_FIELDS.get(field)
    if lookup is None:
        return []
    rows = (
        Lead.objects.exclude(**{f"{lookup}__isnull": True})
        .exclude(**{lookup: ""})
        .values_list(lookup)
        .annotate(n=Count("pk"))
        .order_by("-n", lookup)[:limit]
    )
    return [(str(value), n) for value, n in rows]


def nurtured_leads(*, source_id: int | None = None, grade: str = "") -> QuerySet[Lead]:
    """Leads in nurture, newest first, with their score, source and account,
    and when and why they went there (their latest move to nurture): what
    marketing's nurture list and its export show. ``grade`` is the fit grade
    (A-D)."""
    latest_move = StageChange.objects.filter(
        lead_id=OuterRef("pk"), to_stage=Stage.NURTURE
    ).order_by("-changed_at", "-pk")
    leads = (
        Lead.objects.filter(stage=Stage.NURTURE)
        .select_related("source", "account", "score")
        .annotate(
            nurtured_at=Subquery(latest_move.values("changed_at")[:1]),
            nurture_reason=Subquery(latest_move.values("reason")[:1]),
        )
        .order_by("-pk")
    )
    if source_id is not None:
        leads = leads.filter(source_id=source_id)
    if grade:
        leads = leads.filter(score__grade=grade)
    return leads
