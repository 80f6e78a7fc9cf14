"""Sending a lead to sales by hand: marketing ops or a sales manager make a
lead an MQL whatever its score, with a reason, through the same crossing as
a qualifying score (scoring.services.crossing), audited."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from handoff import audit
from handoff.errors import ConflictError, DomainError
from leads.models import Lead, Stage
from scoring.models import Crossing, LeadScore
from scoring.selectors import live_compiled_model
from scoring.services.crossing import STAGES_THAT_CAN_QUALIFY, Version, qualify_lead
from scoring.services.scores import score_lead

# Stages a person may send a lead to sales from: those a score could qualify,
# and none already with sales or disqualified.
STAGES_THAT_CAN_BE_SENT = STAGES_THAT_CAN_QUALIFY


@transaction.atomic
def send_to_sales(*, lead: Lead, by: User, reason: str) -> None:
    """A person (marketing ops, a sales manager) sends a lead to sales by
    hand, with a reason: it becomes an MQL through the lifecycle service,
    with a snapshot of its current score, is audited, and is routed like any
    MQL. Refused for a lead already with sales or disqualified, and without
    a live version (the snapshot records the version that scored it)."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why this lead goes to sales.", field="reason")
    lead = Lead.objects.select_for_update(of=("self",)).select_related("score").get(pk=lead.pk)
    if lead.stage == Stage.DISQUALIFIED:
        raise DomainError("This lead is disqualified: it cannot be sent to sales.")
    if lead.stage not in STAGES_THAT_CAN_BE_SENT:
        raise DomainError(
            f"This lead is already with sales ({lead.get_stage_display()}): "
            "there is nothing to send."
        )
    compiled = live_compiled_model()
    if compiled is None:
        raise DomainError("No scoring model is live: publish one first.")
    before = lead.stage
    score = _stored_score(lead)
    if score is None:
        # Not scored yet (a lead created a moment ago): scored now, so sales
        # sees a score and its explanation like for any MQL.
        score = score_lead(lead_id=lead.pk)
        lead.refresh_from_db(fields=["stage"])
    if score is None:
        raise DomainError("This lead could not be scored: no scoring model is live.")
    if lead.stage == Stage.MQL:
        # Its own score made it an MQL just now: it goes to sales as one.
        crossed = True
    else:
        crossed = qualify_lead(
            lead=lead,
            score=score,
            model=Version(compiled.id, compiled.version, compiled.threshold),
            crossing=Crossing.BY_HAND,
            note=reason,
            by=by,
        )
    if not crossed:
        raise ConflictError("Someone else acted on this lead first.")
    audit.record(
        actor=by,
        action="sent_to_sales",
        obj=lead,
        changes={"stage": [before, Stage.MQL], "reason": [None, reason]},
    )


def _stored_score(lead: Lead) -> LeadScore | None:
    try:
        return lead.score
    except ObjectDoesNotExist:
        return None
