"""Services of the standard intake: a CDP's calls as the Segment spec defines
them (identify, track, page; a batch is a list of them), and a web form's
submission in one call.

The calls arrive validated (leads.intake_validation). Each service is one
transaction and goes through the leads services (upsert_lead,
record_activities), so scoring hears of every change as it does from the
rest of the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from handoff.errors import BatchError
from leads.models import (
    ActivityKind,
    EventMapping,
    HeldEvent,
    Identity,
    Lead,
    LeadSource,
)
from leads.services import ActivityEvent, record_activities, upsert_lead

# The source_system of every activity a CDP sends: with the call's messageId
# it makes the activity's delivered-once key.
CDP_SOURCE_SYSTEM = "segment"
CDP_LEAD_SOURCE = "cdp"
FORM_SOURCE_SYSTEM = "form"


@dataclass(frozen=True)
class Identify:
    traits_profile: dict[str, Any]  # lead fields, from the traits the spec reserves
    traits_attributes: dict[str, Any]  # every other trait
    email: str | None
    user_id: str | None
    anonymous_id: str | None


@dataclass(frozen=True)
class Event:
    """A track or page call: an activity of someone known by id."""

    kind: str | None  # None: a track call, whose kind the event mappings decide
    event_name: str
    url: str
    properties: dict[str, Any]
    occurred_at: datetime
    message_id: str
    user_id: str | None
    anonymous_id: str | None


Call = Identify | Event


@dataclass
class IntakeResult:
    received: int = 0
    stored: int = 0  # activities recorded now (held ones released included)
    duplicates: int = 0  # events already received (same messageId)
    held: int = 0  # events of an id no lead has yet, kept until an identify names it
    leads_created: int = 0
    leads_updated: int = 0
    lead_ids: list[int | None] = field(default_factory=list)  # per identify call, in order


def cdp_source() -> LeadSource:
    source, _ = LeadSource.objects.get_or_create(
        slug=CDP_LEAD_SOURCE, defaults={"name": "CDP (Segment-spec intake)"}
    )
    return source


@transaction.atomic
def ingest_calls(*, calls: Sequence[Call]) -> IntakeResult:
    """Records a batch of Segment-spec calls, all or nothing.

    The identify calls come first, in their order: each creates or updates
    its lead (by email, else by a user id already linked or equal to a lead's
    external id) and links the call's user and anonymous ids to it, which
    releases the events held under them. Then the track and page calls are
    recorded on the leads their ids name (the user id first), or held when
    no lead has their ids yet. A replayed call (same messageId) counts once.
    """
    result = IntakeResult(received=len(calls))
    errors: dict[int, dict[str, list[str]]] = {}
    for index, call in enumerate(calls):
        if isinstance(call, Identify):
            try:
                _identify(call, result)
            except BatchError as error:  # one call's refusal, named by its index
                errors[index] = error.errors[0]
    if errors:
        raise BatchError(errors)
    events = [c for c in calls if isinstance(c, Event)]
    if events:
        _record_events(events, result)
    return result


def _identify(call: Identify, result: IntakeResult) -> None:
    known = _leads_by_ids(
        user_ids={call.user_id} if call.user_id else set(),
        anonymous_ids={call.anonymous_id} if call.anonymous_id else set(),
    )
    lead = _lead_of(known, user_id=call.user_id, anonymous_id=call.anonymous_id)
    if lead is not None:
        email, external_id = lead.email or call.email, lead.external_id
    else:
        email, external_id = call.email, call.user_id
    if not email and not external_id:
        raise BatchError(
            {0: {"traits.email": ["Give traits.email or a userId: a lead needs one of them."]}}
        )
    lead, created = upsert_lead(
        source=cdp_source(),
        email=email,
        external_id=external_id,
        attributes=call.traits_attributes or None,
        **call.traits_profile,
    )
    result.leads_created += created
    result.leads_updated += not created
    result.lead_ids.append(lead.pk)
    ids = [(Identity.Kind.USER_ID, call.user_id), (Identity.Kind.ANONYMOUS_ID, call.anonymous_id)]
    # An id already linked keeps its lead: a user id is one person's for good.
    Identity.objects.bulk_create(
        [Identity(kind=kind, value=value, lead=lead) for kind, value in ids if value],
        ignore_conflicts=True,
    )
    _release_held(lead=lead, user_id=call.user_id, anonymous_id=call.anonymous_id, result=result)


def _release_held(
    *, lead: Lead, user_id: str | None, anonymous_id: str | None, result: IntakeResult
) -> None:
    """Records on ``lead`` the events held under the ids an identify linked to it."""
    where = Q()
    if user_id:
        where |= Q(user_id=user_id)
    if anonymous_id:
        where |= Q(anonymous_id=anonymous_id)
    held = list(HeldEvent.objects.select_for_update().filter(where))
    if not held:
        return
    stored = record_activities(
        events=[
            ActivityEvent(
                lead_id=lead.pk,
                kind=h.kind,
                event_name=h.event_name,
                url=h.url,
                properties=h.properties,
                occurred_at=h.occurred_at,
                source_system=CDP_SOURCE_SYSTEM,
                external_id=h.message_id,
            )
            for h in held
        ]
    ).stored
    HeldEvent.objects.filter(pk__in=[h.pk for h in held]).delete()
    result.stored += stored


def _leads_by_ids(*, user_ids: set[str], anonymous_ids: set[str]) -> dict[tuple[str, str], Lead]:
    """The leads linked to these ids, by (kind, value); user ids no identity
    links yet are matched to a lead's external id (and linked from now on)."""
    if not user_ids and not anonymous_ids:
        return {}
    found = {
        (identity.kind, identity.value): identity.lead
        for identity in Identity.objects.select_related("lead").filter(
            Q(kind=Identity.Kind.USER_ID, value__in=user_ids)
            | Q(kind=Identity.Kind.ANONYMOUS_ID, value__in=anonymous_ids)
        )
    }
    unlinked = {u for u in user_ids if (Identity.Kind.USER_ID, u) not in found}
    if unlinked:
        by_external = {
            lead.external_id: lead for lead in Lead.objects.filter(external_id__in=unlinked)
        }
        Identity.objects.bulk_create(
            [
                Identity(kind=Identity.Kind.USER_ID, value=value, lead=lead)
                for value, lead in by_external.items()
                if value
            ],
            ignore_conflicts=True,
        )
        found.update({(Identity.Kind.USER_ID, v): lead for v, lead in by_external.items() if v})
    return found


