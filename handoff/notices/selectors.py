"""Reading notices."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from handoff.models import Notice


def notices_of(user: User) -> QuerySet[Notice]:
    """The user's notices in the app, read or not, newest first."""
    return Notice.objects.filter(user=user, in_app=True).order_by("-created_at", "-id")


def unread_notices(user: User) -> QuerySet[Notice]:
    """The user's unread notices in the app, newest first."""
    return notices_of(user).filter(read_at__isnull=True)
