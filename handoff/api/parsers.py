"""The API's parsers, each refusing a body over API_MAX_BODY_BYTES with 413.

A batch of 1,000 events as integrations send them is about 0.3 MB: the
default limit, 2 MiB, leaves room for ~2 KB per event.
"""

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from handoff.validators import MAX_JSON_DEPTH


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def too_large(size: int | None) -> RequestTooLarge:
    limit = settings.API_MAX_BODY_BYTES
    got = f" (this one has {size:,} bytes)" if size else ""
    return RequestTooLarge(
        f"Request body too large: the API takes at most {limit:,} bytes{got}. "
        "Send events in batches of at most 1,000."
    )


def check_size(parser_context) -> None:
    request = (parser_context or {}).get("request")
    if request is None:
        return
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django reads no body without a valid length
    if size > settings.API_MAX_BODY_BYTES:
        raise too_large(size)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Python's decoder gives up on a few thousand levels of nesting
            # (a small body); DRF turns only ValueError into a 400.
            raise ParseError(
                "JSON parse error - nested too deeply: properties and attributes take "
                f"at most {MAX_JSON_DEPTH} levels."
            ) from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        return super().parse(stream, media_type, parser_context)
