"""Who sees which leads: the one rule every app's reads start from.

Marketing ops, managers and integrations (and superusers) see every lead; an
SDR sees the leads they own, and what hangs off them; nobody else sees any.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet

from handoff.roles import sees_every_lead


def visible_to[M: Model](
    user: User | AnonymousUser,
    queryset: QuerySet[M],
    *,
    owner_field: str,
    distinct: bool = False,
) -> QuerySet[M]:
    """``queryset`` whole for those who see every lead, else the rows whose
    ``owner_field`` (a lookup path to the owning user: ``owner``,
    ``lead__owner``, ``sdr``…) is ``user``.

    ``distinct`` for a path through a to-many relation (``leads__owner``),
    where the join would repeat a row once per matching lead; it is applied
    only when filtering, so those who see everything get the plain query.
    """
    if sees_every_lead(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    owned = queryset.filter(**{owner_field: user})
    return owned.distinct() if distinct else owned
