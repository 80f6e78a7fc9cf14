"""Answers for requests that fail for a reason outside the application."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The database is unavailable right now. Try again in a moment."
DATABASE_BUSY = "The database was busy with a conflicting change. Try again in a moment."
RETRY_AFTER_SECONDS = 5

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handoff is unavailable</title></head>
<body><h1>Handoff is unavailable</h1><p>{message}</p></body></html>
"""


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection (a restart, a failover) answers
    503 with Retry-After and says so, instead of a bare 500.

    Each write is one transaction, so a request cut off made all of its
    change or none of it, and sending it again is safe (events are
    deduplicated; a decision already made is refused). The page is plain
    HTML: the site's templates would query the database again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self,
        request: HttpRequest,
        exception: Exception,
    ) -> HttpResponse | None:
        # The database refused, dropped or timed out the connection (or the
        # statement): transient, worth a retry. IntegrityError, ProgrammingError
        # and the like are bugs and stay 500s.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "Database unavailable during %s %s: %s", request.method, request.path, exception
        )
        # SQLSTATE class 40: a deadlock or a serialization failure. The
        # database is up; this transaction lost to another and was rolled back.
        lost_a_race = str(getattr(exception.__cause__, "sqlstate", "") or "").startswith("40")
        message = DATABASE_BUSY if lost_a_race else DATABASE_UNAVAILABLE
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(_PAGE.format(message=message), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
