"""Which token scope each API endpoint needs: one table, keyed by the
router's basename. An endpoint missing here refuses every token (a new
endpoint is closed to integrations until someone decides otherwise), and
tests/test_permission_matrix.py checks the table against every route.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.models import ApiTokenScope as Scope


@dataclass(frozen=True)
class Access:
    read: str | None = None  # GET, HEAD, OPTIONS
    write: str | None = None  # POST, PUT, PATCH, DELETE; None: no token may write


ENDPOINT_SCOPES: dict[str, Access] = {
    "lead": Access(read=Scope.LEADS_READ, write=Scope.LEADS_WRITE),
    "account": Access(read=Scope.LEADS_READ, write=Scope.LEADS_WRITE),
    "activity": Access(read=Scope.LEADS_READ, write=Scope.ACTIVITIES_WRITE),
    "opportunity": Access(read=Scope.LEADS_READ, write=Scope.OUTCOMES_WRITE),
    "assignment": Access(read=Scope.LEADS_READ),  # the decisions are the SDR's own
    "score": Access(read=Scope.SCORES_READ),
    "account-score": Access(read=Scope.SCORES_READ),
    "webhook-endpoint": Access(read=Scope.WEBHOOKS_MANAGE, write=Scope.WEBHOOKS_MANAGE),
    # The standard intake: a CDP's calls (its write key), a web form's submission.
    "segment": Access(write=Scope.EVENTS_WRITE),
    "form-submission": Access(write=Scope.LEADS_WRITE),
    # queues and memberships: not for integrations; nor is sending a lead to
    # sales by hand ("lead-send-to-sales"), a person's decision.
}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def scope_needed(basename: str | None, method: str) -> str | None:
    """The scope a token needs for ``method`` on the endpoint, None if no token may."""
    access = ENDPOINT_SCOPES.get(basename or "")
    if access is None:
        return None
    return access.read if method in SAFE_METHODS else access.write
