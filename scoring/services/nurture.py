"""Fit-only leads go to nurture, marketing's to work until they engage; and
marketing's nurture list: what is recorded when someone takes it away."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.contrib.auth.models import User
from django.db import transaction

from handoff import audit
from handoff.errors import ConflictError
from leads.models import Lead, Stage
from leads.services import change_stage, change_stages

# A fit-only score (engine.fit_only) moves a new lead to nurture; nurture is
# one of the stages that can qualify. Leads sales sent back (recycled) or a
# person moved are left where they are.
STAGES_THAT_GO_TO_NURTURE = (Stage.LEAD,)


class FitBars(Protocol):
    """The version's bars a nurture move quotes: a ScoringModel or the
    CompiledModel single-lead scoring holds."""

    @property
    def version(self) -> int: ...
    @property
    def min_fit(self) -> int: ...
    @property
    def min_engagement(self) -> int: ...


def nurture_reason(model: FitBars) -> str:
    """Why a fit-only lead went to nurture: the same words for one lead and
    for a set (the version's bars, not each lead's numbers, which its score
    and explanation keep)."""
    return (
        f"Fit only: fit ≥ {model.min_fit} but engagement below {model.min_engagement} "
        f"(model v{model.version}); nurtured until it engages"
    )


def nurture_lead(*, lead: Lead, model: FitBars) -> bool:
    """Moves a new lead whose score is fit-only to nurture, through the
    lifecycle service, with the reason. True if it moved; a lead someone else
    moved since the caller read it is left alone."""
    try:
        change_stage(
            lead=lead,
            to_stage=Stage.NURTURE,
            reason=nurture_reason(model),
            expected_from=lead.stage,
        )
    except ConflictError:
        return False
    return True


def nurture_leads(*, lead_ids: Iterable[int], model: FitBars) -> int:
    """nurture_lead for a set (the set-wise rescore's fit-only new leads), in
    one statement. Returns how many moved."""
    return change_stages(
        lead_ids=list(lead_ids),
        from_stage=Stage.LEAD,
        to_stage=Stage.NURTURE,
        reason=nurture_reason(model),
    )


@transaction.atomic
def record_nurture_export(*, by: User, source: str, grade: str, leads: int) -> None:
    """Records in the audit trail that ``by`` exported the nurture list (people's
    names and emails leave the system): which part of it, and how many leads."""
    audit.record(
        actor=by,
        action="exported nurture list",
        obj=by,
        changes={"source": [None, source or "any"], "grade": [None, grade or "any"]},
        note=f"{leads:,} lead{'' if leads == 1 else 's'}",
    )
