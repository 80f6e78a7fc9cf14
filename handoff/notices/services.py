"""Writing notices and preferences: every change to them goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from handoff.enqueue import enqueue_on_commit
from handoff.models import Channel, Delivery, Notice, NoticeKind, NoticePreferences
from handoff.notices.webhooks import validate_webhook_url

# Until a person says otherwise: everything in the app, and by email what
# needs acting on; chat only once they give a webhook and ask for it.
DEFAULT_CHANNELS: dict[str, frozenset[str]] = {
    NoticeKind.ASSIGNED: frozenset({Channel.APP, Channel.EMAIL}),
    NoticeKind.REMINDER: frozenset({Channel.APP, Channel.EMAIL}),
    NoticeKind.BREACH: frozenset({Channel.APP, Channel.EMAIL}),
    NoticeKind.ESCALATION: frozenset({Channel.APP, Channel.EMAIL}),
    NoticeKind.REASSIGNED: frozenset({Channel.APP}),
    NoticeKind.APPROVAL: frozenset({Channel.APP, Channel.EMAIL}),
    # The digest's email is its own, longer message (feedback.digest).
    NoticeKind.DIGEST: frozenset({Channel.APP}),
    NoticeKind.ALERT: frozenset({Channel.APP, Channel.EMAIL}),
    NoticeKind.WEBHOOK_DISABLED: frozenset({Channel.APP, Channel.EMAIL}),
}


def channels_for(preferences: NoticePreferences | None, kind: str) -> frozenset[str]:
    """The channels a person wants for ``kind``: their choice, else the default."""
    if preferences is not None and kind in preferences.channels:
        return frozenset(preferences.channels[kind]) & set(Channel.values)
    return DEFAULT_CHANNELS.get(kind, frozenset({Channel.APP}))


def notify(
    *,
    user: User | None,
    kind: NoticeKind,
    text: str,
    link: str = "",
    about: str = "",
    chat_url: str = "",
) -> Notice | None:
    """Records a notice for ``user`` in the caller's transaction, on the
    channels they chose for ``kind``, and sends its email and chat message
    after commit. ``about`` names the event ("assignment:42"): the same person
    is told of the same event and kind once, whoever calls twice.
    ``chat_url`` is a webhook to use when the person has none of their own
    (a queue's). Never raises for delivery: sending happens after commit.
    Returns the notice, or None when nobody or nothing is to be told."""
    if user is None:
        return None
    preferences = NoticePreferences.objects.filter(user=user).first()
    channels = channels_for(preferences, kind)
    chat_to = (preferences.chat_url if preferences else "") or chat_url
    email = Delivery.PENDING if Channel.EMAIL in channels and user.email else ""
    chat = Delivery.PENDING if Channel.CHAT in channels and chat_to else ""
    if Channel.APP not in channels and not email and not chat:
        return None
    try:
        # A savepoint: a repeat refused by the unique constraint leaves the
        # caller's transaction usable.
        with transaction.atomic():
            notice = Notice.objects.create(
                user=user,
                kind=kind,
                text=text[: Notice._meta.get_field("text").max_length],
                link=link,
                about=about,
                in_app=Channel.APP in channels,
                email=email,
                chat=chat,
                chat_url=chat_to if chat else "",
            )
    except IntegrityError:
        if about and Notice.objects.filter(user=user, kind=kind, about=about).exists():
            return None  # already told
        raise
    if email or chat:
        from handoff.tasks import deliver_notice

        enqueue_on_commit(deliver_notice, notice_id=notice.pk)
    return notice


def mark_notices_read(*, user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Marks the user's unread notices read: those given, or all of them.

    Only the user's own unread notices change (someone else's id is ignored),
    and a notice keeps the moment it was first read, so repeating the request
    changes nothing. Returns how many notices were marked.
    """
    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    return unread.update(read_at=timezone.now())


def save_notice_preferences(
    *, user: User, channels: Mapping[str, Iterable[str]], chat_url: str
) -> NoticePreferences:
    """Stores which channels ``user`` wants for each kind, and their chat
    webhook. Refuses (ValidationError) a webhook that is not http(s); unknown
    kinds and channels are dropped. Notices already recorded keep theirs."""
    chat_url = chat_url.strip()
    validate_webhook_url(chat_url)
    chosen = {
        kind: sorted(set(channels.get(kind, ())) & set(Channel.values))
        for kind in NoticeKind.values
    }
    preferences, _ = NoticePreferences.objects.update_or_create(
        user=user, defaults={"channels": chosen, "chat_url": chat_url}
    )
    return preferences


def settle_past_notices(*, before: datetime) -> int:
    """Takes the notices recorded before ``before`` as read, and their
    pending email and chat messages as not to be sent: for history loaded
    after the fact (the demo's twelve weeks), whose people were told at the
    time. Returns how many notices changed."""
    past = Notice.objects.filter(created_at__lt=before)
    settled = past.filter(read_at__isnull=True).update(read_at=F("created_at"))
    past.filter(email=Delivery.PENDING).update(email=Delivery.NOT_WANTED)
    past.filter(chat=Delivery.PENDING).update(chat=Delivery.NOT_WANTED)
    return settled
