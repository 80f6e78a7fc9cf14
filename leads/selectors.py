"""Reads of leads and activities that are more than one line."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from handoff.roles import sees_every_lead
from leads.models import Account, Activity, Lead


def leads_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Lead]:
    """Every lead for marketing ops, managers and integrations; an SDR's own otherwise."""
    queryset = Lead.objects.select_related("source", "account", "owner")
    if user.is_superuser or sees_every_lead(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(owner=user)


def activities_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Activity]:
    queryset = Activity.objects.all()
    if user.is_superuser or sees_every_lead(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(lead__owner=user)


def accounts_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Account]:
    queryset = Account.objects.select_related("owner")
    if user.is_superuser or sees_every_lead(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(leads__owner=user).distinct()
