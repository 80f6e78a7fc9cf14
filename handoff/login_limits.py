"""Login rate limiting against password guessing, on top of django-axes.

Axes records each failed login (the site's login page and the admin's alike:
both go through ``authenticate``) and refuses further attempts once a limit is
reached, until the cool-off has passed. Axes has one limit for every lockout
parameter; here a username and a client address have one each, because an
office behind one address must not be locked out by a few people's typos:

- a username is locked after ``LOGIN_FAILURES_PER_USERNAME`` failures,
- an address after ``LOGIN_FAILURES_PER_ADDRESS`` failures, whatever the usernames
  (password spraying),

each within ``LOGIN_LOCKOUT_MINUTES``; a failure while locked starts the
cool-off again, and a successful login clears that username's and address's
failures. API calls with a token never call ``authenticate``: they are not
counted.
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LoginLimitHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit for usernames and another for addresses."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # Axes compares this number with AXES_FAILURE_LIMIT (the per-username
        # limit) both before a login and after a failure: an address over its
        # own limit answers "at the limit".
        by_username, by_address = self.get_user_attempts(request, credentials)
        username_failures, address_failures = _failures(by_username), _failures(by_address)
        if address_failures >= settings.LOGIN_FAILURES_PER_ADDRESS:
            request.login_locked_by = "address"  # type: ignore[attr-defined]
            return max(username_failures, settings.AXES_FAILURE_LIMIT)
        request.login_locked_by = "username"  # type: ignore[attr-defined]
        return username_failures


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted against. Behind the trusted proxy that
    terminates TLS (SECURE_PROXY_SSL_HEADER), the proxy's own address is the
    same for everyone: the client is the last address it appended to
    X-Forwarded-For (earlier ones are whatever the client chose to send)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def lockout_message(request: HttpRequest, username: str) -> str:
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if getattr(request, "login_locked_by", "username") == "address":
        return (
            f"Too many failed logins from your network: logging in from it is locked for "
            f"{wait}. Try again later."
        )
    return (
        f"Too many failed logins: the account “{username}” is locked for {wait}. "
        "Try again later, or ask an administrator to unlock it."
    )


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The login page again (429), saying what is locked and for how long.
    Axes calls this instead of the login view's answer, for the admin's login too."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": lockout_message(request, username),
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)
