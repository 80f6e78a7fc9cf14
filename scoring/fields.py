"""The lead and account fields rules may test, with their type and SQL.

One table serves both scoring paths: the Python engine reads ``python`` from a
lead, the SQL compiler uses ``sql`` (aliases: ``l`` lead, ``a`` account,
``src`` lead source). Blank text counts as "not set" in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from leads.models import Account, Lead


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ANY = "any"  # custom attributes: the operator decides how the value is read


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    sql: str
    label: str


def _text(name: str, column: str, label: str) -> Field:
    return Field(name, FieldType.TEXT, f"NULLIF({column}, '')", label)


FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        _text("title", "l.title", "job title"),
        _text("seniority", "l.seniority", "seniority"),
        _text("department", "l.department", "department"),
        _text("country", "l.country", "country"),
        _text("company_name", "l.company_name", "company name"),
        _text("email", "l.email", "email"),
        Field(
            "email_domain",
            FieldType.TEXT,
            # What follows the last @; split_part costs a fraction of a regex.
            "CASE WHEN strpos(l.email, '@') > 0 THEN split_part(l.email, '@', -1) END",
            "email domain",
        ),
        _text("source_detail", "l.source_detail", "source detail"),
        Field("source", FieldType.TEXT, "src.slug", "lead source"),
        Field("do_not_contact", FieldType.BOOLEAN, "l.do_not_contact", "do not contact"),
        Field("created_at", FieldType.DATETIME, "l.created_at", "created"),
        _text("account.name", "a.name", "account name"),
        _text("account.domain", "a.domain", "account domain"),
        _text("account.industry", "a.industry", "industry"),
        _text("account.country", "a.country", "account country"),
        Field("account.employee_count", FieldType.NUMBER, "a.employee_count", "employee count"),
        Field("account.annual_revenue", FieldType.NUMBER, "a.annual_revenue", "annual revenue"),
        Field(
            "account.last_funding_date", FieldType.DATE, "a.last_funding_date", "last funding date"
        ),
        Field(
            "account.is_target_account",
            FieldType.BOOLEAN,
            "a.is_target_account",
            "named / target account",
        ),
    ]
}

ATTRIBUTE_PREFIX = "attributes."
ACCOUNT_PREFIX = "account."


def field_for(name: str) -> Field | None:
    """The field a rule names, or None when there is no such field."""
    if name.startswith(ATTRIBUTE_PREFIX):
        key = name.removeprefix(ATTRIBUTE_PREFIX)
        if not key:
            return None
        return Field(name, FieldType.ANY, "", f"imported column {key!r}")
    return FIELDS.get(name)


def lead_values(lead: Lead) -> dict[str, Any]:
    """Every registered field's value for one lead (its account loaded)."""
    account = lead.account
    email = lead.email or None
    values: dict[str, Any] = {
        "title": lead.title or None,
        "seniority": lead.seniority or None,
        "department": lead.department or None,
        "country": lead.country or None,
        "company_name": lead.company_name or None,
        "email": email,
        "email_domain": email.rpartition("@")[2] if email and "@" in email else None,
        "source_detail": lead.source_detail or None,
        "source": lead.source.slug,
        "do_not_contact": lead.do_not_contact,
        "created_at": lead.created_at,
    }
    values.update(account_values(account))
    return values


def account_values(account: Account | None) -> dict[str, Any]:
    """Every ``account.*`` field's value for one account (all None without
    one). Lead scoring and account (ABM) scoring both read accounts through
    this map, so a firmographic rule holds for an account exactly when it
    holds for its leads."""
    if account is None:
        return {name: None for name in FIELDS if name.startswith(ACCOUNT_PREFIX)}
    return {
        "account.name": account.name or None,
        "account.domain": account.domain or None,
        "account.industry": account.industry or None,
        "account.country": account.country or None,
        "account.employee_count": account.employee_count,
        "account.annual_revenue": account.annual_revenue,
        "account.last_funding_date": account.last_funding_date,
        "account.is_target_account": account.is_target_account,
    }
