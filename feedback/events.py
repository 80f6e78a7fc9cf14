"""What feedback tells other systems, through the kernel's outgoing webhooks:
a lead qualified as SQL (with BANT), an opportunity won or lost. Each is
called inside the transaction of the change; the payload is built only when
an endpoint wants the event."""

from __future__ import annotations

from typing import Any

from feedback.models import Opportunity, SQLQualification
from handoff.models import EventType
from handoff.webhooks.outbox import record_event
from leads.events import lead_state, person
from leads.models import Lead


def announce_sql(qualification: SQLQualification) -> None:
    """``lead.sql``: the lead and what the SDR learned (budget, authority, need, timeline)."""

    def data() -> dict[str, Any]:
        return {
            "lead": lead_state(qualification.lead),
            "qualification": {
                "id": qualification.pk,
                "budget": qualification.budget,
                "authority": qualification.authority,
                "need": qualification.need,
                "timeline": qualification.timeline,
                "qualified_by": person(qualification.qualified_by),
                "qualified_at": qualification.qualified_at.isoformat(),
            },
        }

    record_event(type=EventType.LEAD_SQL, data=data, occurred_at=qualification.qualified_at)


def announce_outcome(opportunity: Opportunity) -> None:
    """``opportunity.won`` or ``opportunity.lost``, with its lead as it is now."""
    if opportunity.status not in (Opportunity.Status.WON, Opportunity.Status.LOST):
        return
    kind = (
        EventType.OPPORTUNITY_WON
        if opportunity.status == Opportunity.Status.WON
        else EventType.OPPORTUNITY_LOST
    )

    def data() -> dict[str, Any]:
        lead = Lead.objects.select_related("account").get(pk=opportunity.lead_id)
        return {
            "lead": lead_state(lead),
            "opportunity": {
                "id": opportunity.pk,
                "crm_id": opportunity.crm_id,
                "name": opportunity.name,
                "amount": str(opportunity.amount),
                "currency": opportunity.currency,
                "status": opportunity.status,
                "created_on": opportunity.created_on.isoformat(),
                "closed_on": opportunity.closed_on.isoformat() if opportunity.closed_on else None,
            },
        }

    record_event(type=kind, data=data)
