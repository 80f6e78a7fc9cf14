"""The hand-raise fast lane: a hand-raiser (a demo request, contact sales)
from an eligible lead becomes an MQL whatever its score, unless a
disqualifier rule holds it back. It crosses through scoring.services.crossing,
like a qualifying score: the lifecycle service, a snapshot,
``lead_became_mql`` (routing) and the same ``lead.mql`` event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from leads.models import Activity, Lead, StageChange
from scoring.models import Crossing, HandRaiseKind, HeldHandRaise, LeadScore
from scoring.services.crossing import Version, eligible_touch, qualify_lead

# A hand-raise older than this no longer routes anyone: a demo request from
# last quarter is engagement, not a person waiting for a call.
HAND_RAISE_WINDOW = timedelta(days=30)


def hand_raise_kinds() -> set[str]:
    """The activity kinds marketing ops count as hand-raises."""
    return set(HandRaiseKind.objects.values_list("kind", flat=True))


def fresh_hand_raises(*, lead_ids: Iterable[int], as_of: datetime) -> dict[int, Activity]:
    """Each lead's newest hand-raise that is still waiting for sales: inside
    the window and received after the lead's last stage change (a hand-raise
    sales already dealt with, a demo request before a rejection to nurture
    say, does not route the lead again). Three queries at most."""
    ids = sorted(set(lead_ids))
    kinds = hand_raise_kinds() if ids else set()
    if not kinds:
        return {}
    newest: dict[int, Activity] = {}
    for activity in (
        Activity.objects.filter(
            lead_id__in=ids, kind__in=kinds, occurred_at__gte=as_of - HAND_RAISE_WINDOW
        )
        .only("lead_id", "kind", "event_name", "occurred_at", "received_at")
        .order_by("lead_id", "-received_at", "-id")
    ):
        newest.setdefault(activity.lead_id, activity)
    if not newest:
        return {}
    last_moves = dict(
        StageChange.objects.filter(lead_id__in=newest)
        .order_by()
        .values("lead_id")
        .annotate(at=Max("changed_at"))
        .values_list("lead_id", "at")
    )
    return {
        lead_id: activity
        for lead_id, activity in newest.items()
        if last_moves.get(lead_id) is None or activity.received_at > last_moves[lead_id]
    }


def hand_raise_label(activity: Activity) -> str:
    """ "Demo request on 7 Dec 2026": how the lead page and history name it."""
    when = timezone.localtime(activity.occurred_at)
    return f"{activity.kind_label.lower()} on {when:%-d %b %Y, %H:%M}"


def take_hand_raise(
    *, lead: Lead, score: LeadScore, model_id: int, model_version: int, activity: Activity
) -> bool:
    """The fast lane for one freshly scored hand-raiser whose stage can
    qualify: held back (listed for marketing ops) when a disqualifier rule
    fires, made an MQL with "hand-raiser" as its reason when one of its
    sources is eligible, left to its score otherwise. True if it crossed.
    Call inside the transaction that stored ``score``."""
    if score.disqualified:
        rules = [e["rule"] for e in score.explanation if e.get("disqualifies")]
        # ignore_conflicts: the same hand-raise scored again is listed once.
        HeldHandRaise.objects.bulk_create(
            [
                HeldHandRaise(
                    lead=lead,
                    activity=activity,
                    kind=activity.kind,
                    raised_at=activity.occurred_at,
                    rules=rules,
                    model_id=model_id,
                )
            ],
            ignore_conflicts=True,
        )
        return False
    if eligible_touch(lead=lead, model_id=model_id) is None:
        return False
    return qualify_lead(
        lead=lead,
        score=score,
        model=Version(model_id, model_version, 0),
        crossing=Crossing.HAND_RAISER,
        note=hand_raise_label(activity),
    )
