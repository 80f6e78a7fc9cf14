"""Every write with business meaning on leads, accounts and activities."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.forms.models import model_to_dict
from django.utils import timezone

from handoff.errors import BatchError, ConflictError, DomainError
from leads.account_matching import match_account
from leads.domains import email_domain, is_personal_domain, normalise_domain, normalise_email
from leads.models import (
    ALLOWED_TRANSITIONS,
    Account,
    Activity,
    DuplicateCandidate,
    Identity,
    Lead,
    LeadMerge,
    LeadSource,
    LeadTouch,
    Stage,
    StageChange,
)
from leads.signals import activities_recorded, lead_merging, leads_changed

# Lead fields an upsert may set; the identifiers, stage and history are not among them.
LEAD_PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "seniority",
    "department",
    "phone",
    "country",
    "company_name",
    "source_detail",
    "do_not_contact",
    "known_outcome",
)


# --- Accounts ---------------------------------------------------------------


def account_for_email(*, email: str, company_name: str = "") -> Account | None:
    """The account of the email's company domain (see leads.account_matching):
    its own or another domain, or a parent domain; created on first sight.

    Free-mail and disposable domains never create or join an account.
    """
    match = match_account(email_domain(email), company_name=company_name)
    return match.account if match is not None else None


def _join_account(lead: Lead) -> None:
    """The lead joins its email domain's account, recording how it matched."""
    match = match_account(email_domain(lead.email or ""), company_name=lead.company_name)
    if match is not None:
        lead.account = match.account
        lead.account_match, lead.account_matched_domain = match.how, match.domain


@transaction.atomic
def upsert_account(*, domain: str, overwrite: bool = True, **fields: Any) -> tuple[Account, bool]:
    """Create or update the account of a company domain (normalised). When an
    existing account's data changes, its leads are announced as changed.

    With ``overwrite=False`` (a caller that may not read the account it
    matched) only blank fields of an existing account are filled in: it is
    never renamed or re-owned by someone who cannot see it.
    """
    domain = normalise_domain(domain)
    if is_personal_domain(domain):
        raise DomainError(f"{domain} is a free-mail or disposable domain.", field="domain")
    before = Account.objects.filter(domain=domain).values(*fields).first()
    if before is not None and not overwrite:
        fields = {name: value for name, value in fields.items() if before[name] in ("", None)}
    account, created = Account.objects.update_or_create(domain=domain, defaults=fields)
    if not created and before != {name: getattr(account, name) for name in fields}:
        announce_account_change(account=account)
    return account, created


def announce_account_change(*, account: Account) -> None:
    """Announces the account's leads on ``leads_changed``: scoring rules test
    a lead's account (its size, industry, target list…), so their scores may
    move with it. Call inside the transaction that changed the account."""
    lead_ids = set(account.leads.values_list("pk", flat=True))
    if lead_ids:
        leads_changed.send(sender=Account, lead_ids=lead_ids)


# --- Leads ------------------------------------------------------------------


