"""MQL crossings: a lead becomes an MQL, through the lifecycle service, with
a snapshot of what sales will see, announced to routing and to other systems.
A crossing comes from a qualifying score, a hand-raise or a person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.contrib.auth.models import User

from handoff.errors import ConflictError
from leads.models import Activity, Lead, LeadTouch, Stage, StageChange
from leads.services import change_stage
from scoring.events import announce_mql
from scoring.models import Crossing, LeadScore, MQLSnapshot, ScoringModel
from scoring.signals import lead_became_mql

# Stages from which a qualifying score makes a lead an MQL. Leads already with
# sales (MQL and beyond) or disqualified by a person are left alone.
STAGES_THAT_CAN_QUALIFY = (Stage.LEAD, Stage.NURTURE, Stage.RECYCLED)


def _has_engagement_since_recycle(lead_id: int) -> bool:
    """A recycled lead needs new engagement after the recycle to qualify again."""
    recycled_at = (
        StageChange.objects.filter(lead_id=lead_id, to_stage=Stage.RECYCLED)
        .order_by("-changed_at")
        .values_list("changed_at", flat=True)
        .first()
    )
    if recycled_at is None:
        return True
    return Activity.objects.filter(lead_id=lead_id, occurred_at__gt=recycled_at).exists()


@dataclass(frozen=True)
class Version:
    """A version as a crossing records it, when the caller holds only its numbers."""

    id: int
    version: int
    threshold: int


class ModelVersion(Protocol):
    """What a crossing records of the version that scored the lead: a
    ScoringModel, or the CompiledModel single-lead scoring already holds."""

    # Read-only, as a frozen CompiledModel's fields are.
    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def threshold(self) -> int: ...


def qualify_leads(*, lead_ids: Iterable[int], model: ModelVersion) -> int:
    """Makes MQLs of the given qualifying leads that are not with sales yet,
    reading each lead's stored score. Returns how many leads crossed."""
    candidates = (
        Lead.objects.filter(pk__in=list(lead_ids), stage__in=STAGES_THAT_CAN_QUALIFY)
        .select_related("score")
        .order_by("pk")
    )
    return sum(qualify_lead(lead=lead, score=lead.score, model=model) for lead in candidates)


def qualify_lead(
    *,
    lead: Lead,
    score: LeadScore,
    model: ModelVersion,
    crossing: str = Crossing.SCORE,
    note: str = "",
    by: User | None = None,
) -> bool:
    """Makes an MQL of a lead whose ``score`` (under ``model``) qualifies and
    whose ``stage``, as read by the caller, can qualify; the caller passes
    what it already holds, so nothing is read again. True if it crossed.

    ``crossing`` says how it crossed: its score (the default), a hand-raise
    (``note`` names it) or a person (``by``, with the reason in ``note``).
    The crossing changes the stage through the lifecycle service, keeps a
    snapshot of the score and its explanation, how it crossed and which
    source made it eligible, and is announced on ``lead_became_mql`` for
    routing (and as the same ``lead.mql`` event, however it crossed). A lead
    whose stage someone else changed since the caller read it is left alone:
    it is no longer this score's to qualify, and its next scoring sees it as
    it is.
    """
    if (
        crossing == Crossing.SCORE
        and lead.stage == Stage.RECYCLED
        and not _has_engagement_since_recycle(lead.pk)
    ):
        return False
    scored = (
        f"score {_points(score.total)}, fit {_points(score.fit)}, "
        f"engagement {_points(score.engagement)}; model v{model.version}"
    )
    if crossing == Crossing.HAND_RAISER:
        reason = f"Hand-raiser: {note} ({scored})"
    elif crossing == Crossing.BY_HAND:
        reason = f"Sent to sales by hand: {note} ({scored})"
    else:
        reason = (
            f"Score {_points(score.total)} ≥ {model.threshold} "
            f"(fit {_points(score.fit)}, engagement {_points(score.engagement)}; "
            f"model v{model.version})"
        )
    try:
        change_stage(
            lead=lead, to_stage=Stage.MQL, by=by, reason=reason[:500], expected_from=lead.stage
        )
    except ConflictError:
        return False
    via = eligible_touch(lead=lead, model_id=model.id)
    snapshot = MQLSnapshot.objects.create(
        lead=lead,
        model_id=model.id,
        fit=score.fit,
        engagement=score.engagement,
        total=score.total,
        grade=score.grade,
        explanation=score.explanation,
        crossing=crossing,
        crossing_note=note[:500],
        eligible_source_id=via[0] if via else None,
        eligible_since=via[1] if via else None,
        sent_by=by if by is not None and by.is_authenticated else None,
    )
    announce_mql(lead=lead, snapshot=snapshot, version=model.version)
    lead_became_mql.send(sender=MQLSnapshot, lead_id=lead.pk, snapshot_id=snapshot.pk)
    return True


def eligible_touch(*, lead: Lead, model_id: int) -> tuple[int, datetime] | None:
    """The source that makes the lead eligible under a version, and since
    when: its first source when that one is eligible (since the lead was
    created), else its earliest eligible later touch; None when none is."""
    eligible = ScoringModel.eligible_sources.through.objects.filter(scoringmodel_id=model_id)
    if eligible.filter(leadsource_id=lead.source_id).exists():
        return lead.source_id, lead.created_at
    return (
        LeadTouch.objects.filter(lead_id=lead.pk, source_id__in=eligible.values("leadsource_id"))
        .order_by("first_seen_at", "id")
        .values_list("source_id", "first_seen_at")
        .first()
    )


def _points(value: Decimal) -> str:
    return f"{value.normalize():f}"
