"""API tokens of integrations: issued, looked up, revoked.

A key is ``hnd_`` and 43 random URL-safe characters (256 bits). Only its
SHA-256 is stored, with the first characters as a visible prefix. A fast hash
is enough for keys this random (nobody can guess one to test against the
hash), and a slow one (PBKDF2) would cost every API request ~100 ms.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from handoff import audit, roles
from handoff.errors import DomainError
from handoff.models import ApiToken, ApiTokenScope

KEY_PREFIX = "hnd_"
PREFIX_LENGTH = 12  # "hnd_" and 8 characters of the random part
# last_used_at is written at most this often per token: once a minute is what
# an admin deciding whether a token is still used needs, and it keeps the
# ingestion path (hundreds of requests a second) free of UPDATEs.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the raw key: shown once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in ApiTokenScope.values]
    if unknown:
        raise DomainError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: "
            f"{', '.join(ApiTokenScope.values)}.",
            field="scopes",
        )
    if not chosen:
        raise DomainError("Give the token at least one scope.", field="scopes")
    return chosen


def _integration_account(name: str) -> User:
    """A new account in the Integration group for a token issued without one:
    no password (it cannot sign in), named after the integration."""
    base = f"api-{slugify(name)[:40] or 'integration'}"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    user = User.objects.create_user(username=username, password=None)
    user.groups.add(Group.objects.get(name=roles.INTEGRATION))
    return user


@transaction.atomic
def issue_token(
    *,
    name: str,
    scopes: Iterable[str],
    by: User | None,
    user: User | None = None,
) -> IssuedToken:
    """Issues a token for an integration and records it in the audit trail.

    The token acts as ``user``, which must be in the Integration group (so a
    token never carries a person's wider rights); without one, a new
    integration account is made. The raw key is in the result and nowhere else.
    """
    name = name.strip()
    if not name:
        raise DomainError("Name the integration the token is for.", field="name")
    chosen = _clean_scopes(scopes)
    if user is None:
        user = _integration_account(name)
    elif not user.groups.filter(name=roles.INTEGRATION).exists():
        raise DomainError(
            f"{user} is not in the {roles.INTEGRATION} group: tokens act only as "
            "integration accounts.",
            field="user",
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        user=user,
        scopes=chosen,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        created_by=by if by is not None and by.is_authenticated else None,
    )
    audit.record(
        actor=by,
        action="token issued",
        obj=token,
        changes={
            "name": [None, name],
            "scopes": [None, chosen],
            "user": [None, user.get_username()],
            "prefix": [None, token.prefix],
        },
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def revoke_token(*, token: ApiToken, by: User | None, note: str = "") -> ApiToken:
    """Revokes the token for good (its next request gets 401) and audits it.
    Revoking a revoked token is refused, so the trail names one revoker."""
    now = timezone.now()
    # Conditional update: of two admins revoking at once, one wins.
    claimed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by if by is not None and by.is_authenticated else None
    )
    if claimed != 1:
        raise DomainError(f"The token {token} was already revoked.")
    token.refresh_from_db()
    audit.record(
        actor=by,
        action="token revoked",
        obj=token,
        changes={"revoked_at": [None, token.revoked_at and token.revoked_at.isoformat()]},
        note=note,
    )
    return token


_KEY_SHAPE = re.compile(r"^hnd_[A-Za-z0-9_-]{43}$")


def token_for_key(key: str) -> ApiToken | None:
    """The token with this key (revoked or not) and its user, or None."""
    if not _KEY_SHAPE.match(key):
        return None  # not one of ours: no query
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()


def note_use(token: ApiToken) -> None:
    """Records that the token was used now, at most once a minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Several workers may see a stale time at once: the condition lets one write.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now
