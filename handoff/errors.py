"""Errors that services raise when a request breaks a business rule.

Views and the API turn them into answers in one place each
(handoff.api.exceptions for the API, handoff.views_helpers for pages).
"""


class DomainError(Exception):
    """A request the business rules refuse; the message is shown to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """Someone else changed the row first (a stale action, a lost race)."""

    status_code = 409


class BatchError(DomainError):
    """Some items of a batch are invalid; nothing of the batch was written.

    ``errors`` maps each bad item's index to ``{field: [messages]}``.
    """

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__(f"{len(errors)} item(s) of the batch are invalid; none was stored.")
        self.errors = errors
