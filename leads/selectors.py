"""Reads of leads and activities that are more than one line."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from handoff.visibility import visible_to
from leads.models import Account, Activity, Lead


def leads_visible_to(user: User | AnonymousUser) -> QuerySet[Lead]:
    """Every lead for marketing ops, managers and integrations; an SDR's own otherwise."""
    queryset = Lead.objects.select_related("source", "account", "owner")
    return visible_to(user, queryset, owner_field="owner")


def activities_visible_to(user: User | AnonymousUser) -> QuerySet[Activity]:
    return visible_to(user, Activity.objects.all(), owner_field="lead__owner")


def accounts_visible_to(user: User | AnonymousUser) -> QuerySet[Account]:
    queryset = Account.objects.select_related("owner")
    return visible_to(user, queryset, owner_field="leads__owner", distinct=True)
