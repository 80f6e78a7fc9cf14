"""Write-only callers: a token with an endpoint's write scope but not its read
scope (web forms, say, whose key sits in a form's backend).

Such a caller is blind: it may add what it knows, but what it matched (by id,
email or domain) is not its to read, so the answer holds only what it sent,
and its upserts fill in what is blank instead of overwriting what it cannot
see (an account's name, a person's name).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.serializers import Serializer

from handoff.api.scopes import scope_needed
from handoff.models import ApiToken


def is_write_only(request: Request, basename: str | None) -> bool:
    """Whether the caller may write to the endpoint but not read it."""
    token = request.auth
    if not isinstance(token, ApiToken):
        return False  # people's sessions: their role's view permission decides reads
    return scope_needed(basename, "GET") not in token.scopes


def what_was_sent(serializer: Serializer, pk: Any) -> dict[str, Any]:
    """The id and the validated fields the caller sent, as it sent them: never
    a stored value (an earlier title, other attribute keys) it did not send."""
    fields = serializer.fields
    # Each sent value as its field shows it, not the row: the row is what the
    # caller may not read.
    return {
        "id": pk,
        **{
            name: None if value is None else fields[name].to_representation(value)
            for name, value in serializer.validated_data.items()
            if name in fields
        },
    }
