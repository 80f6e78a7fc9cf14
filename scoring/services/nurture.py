"""Marketing's nurture list: what is recorded when someone takes it away."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from handoff import audit


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
