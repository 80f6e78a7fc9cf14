"""In-app notices: reading them. (They are written by the SLA watcher.)"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.utils import timezone

from routing.models import Notice


def mark_notices_read(
    *,
    user: User,
    notice_ids: Iterable[int] | None = None,
) -> int:
    """Marks the user's unread notices read: those given, or all of them.

    Only the user's own unread notices change (someone else's id is ignored),
    and a notice keeps the moment it was first read, so repeating the request
    changes nothing. Returns how many notices were marked.
    """
    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    return unread.update(read_at=timezone.now())
