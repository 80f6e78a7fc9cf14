"""Who may open a server-rendered page: one decorator for every role check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from handoff import roles

View = Callable[..., HttpResponse]


def role_required(*allowed: str, message: str) -> Callable[[View], View]:
    """Users with one of the roles (and superusers) pass; anyone else signed
    in gets 403 with ``message``, and anonymous visitors go to the login page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not roles.has_role(request.user, *allowed):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate
