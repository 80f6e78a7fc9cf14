"""Reads of routing that are more than one line.

Each selector returns a queryset with the joins its pages and endpoints need,
so templates and serializers never load a related row lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from handoff.roles import SALES_MANAGER, has_role
from handoff.visibility import visible_to
from leads.models import Activity, Lead, StageChange
from leads.selectors import leads_visible_to
from routing.models import Assignment, AssignmentStatus, Membership, Queue, Touch
from scoring.models import AccountScore, LeadScore, MQLSnapshot

TIMELINE_LENGTH = 50
OTHER_CONTACTS_SHOWN = 20


def _with_lead(queryset: QuerySet[Assignment]) -> QuerySet[Assignment]:
    # lead__score is the reverse one-to-one LeadScore: one LEFT JOIN, no query per row.
    return queryset.select_related("lead__source", "lead__account", "lead__score", "queue")


def assignments_for_sdr(user: User) -> QuerySet[Assignment]:
    """The SDR's open MQLs, most urgent first: the earliest due (so the
    overdue ones) on top, then by id so equal due times keep one order."""
    return _with_lead(Assignment.objects.filter(sdr=user, status=AssignmentStatus.OPEN)).order_by(
        "due_at", "id"
    )


def assignments_visible_to(user: User | AnonymousUser) -> QuerySet[Assignment]:
    """Every assignment for marketing ops, managers and integrations; an SDR's
    own otherwise (any status, so a decided MQL can still be looked up)."""
    queryset = _with_lead(Assignment.objects.select_related("sdr")).order_by("due_at", "id")
    return visible_to(user, queryset, owner_field="sdr")


def assignments_viewable_on_pages(user: User) -> QuerySet[Assignment]:
    """Whose lead pages ``user`` may open: an SDR their own assignments, a
    sales manager anyone's (read-only: only the assigned SDR may act)."""
    queryset = _with_lead(Assignment.objects.select_related("sdr", "reassigned_from__sdr"))
    if user.is_superuser or has_role(user, SALES_MANAGER):
        return queryset
    return queryset.filter(sdr=user)


def queues_visible_to(user: User | AnonymousUser) -> QuerySet[Queue]:
    return Queue.objects.select_related(
        "sla_policy__calendar", "fallback", "manager"
    ).prefetch_related("sources")


def memberships_visible_to(user: User | AnonymousUser) -> QuerySet[Membership]:
    """Every membership for managers and marketing ops; an SDR's own otherwise."""
    return visible_to(user, Membership.objects.select_related("queue", "sdr"), owner_field="sdr")


def lead_score(lead: Lead) -> LeadScore | None:
    """The lead's current score, or None (read from a select_related join)."""
    try:
        return lead.score
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class LeadFile:
    """Everything the lead page shows beside the assignment itself."""

    score: MQLSnapshot | LeadScore | None  # at hand-off, else the current one, else None
    score_is_snapshot: bool
    activities: list[Activity]
    activity_count: int
    other_contacts: list[Lead]
    other_contact_count: int
    account_score: AccountScore | None


def lead_file(assignment: Assignment, *, viewer: User) -> LeadFile:
    """The score at hand-off, the activity timeline, the account's other
    contacts (those ``viewer`` may see, by the API's rule) and its MQA status,
    in a fixed number of queries."""
    lead = assignment.lead
    # What sales saw at hand-off: the last snapshot taken up to this assignment
    # (a lead recycled and qualified again has one per crossing).
    snapshot = (
        MQLSnapshot.objects.filter(lead=lead, created_at__lte=assignment.created_at)
        .select_related("eligible_source", "sent_by")
        .order_by("-created_at", "-id")
        .first()
    )
    activities = Activity.objects.filter(lead=lead).order_by("-occurred_at", "-id")
    contacts, contact_count, account_score = [], 0, None
    if lead.account_id:
        # The API's visibility rule: an SDR sees no colleague's leads here either.
        others = leads_visible_to(viewer).filter(account_id=lead.account_id).exclude(pk=lead.pk)
        contacts = list(others.order_by("last_name", "first_name", "id")[:OTHER_CONTACTS_SHOWN])
        contact_count = len(contacts) if len(contacts) < OTHER_CONTACTS_SHOWN else others.count()
        account_score = AccountScore.objects.filter(account_id=lead.account_id).first()
    timeline = list(activities[:TIMELINE_LENGTH])
    return LeadFile(
        score=snapshot or lead_score(lead),
        score_is_snapshot=snapshot is not None,
        activities=timeline,
        activity_count=(len(timeline) if len(timeline) < TIMELINE_LENGTH else activities.count()),
        other_contacts=contacts,
        other_contact_count=contact_count,
        account_score=account_score,
    )


