"""What scoring tells other systems, through the kernel's outgoing webhooks:
a lead became an MQL, an account became an MQA, a scoring model version was
published. Each is called inside the transaction of the change; the payload
is built only when an endpoint wants the event."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handoff.models import EventType
from handoff.webhooks.outbox import record_event
from leads.events import account_state, lead_state, person
from leads.models import Account, Lead
from scoring.models import AccountScore, MQLSnapshot, ScoringModel


def _number(value: Decimal) -> float:
    return float(value)


def announce_mql(*, lead: Lead, snapshot: MQLSnapshot, version: int) -> None:
    """``lead.mql``: the lead, and the score that made it an MQL with its explanation."""

    def data() -> dict[str, Any]:
        return {
            "lead": lead_state(lead),
            "score": {
                "total": _number(snapshot.total),
                "fit": _number(snapshot.fit),
                "engagement": _number(snapshot.engagement),
                "grade": snapshot.grade,
                "explanation": snapshot.explanation,
                "model_version": version,
            },
            "mql_at": snapshot.created_at.isoformat(),
        }

    record_event(type=EventType.LEAD_MQL, data=data, occurred_at=snapshot.created_at)


def announce_mqa(*, account: Account, score: AccountScore, version: int) -> None:
    """``account.mqa``: the account and the account score that qualified it."""

    def data() -> dict[str, Any]:
        return {
            "account": account_state(account),
            "score": {
                "total": _number(score.total),
                "fit": _number(score.fit),
                "engagement": _number(score.engagement),
                "engaged_contacts": score.engaged_contacts,
                "coverage": score.coverage,
                "explanation": score.explanation,
                "model_version": version,
            },
        }

    record_event(type=EventType.ACCOUNT_MQA, data=data)


def announce_published(*, model: ScoringModel) -> None:
    """``model.published``: the version now live and its MQL definition."""

    def data() -> dict[str, Any]:
        return {
            "model": {
                "id": model.pk,
                "name": model.name,
                "version": model.version,
                "threshold": model.threshold,
                "min_fit": model.min_fit,
                "min_engagement": model.min_engagement,
                "notes": model.notes,
                "published_at": model.published_at.isoformat() if model.published_at else None,
                "published_by": person(model.published_by),
            }
        }

    record_event(type=EventType.MODEL_PUBLISHED, data=data, occurred_at=model.published_at)
