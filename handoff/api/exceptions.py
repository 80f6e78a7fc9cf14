"""Domain errors become API answers here, and nowhere else."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from handoff.errors import BatchError, DomainError


def domain_exception_handler(exc, context):
    if isinstance(exc, BatchError):
        # Same shape as DRF's own errors for a list: one entry per item, {} when valid.
        return Response(
            {"detail": exc.message, "errors": {str(i): e for i, e in exc.errors.items()}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DomainError):
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(body, status=exc.status_code)
    return exception_handler(exc, context)
