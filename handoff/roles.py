"""The three roles of Handoff, as auth groups created by migrations.

Integrations (forms, tracking, the CRM) authenticate with a token of a user in
the Integration group.
"""

from django.contrib.auth.models import AnonymousUser, User

SDR = "SDR"
MARKETING_OPS = "Marketing ops"
SALES_MANAGER = "Sales manager"
INTEGRATION = "Integration"

ALL_ROLES = (SDR, MARKETING_OPS, SALES_MANAGER, INTEGRATION)


def roles_of(user: User | AnonymousUser) -> frozenset[str]:
    """The role names of a user, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_handoff_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._handoff_roles = cached  # type: ignore[attr-defined]  # a per-request cache
    return cached


def has_role(user: User | AnonymousUser, *roles: str) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or roles_of(user) & set(roles)))


def sees_every_lead(user: User | AnonymousUser) -> bool:
    """Marketing ops, managers and integrations see all leads; an SDR only their own."""
    return has_role(user, MARKETING_OPS, SALES_MANAGER, INTEGRATION)