@transaction.atomic
def upsert_lead(
    *,
    source: LeadSource,
    email: str | None = None,
    external_id: str | None = None,
    attributes: dict[str, Any] | None = None,
    overwrite: bool = True,
    **profile: Any,
) -> tuple[Lead, bool]:
    """Create the lead, or update the one with the same email (or external id).

    Returns ``(lead, created)``. Sending the same person twice never makes two
    leads: the email is matched case-insensitively after normalisation. Blank
    values do not erase what is known; attributes are merged key by key. The
    source of an existing lead is kept: it says where the person first came from.
    With ``overwrite=False`` (a caller that may not read the lead it matched)
    what is known is kept too: only blank fields and new attribute keys are added.
    Callers sending the same new person at once all get the one lead.
    """
    unknown = set(profile) - set(LEAD_PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown lead field(s): {', '.join(sorted(unknown))}.")
    email = normalise_email(email) if email else None
    external_id = external_id.strip() if external_id else None
    if not email and not external_id:
        raise DomainError("A lead needs an email or an external id.", field="email")

    lead = _find_lead_for_update(email=email, external_id=external_id)
    if lead is None:
        lead = Lead(email=email, external_id=external_id, source=source)
        _fill_in(lead, profile=profile, attributes=attributes, keep_known=False)
        try:
            # A savepoint, so that losing the race below leaves the transaction usable.
            with transaction.atomic():
                lead.save()
        except IntegrityError:
            # The same new person sent twice at once: both requests found no
            # lead and inserted one; the unique index made this one wait for
            # the other's commit, then refused it. Update the lead that won.
            lead = _find_lead_for_update(email=email, external_id=external_id)
            if lead is None:
                raise
        else:
            record_touches(touches=[(lead.pk, source.pk)])
            leads_changed.send(sender=Lead, lead_ids={lead.pk})
            return lead, True
    if email and not lead.email:
        lead.email = email
    elif external_id and not lead.external_id:
        lead.external_id = external_id
    _fill_in(lead, profile=profile, attributes=attributes, keep_known=not overwrite)
    lead.save()
    # The lead keeps its first source; this arrival is remembered as a touch
    # (scoring makes a lead eligible when any of its touches is).
    record_touches(touches=[(lead.pk, source.pk)])
    leads_changed.send(sender=Lead, lead_ids={lead.pk})
    return lead, False


def record_touches(*, touches: Sequence[tuple[int, int]], at: datetime | None = None) -> None:
    """Remembers that each ``(lead_id, source_id)`` arrived now: one row per
    lead and source, first seen at its first arrival (a later one changes
    nothing, so a replay is harmless). Call inside the transaction that wrote
    the leads; the caller announces them on ``leads_changed``, which has them
    scored again (a new touch may make a lead eligible)."""
    if not touches:
        return
    at = at or timezone.now()
    # ignore_conflicts: the unique (lead, source) index keeps the first sighting,
    # even when two requests for the same person arrive at once.
    LeadTouch.objects.bulk_create(
        [
            LeadTouch(lead_id=lead_id, source_id=source_id, first_seen_at=at)
            for lead_id, source_id in sorted(set(touches))
        ],
        ignore_conflicts=True,
    )


def _fill_in(
    lead: Lead, *, profile: dict[str, Any], attributes: dict[str, Any] | None, keep_known: bool
) -> None:
    """Sets the profile values given (blanks never erase), merges the
    attributes and finds the account; with ``keep_known`` only blanks are filled."""
    for name, value in profile.items():
        if value is None or value == "":
            continue
        if keep_known and getattr(lead, name) not in ("", None):
            continue
        setattr(lead, name, value)
    if attributes:
        # Key by key; the keys already known win when they must be kept.
        first, last = (attributes, lead.attributes) if keep_known else (lead.attributes, attributes)
        lead.attributes = {**first, **last}
    if lead.email and lead.account_id is None:
        _join_account(lead)


@transaction.atomic
def update_lead(*, lead: Lead, attributes: dict[str, Any] | None = None, **profile: Any) -> Lead:
    """Change a lead's profile fields; attributes are merged key by key."""
    unknown = set(profile) - set(LEAD_PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown lead field(s): {', '.join(sorted(unknown))}.")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    for name, value in profile.items():
        setattr(lead, name, value)
    if attributes is not None:
        lead.attributes = {**lead.attributes, **attributes}
    lead.save()
    leads_changed.send(sender=Lead, lead_ids={lead.pk})
    return lead


def _find_lead_for_update(*, email: str | None, external_id: str | None) -> Lead | None:
    queryset = Lead.objects.select_for_update()
    if email:
        # Through the lead_email_unique_ci index on LOWER(email) (iexact cannot use it).
        lead = queryset.annotate(email_key=Lower("email")).filter(email_key=email).first()
        if lead is not None:
            return lead
    if external_id:
        return queryset.filter(external_id=external_id).first()
    return None


@transaction.atomic
def change_stage(
    *,
    lead: Lead,
    to_stage: str,
    by: User | None = None,
    reason: str = "",
    expected_from: str | None = None,
    by_merge: bool = False,
) -> StageChange:
    """Move a lead to another lifecycle stage and record who, when, why.

    The only writer of ``Lead.stage``. The lead row is locked, so two people
    acting on the same lead at once are serialised: the second one sees the
    new stage and is refused (ConflictError when it expected the old one).
    """
    current = Lead.objects.select_for_update().only("stage").get(pk=lead.pk)
    if expected_from is not None and current.stage != expected_from:
        raise ConflictError(
            f"This lead is already {current.get_stage_display()}; someone else acted on it first."
        )
    if to_stage not in ALLOWED_TRANSITIONS[current.stage]:
        raise DomainError(
            f"A lead cannot go from {current.get_stage_display()} to {Stage(to_stage).label}."
        )
    Lead.objects.filter(pk=lead.pk).update(stage=to_stage, updated_at=timezone.now())
    lead.stage = to_stage
    person = by if by is not None and by.is_authenticated else None
    return StageChange.objects.create(
        lead=lead,
        from_stage=current.stage,
        to_stage=to_stage,
        changed_by=person,
        # Kept as it was, like an audit entry's actor.
        changed_by_name=person.get_username() if person is not None else "",
        reason=reason,
        by_merge=by_merge,
    )


# Moves a set of leads still in one stage, and records each move, in one
# statement. The leads are locked in id order (two such moves never deadlock)
# and a lead whose stage someone changed meanwhile is no longer in the set: a
# lock waited for re-reads the row, and the WHERE is checked again.
_MOVE_STAGES = """
WITH locked AS (
    SELECT id FROM leads_lead WHERE id = ANY(%s::bigint[]) AND stage = %s ORDER BY id FOR UPDATE
), moved AS (
    UPDATE leads_lead l SET stage = %s, updated_at = %s FROM locked WHERE l.id = locked.id
    RETURNING l.id
), recorded AS (
    INSERT INTO leads_stagechange (lead_id, from_stage, to_stage, changed_by_id,
                                   changed_by_name, changed_at, reason)
    SELECT id, %s, %s, NULL, '', %s, %s FROM moved
    RETURNING 1
)
SELECT count(*) FROM recorded
"""


@transaction.atomic
def change_stages(*, lead_ids: Sequence[int], from_stage: str, to_stage: str, reason: str) -> int:
    """change_stage for many leads at once, by the system (scoring's set-wise
    rescore): moves those of ``lead_ids`` still in ``from_stage`` and writes
    each one's stage-change row, all in one statement on PostgreSQL, with no
    per-lead work in Python. Returns how many moved; a lead no longer in
    ``from_stage`` is left as it is, as change_stage's ``expected_from`` would."""
    if to_stage not in ALLOWED_TRANSITIONS[from_stage]:
        raise DomainError(
            f"A lead cannot go from {Stage(from_stage).label} to {Stage(to_stage).label}."
        )
    ids = sorted(set(lead_ids))
    if not ids:
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _MOVE_STAGES, [ids, from_stage, to_stage, now, from_stage, to_stage, now, reason]
            )
            return cursor.fetchone()[0]
    # The embedded SQLite default: one writer at a time, so no lock to take.
    moving = list(
        Lead.objects.filter(pk__in=ids, stage=from_stage)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Lead.objects.filter(pk__in=moving).update(stage=to_stage, updated_at=now)
    StageChange.objects.bulk_create(
        StageChange(lead_id=pk, from_stage=from_stage, to_stage=to_stage, reason=reason)
        for pk in moving
    )
    return len(moving)


def set_owner(*, lead: Lead, owner: User | None) -> None:
    """Makes ``owner`` the lead's owner: the person working it, whose leads,
    activities and scores the API shows them. Routing calls it when it hands
    the lead to an SDR. One UPDATE of that column only, so it never writes
    back a stale copy of the rest of the row; nothing is announced, since no
    score reads the owner."""
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    lead.owner = owner


# How far along the funnel each stage is. A merge leaves the survivor at the
# further of the two leads' stages; side roads (nurture, recycled,
# disqualified) are no further than a fresh lead that was worked once.
FUNNEL_RANK: dict[str, int] = {
    Stage.LEAD: 0,
    Stage.NURTURE: 1,
    Stage.RECYCLED: 1,
    Stage.DISQUALIFIED: 1,
    Stage.MQL: 2,
    Stage.SAL: 3,
    Stage.SQL: 4,
    Stage.OPPORTUNITY: 5,
    Stage.LOST: 6,
    Stage.WON: 7,
}


def lifecycle_path(from_stage: str, to_stage: str) -> list[str]:
    """The shortest list of allowed moves from one stage to another (the
    stages after ``from_stage``), or [] when there is none or they are equal."""
    paths: dict[str, list[str]] = {from_stage: []}
    frontier = [from_stage]
    while frontier and to_stage not in paths:
        following = []
        for stage in frontier:
            for step in sorted(ALLOWED_TRANSITIONS[stage]):
                if step not in paths:
                    paths[step] = [*paths[stage], step]
                    following.append(step)
        frontier = following
    return paths.get(to_stage, [])


@transaction.atomic
def _merge_touches(*, survivor: Lead, duplicate: Lead) -> None:
    """The duplicate's sources become the survivor's touches (eligibility per
    touch): one per source, seen first when either lead first arrived from it."""
    theirs = {t.source_id: t for t in LeadTouch.objects.filter(lead=duplicate)}
    for touch in LeadTouch.objects.filter(lead=survivor, source_id__in=list(theirs)):
        earlier = theirs.pop(touch.source_id)
        if earlier.first_seen_at < touch.first_seen_at:
            touch.first_seen_at = earlier.first_seen_at
            touch.save(update_fields=["first_seen_at"])
    LeadTouch.objects.filter(pk__in=[t.pk for t in theirs.values()]).update(lead=survivor)


def merge_leads(*, survivor: Lead, duplicate: Lead, by: User | None) -> LeadMerge:
    """Fold a duplicate into the survivor and delete the duplicate.

    Every row that names the duplicate moves to the survivor: here its
    activities, stage history, identities and earlier merges; in the apps
    above, through ``lead_merging`` (sent before the duplicate is deleted),
    its assignments and touches, MQL snapshots, SQL records, opportunities
    and erasures. The survivor ends at the further of the two stages, reached
    through allowed moves recorded as made by the merge. Attributes and empty
    profile fields are filled from the duplicate (the survivor's values win).
    The duplicate's data is kept on the merge record.
    """
    if survivor.pk == duplicate.pk:
        raise DomainError("A lead cannot be merged into itself.")
    # Locked in id order, so two merges of the same pair cannot deadlock.
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ConflictError("One of these leads no longer exists; someone merged it already.")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]

    snapshot = json.loads(json.dumps(model_to_dict(duplicate), default=str))
    moved = Activity.objects.filter(lead=duplicate).update(lead=survivor)
    StageChange.objects.filter(lead=duplicate).update(lead=survivor)
    Identity.objects.filter(lead=duplicate).update(lead=survivor)
    _merge_touches(survivor=survivor, duplicate=duplicate)
    LeadMerge.objects.filter(survivor=duplicate).update(survivor=survivor)
    # Pairs with the duplicate are settled by this merge; the next search
    # proposes the survivor's own pairs afresh.
    DuplicateCandidate.objects.filter(Q(first=duplicate) | Q(second=duplicate)).delete()
    for name in LEAD_PROFILE_FIELDS:
        if getattr(survivor, name) in ("", None) and getattr(duplicate, name) not in ("", None):
            setattr(survivor, name, getattr(duplicate, name))
    survivor.attributes = {**duplicate.attributes, **survivor.attributes}
    survivor.account = survivor.account or duplicate.account
    survivor.legal_hold = survivor.legal_hold or duplicate.legal_hold
    survivor.do_not_contact = survivor.do_not_contact or duplicate.do_not_contact
    if FUNNEL_RANK[duplicate.stage] > FUNNEL_RANK[survivor.stage]:
        for stage in lifecycle_path(survivor.stage, duplicate.stage):
            change_stage(
                lead=survivor,
                to_stage=stage,
                by=by,
                reason=f"Merge: lead #{duplicate.pk} had reached {Stage(duplicate.stage).label}",
                by_merge=True,
            )
    merge = LeadMerge.objects.create(
        survivor=survivor,
        merged_lead_id=duplicate.pk,
        merged_email=duplicate.email or "",
        merged_snapshot=snapshot,
        activities_moved=moved,
        merged_by=by,
        merged_by_name=by.get_username() if by is not None else "",
    )
    # The apps above move their rows now, while the duplicate still exists.
    lead_merging.send(sender=Lead, survivor_id=survivor.pk, duplicate_id=duplicate.pk, by=by)
    # Free the duplicate's identifiers before the survivor may take them.
    duplicate.delete()
    if survivor.email is None and duplicate.email:
        survivor.email = duplicate.email
    if survivor.external_id is None and duplicate.external_id:
        survivor.external_id = duplicate.external_id
    survivor.save()
    leads_changed.send(sender=Lead, lead_ids={survivor.pk})
    return merge


# --- Activities ---------------------------------------------------------------


@dataclass(frozen=True)
class ActivityEvent:
    """One validated event, its lead already resolved to an id."""

    lead_id: int
    kind: str
    occurred_at: datetime
    source_system: str
    external_id: str
    url: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    event_name: str = ""


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


@dataclass(frozen=True)
class LeadRef:
    """How an event names its lead: by id, email or external id (one of them)."""

    lead_id: int | None = None
    email: str | None = None
    external_id: str | None = None


def resolve_lead_refs(refs: Sequence[LeadRef]) -> list[int]:
    """Turn each reference into a lead id, in three queries at most.

    Raises BatchError naming each reference that matches no lead.
    """
    ids = {r.lead_id for r in refs if r.lead_id is not None}
    emails = {normalise_email(r.email) for r in refs if r.email}
    external_ids = {r.external_id for r in refs if r.external_id}
    # order_by(): Lead's default ordering would sort rows that only fill a dict.
    leads = Lead.objects.order_by()
    known_ids = set(leads.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    # Exact match on the stored (normalised) email, as always; the lower(email)
    # condition adds nothing to the result (the emails are lower-cased) but lets
    # PostgreSQL use the case-insensitive unique index instead of scanning leads.
    by_email = (
        dict(
            leads.alias(email_lower=Lower("email"))
            .filter(email_lower__in=emails, email__in=emails)
            .values_list("email", "pk")
        )
        if emails
        else {}
    )
    by_external = (
        dict(leads.filter(external_id__in=external_ids).values_list("external_id", "pk"))
        if external_ids
        else {}
    )
    resolved: list[int] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, ref in enumerate(refs):
        if ref.lead_id is not None:
            found, where = (ref.lead_id if ref.lead_id in known_ids else None), "lead"
        elif ref.email:
            found, where = by_email.get(normalise_email(ref.email)), "lead_email"
        else:
            found, where = by_external.get(ref.external_id), "lead_external_id"
        if found is None:
            errors[index] = {where: ["No lead matches this reference."]}
        else:
            resolved.append(found)
    if errors:
        raise BatchError(errors)
    return resolved


@transaction.atomic
def ingest_activities(*, events: Sequence[Mapping[str, Any]]) -> IngestResult:
    """Stores a batch of validated events (as leads.ingest_validation gives
    them), each naming its lead by exactly one of ``lead`` (id),
    ``lead_email`` or ``lead_external_id``.

    All or nothing, in one transaction: a reference that matches no lead
    raises BatchError naming each such event, and none is stored. Events
    already received are counted as duplicates (see record_activities).
    """
    lead_ids = resolve_lead_refs(
        [
            LeadRef(
                lead_id=event.get("lead"),
                email=event.get("lead_email"),
                external_id=event.get("lead_external_id"),
            )
            for event in events
        ]
    )
    return record_activities(
        events=[
            ActivityEvent(
                lead_id=lead_id,
                kind=event["kind"],
                url=event["url"],
                properties=event["properties"],
                occurred_at=event["occurred_at"],
                source_system=event["source_system"],
                external_id=event["external_id"],
            )
            for lead_id, event in zip(lead_ids, events, strict=True)
        ]
    )


# savepoint=False: a failure here aborts the caller's transaction too (a batch is
# all or nothing), and the two extra round trips of a savepoint cost about a
# tenth of a single-event request.
@transaction.atomic(savepoint=False)
def record_activities(*, events: Sequence[ActivityEvent]) -> IngestResult:
    """Store events once each, whatever how often they are delivered.

    ``(source_system, external_id)`` is unique; a replayed event is skipped by
    the database (ON CONFLICT DO NOTHING), so concurrent replays cannot double
    count either. Announces the leads with new events on ``activities_recorded``.
    """
    if not events:
        return IngestResult(received=0, stored=0)
    # Inserted in one order, whatever the order sent: two overlapping batches
    # arriving at once in different orders (a retry re-batched, say) would
    # otherwise each wait on a key the other holds, and one would deadlock.
    events = sorted(events, key=lambda e: (e.source_system, e.external_id))
    now = timezone.now()
    postgresql = connection.vendor == "postgresql"
    insert = _insert_activities_postgresql if postgresql else _insert_activities
    new_lead_ids: set[int] = set()
    stored = 0
    for start in range(0, len(events), 1000):
        inserted = insert(events[start : start + 1000], now)
        stored += len(inserted)
        new_lead_ids.update(inserted)
    if new_lead_ids:
        activities_recorded.send(sender=Activity, lead_ids=new_lead_ids)
    return IngestResult(received=len(events), stored=stored)


_ACTIVITY_COLUMNS = (
    "lead_id, kind, url, properties, occurred_at, source_system, external_id, event_name,"
    " received_at"
)


def _insert_activities_postgresql(chunk: Sequence[ActivityEvent], now: datetime) -> list[int]:
    """One INSERT of the chunk; returns the lead id of each row actually inserted.

    One array per column instead of eight bound values per row: psycopg would
    quote thousands of values into the query text one by one, and PostgreSQL
    would parse them, which cost more than writing the rows.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Activity._meta.db_table} ({_ACTIVITY_COLUMNS})"
            " SELECT lead_id, kind, url, CAST(properties AS jsonb), occurred_at, source_system,"
            " external_id, event_name, %s"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],"
            " %s::text[], %s::text[], %s::text[])"
            " AS e(lead_id, kind, url, properties, occurred_at, source_system, external_id,"
            " event_name)"
            " ON CONFLICT (source_system, external_id) DO NOTHING RETURNING lead_id",
            [
                now,
                [e.lead_id for e in chunk],
                [e.kind for e in chunk],
                [e.url for e in chunk],
                [json.dumps(e.properties) for e in chunk],
                [e.occurred_at for e in chunk],
                [e.source_system for e in chunk],
                [e.external_id for e in chunk],
                [e.event_name for e in chunk],
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_activities(chunk: Sequence[ActivityEvent], now: datetime) -> list[int]:
    """The same on other databases; 1,000 rows x 9 values stays under every
    backend's bound-parameter limit."""
    rows_sql = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
    params: list[Any] = []
    for e in chunk:
        params += [
            e.lead_id,
            e.kind,
            e.url,
            json.dumps(e.properties),
            e.occurred_at,
            e.source_system,
            e.external_id,
            e.event_name,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Activity._meta.db_table} ({_ACTIVITY_COLUMNS}) VALUES {rows_sql}"
            " ON CONFLICT (source_system, external_id) DO NOTHING RETURNING lead_id",
            params,
        )
        return [row[0] for row in cursor.fetchall()]
