"""Plain factories: each makes exactly what it says, with no hidden side effects."""

import itertools
from datetime import datetime

from django.utils import timezone

from leads.models import Activity, Lead, LeadSource

_seq = itertools.count(1)


def source(slug: str = "inbound_form") -> LeadSource:
    return LeadSource.objects.get(slug=slug)


def make_lead(email: str | None = None, *, source_slug: str = "inbound_form", **fields) -> Lead:
    n = next(_seq)
    if email is None and "external_id" not in fields:
        email = f"person{n}@example-corp{n}.com"
    return Lead.objects.create(email=email, source=source(source_slug), **fields)


def make_activity(
    lead: Lead, kind: str = "page_view", *, occurred_at: datetime | None = None, **fields
) -> Activity:
    n = next(_seq)
    return Activity.objects.create(
        lead=lead,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        source_system=fields.pop("source_system", "test"),
        external_id=fields.pop("external_id", f"evt-{n}"),
        **fields,
    )
