"""Reads of scoring models and scores."""

from datetime import datetime
from functools import lru_cache

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from leads.selectors import accounts_visible_to, leads_visible_to
from scoring.bulk import rule_matches_sql
from scoring.engine import CompiledModel, compile_model, compile_rule
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
    query = rule_matches_sql(compile_rule(rule), as_of=as_of or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(query.text, query.params)
        return int(cursor.fetchone()[0])
