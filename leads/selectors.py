"""Reads of leads and activities that are more than one line."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet
from django.utils import timezone

from handoff.visibility import visible_to
from leads.models import Account, Activity, ActivityKind, Lead


def leads_visible_to(user: User | AnonymousUser) -> QuerySet[Lead]:
    """Every lead for marketing ops, managers and integrations; an SDR's own otherwise."""
    queryset = Lead.objects.select_related("source", "account", "owner")
    return visible_to(user, queryset, owner_field="owner")


def activities_visible_to(user: User | AnonymousUser) -> QuerySet[Activity]:
    return visible_to(user, Activity.objects.all(), owner_field="lead__owner")


def accounts_visible_to(user: User | AnonymousUser) -> QuerySet[Account]:
    queryset = Account.objects.select_related("owner")
    return visible_to(user, queryset, owner_field="leads__owner", distinct=True)


def unmapped_event_names(*, limit: int, days: int = 30) -> list[dict[str, Any]]:
    """The names of events received in the last ``days`` as "other" (no event
    mapping), with how many of each, most frequent first: what to map next.
    (Recent ones only: the received_at index keeps it quick on a large table.)"""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Activity.objects.filter(received_at__gte=since, kind=ActivityKind.OTHER)
        .exclude(event_name="")
        .values("event_name")
        .annotate(count=Count("id"))
        .order_by("-count", "event_name")[:limit]
    )
    return [dict(row) for row in rows]
