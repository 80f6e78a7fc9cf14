"""An SDR away (on holiday, off sick) and back: routing skips them meanwhile."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from handoff import audit
from handoff.errors import DomainError
from handoff.roles import SALES_MANAGER, has_role
from routing.models import Membership
from routing.services.assign import assign_waiting_on_commit


@transaction.atomic
def set_availability(*, sdr: User, away_until: datetime | None, by: User) -> int:
    """Marks ``sdr`` away until ``away_until`` in every queue they work, or
    back now (``away_until`` None). Returns how many seats changed.

    Guarantees: only the SDR themselves or a sales manager may do it, and
    only until a moment still ahead (DomainError naming the field otherwise);
    routing skips an away SDR from the commit on (it reads ``away_until``
    under the seats' locks); coming back offers each queue's waiting leads
    after commit, without waiting for the SLA watcher; each seat's change
    is in the audit trail. Marking the state the SDR is already in changes
    nothing.
    """
    if by.pk != sdr.pk and not has_role(by, SALES_MANAGER):
        raise DomainError("Only the SDR or a sales manager can change when the SDR is away.")
    now = timezone.now()
    if away_until is not None and away_until <= now:
        raise DomainError("Give a moment still ahead for the end of the absence.", field="until")
    changed = 0
    # Locked in id order, the order routing locks seats in (see assign.pick_sdr).
    for seat in Membership.objects.select_for_update().filter(sdr=sdr).order_by("pk"):
        was_away = seat.away_until is not None and seat.away_until > now
        if away_until is None and not was_away:
            continue
        if away_until is not None and seat.away_until == away_until:
            continue
        Membership.objects.filter(pk=seat.pk).update(away_until=away_until)
        audit.record(
            actor=by,
            action="away" if away_until else "back",
            obj=seat,
            changes={"away_until": [_iso(seat.away_until), _iso(away_until)]},
        )
        if away_until is None:
            assign_waiting_on_commit(queue_id=seat.queue_id)
        changed += 1
    return changed


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def away_until(sdr: User, *, now: datetime | None = None) -> datetime | None:
    """Until when the SDR is away (the latest of their seats), or None."""
    now = now or timezone.now()
    return (
        Membership.objects.filter(sdr=sdr, away_until__gt=now)
        .order_by("-away_until")
        .values_list("away_until", flat=True)
        .first()
    )
