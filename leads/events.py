"""How a lead and an account look in outgoing events (handoff.webhooks):
their current state, JSON-ready. Higher apps build their payloads on these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from leads.models import Account, Lead


def person(user: User | None) -> dict[str, Any] | None:
    """A Handoff user as receivers see one: id, username, name, email."""
    if user is None:
        return None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "email": user.email,
    }


def account_state(account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "id": account.pk,
        "name": account.name,
        "domain": account.domain,
        "industry": account.industry,
        "employee_count": account.employee_count,
        "country": account.country,
        "is_target_account": account.is_target_account,
    }


def lead_state(lead: Lead) -> dict[str, Any]:
    """The lead as it is now (its account's id and name; ``account_state`` for more)."""
    return {
        "id": lead.pk,
        "email": lead.email,
        "external_id": lead.external_id,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "company_name": lead.company_name,
        "country": lead.country,
        "stage": lead.stage,
        "owner_id": lead.owner_id,
        "account": {"id": lead.account_id, "name": lead.account.name} if lead.account else None,
        "updated_at": lead.updated_at.isoformat() if lead.updated_at else None,
    }
