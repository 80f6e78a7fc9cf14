"""Domain errors become API answers here, and nowhere else."""

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from handoff.api.parsers import too_large
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
    if isinstance(exc, RequestDataTooBig):
        # Over DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses to read the body at all
        # (a bare HTML 400 otherwise): the same 413 as the parsers' own limit.
        request = context.get("request")
        size = request.META.get("CONTENT_LENGTH") if request is not None else None
        exc = too_large(int(size) if size and size.isdigit() else None)
    return exception_handler(exc, context)