def stage_history(lead: Lead) -> QuerySet[StageChange]:
    return (
        StageChange.objects.filter(lead=lead)
        .select_related("changed_by")
        .order_by("-changed_at", "-id")
    )


def touches_of(assignment: Assignment) -> QuerySet[Touch]:
    return Touch.objects.filter(assignment=assignment).select_related("by").order_by("-at", "-id")


def leads_of_sdr(user: User, *, q: str = "", stage: str = "") -> QuerySet[Lead]:
    """Every lead the SDR owns, at any stage, the latest changed first; each
    with ``assignment_id``, the SDR's latest assignment of it (its lead page)."""
    latest = (
        Assignment.objects.filter(lead=OuterRef("pk"), sdr=user)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    queryset = (
        Lead.objects.filter(owner=user)
        .select_related("account", "source", "score")
        .annotate(assignment_id=Subquery(latest))
        .order_by("-updated_at", "-pk")
    )
    for word in q.split():
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company_name__icontains=word)
            | Q(account__name__icontains=word)
        )
    if stage:
        queryset = queryset.filter(stage=stage)
    return queryset


@dataclass(frozen=True)
class SDRLoad:
    sdr: User
    open_mqls: int
    overdue: int
    capacity: int
    queues: int
    away_until: datetime | None


def sdr_loads(*, now: datetime) -> list[SDRLoad]:
    """Each SDR who works a queue: open MQLs, overdue ones, capacity over the
    active seats, and until when they are away; in three queries."""
    seats = (
        Membership.objects.values("sdr")
        .annotate(
            capacity=Sum("capacity", filter=Q(is_active=True)),
            queues=Count("pk", filter=Q(is_active=True)),
            away=Max("away_until"),
        )
        .order_by()
    )
    work: dict[int, tuple[int, int]] = {
        sdr: (n, overdue)
        for sdr, n, overdue in Assignment.objects.filter(
            status=AssignmentStatus.OPEN, sdr__isnull=False
        )
        .values("sdr")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
        .values_list("sdr", "n", "overdue")
        .order_by()
    }
    people = User.objects.in_bulk([row["sdr"] for row in seats])
    loads = [
        SDRLoad(
            sdr=people[row["sdr"]],
            open_mqls=work.get(row["sdr"], (0, 0))[0],
            overdue=work.get(row["sdr"], (0, 0))[1],
            capacity=row["capacity"] or 0,
            queues=row["queues"],
            away_until=row["away"] if row["away"] and row["away"] > now else None,
        )
        for row in seats
    ]
    return sorted(loads, key=lambda load: (load.sdr.get_full_name() or load.sdr.username).lower())


def open_assignments_of(sdr: User) -> QuerySet[Assignment]:
    """An SDR's open MQLs, for the manager's reassignment, most urgent first."""
    return _with_lead(
        Assignment.objects.filter(sdr=sdr, status=AssignmentStatus.OPEN).select_related("sdr")
    ).order_by("due_at", "id")


def sdrs_in_queues() -> QuerySet[User]:
    """People with a seat in some queue: who MQLs may be reassigned to."""
    return (
        User.objects.filter(queue_memberships__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