def _lead_of(
    known: dict[tuple[str, str], Lead], *, user_id: str | None, anonymous_id: str | None
) -> Lead | None:
    """The lead a call's ids name: its user id's first, else its anonymous id's."""
    if user_id and (Identity.Kind.USER_ID, user_id) in known:
        return known[(Identity.Kind.USER_ID, user_id)]
    if anonymous_id:
        return known.get((Identity.Kind.ANONYMOUS_ID, anonymous_id))
    return None


def kinds_of_events(names: set[str]) -> dict[str, str]:
    """Each named event's kind as the event mappings say ("other" when none does)."""
    mapped = dict(
        EventMapping.objects.filter(event_name__in=names).values_list("event_name", "kind")
    )
    return {name: mapped.get(name, ActivityKind.OTHER) for name in names}


def _record_events(events: Sequence[Event], result: IntakeResult) -> None:
    known = _leads_by_ids(
        user_ids={e.user_id for e in events if e.user_id},
        anonymous_ids={e.anonymous_id for e in events if e.anonymous_id},
    )
    kinds = kinds_of_events({e.event_name for e in events if e.kind is None})
    to_record: list[ActivityEvent] = []
    to_hold: list[HeldEvent] = []
    for e in events:
        kind = e.kind or kinds[e.event_name]
        lead = _lead_of(known, user_id=e.user_id, anonymous_id=e.anonymous_id)
        if lead is None:
            to_hold.append(
                HeldEvent(
                    user_id=e.user_id or "",
                    anonymous_id=e.anonymous_id or "",
                    kind=kind,
                    event_name=e.event_name,
                    url=e.url,
                    properties=e.properties,
                    occurred_at=e.occurred_at,
                    message_id=e.message_id,
                )
            )
        else:
            to_record.append(
                ActivityEvent(
                    lead_id=lead.pk,
                    kind=kind,
                    event_name=e.event_name,
                    url=e.url,
                    properties=e.properties,
                    occurred_at=e.occurred_at,
                    source_system=CDP_SOURCE_SYSTEM,
                    external_id=e.message_id,
                )
            )
    recorded = record_activities(events=to_record)
    result.stored += recorded.stored
    result.duplicates += recorded.duplicates
    if to_hold:
        already = set(
            HeldEvent.objects.filter(message_id__in=[h.message_id for h in to_hold]).values_list(
                "message_id", flat=True
            )
        )
        fresh = {h.message_id: h for h in to_hold if h.message_id not in already}
        HeldEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        result.held += len(fresh)
        result.duplicates += len(to_hold) - len(fresh)


# --- A web form's submission ------------------------------------------------------


@dataclass(frozen=True)
class FormSubmission:
    lead: Lead
    lead_created: bool
    duplicate: bool  # this submission id was received before: nothing new recorded


@transaction.atomic
def submit_form(
    *,
    submission_id: str,
    form: str,
    source: LeadSource,
    email: str | None = None,
    external_id: str | None = None,
    url: str = "",
    submitted_at: datetime,
    hand_raise: str | None = None,
    answers: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    overwrite: bool = True,
    **profile: Any,
) -> FormSubmission:
    """Creates or updates the person's lead and records the submission (and
    its hand-raise, a demo request say, as an activity of that kind) in one
    transaction: both or neither. Idempotent by ``submission_id``: the same
    submission sent again records nothing more."""
    lead, created = upsert_lead(
        source=source,
        email=email,
        external_id=external_id,
        attributes=attributes,
        overwrite=overwrite,
        **profile,
    )
    events = [
        ActivityEvent(
            lead_id=lead.pk,
            kind=ActivityKind.FORM_SUBMIT,
            event_name=form,
            url=url,
            properties={"form": form, "answers": answers or {}},
            occurred_at=submitted_at,
            source_system=FORM_SOURCE_SYSTEM,
            external_id=submission_id,
        )
    ]
    if hand_raise:
        events.append(
            ActivityEvent(
                lead_id=lead.pk,
                kind=hand_raise,
                event_name=form,
                url=url,
                properties={"form": form},
                occurred_at=submitted_at,
                source_system=FORM_SOURCE_SYSTEM,
                external_id=f"{submission_id}#{hand_raise}",
            )
        )
    recorded = record_activities(events=events)
    return FormSubmission(lead=lead, lead_created=created, duplicate=recorded.stored == 0)
