"""Integrations authenticate with ``Authorization: Bearer <key>``; a CDP
(Segment, RudderStack) sends its write key as HTTP Basic's username, and the
write key is an API token's key (``WriteKeyAuthentication``)."""

import base64
import binascii

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from handoff.tokens import note_use, token_for_key


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """An API token of handoff.tokens. Unknown, revoked or malformed keys get
    401 with a message saying which; no header at all leaves the request to
    the next authenticator (the session)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Authorization: Bearer <key>'."
            )
        return user_of_key(header[1])

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return f'{self.keyword} realm="api"'


def user_of_key(key: str):
    """(user, token) for a valid key; AuthenticationFailed saying why not."""
    token = token_for_key(key)
    if token is None:
        raise exceptions.AuthenticationFailed("Unknown API token.")
    if token.is_revoked:
        revoked = timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
        raise exceptions.AuthenticationFailed(
            f"This API token ({token.prefix}…, {token.name}) was revoked on {revoked}; "
            "ask an administrator for a new one."
        )
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed(
            f"The account of this API token ({token.user.get_username()}) is deactivated."
        )
    note_use(token)
    return token.user, token


class WriteKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Basic base64(<write key>:)``, as Segment's libraries
    and destinations send it: the write key is an API token's key (the
    password, empty, is ignored). Only the standard intake's endpoints take it."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(header[1], validate=True).decode("utf-8")
        except (IndexError, binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send the write key as HTTP Basic's "
                "username ('Authorization: Basic base64(<write key>:)')."
            ) from None
        return user_of_key(decoded.partition(":")[0])

    def authenticate_header(self, request):
        return 'Basic realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema (drf-spectacular registers
    extensions on definition, so it lives beside the class it describes)."""

    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token issued in the admin (API tokens).",
        }


class WriteKeyScheme(OpenApiAuthenticationExtension):
    target_class = WriteKeyAuthentication
    name = "writeKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "A CDP's write key (an API token's key) as the username, "
            "the password empty, as Segment sends it.",
        }
