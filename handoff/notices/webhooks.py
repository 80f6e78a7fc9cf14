"""Chat webhooks: which URLs are accepted, and sending one message through apprise.

People paste the incoming-webhook URL their chat tool gives them. apprise
recognises Slack's (``https://hooks.slack.com/services/…``) and Microsoft
Teams' Workflows webhooks (``https://….logic.azure.com/workflows/…`` or a
Power Platform host; Teams' older Office 365 connectors are retired) and
speaks each one's format; any other http(s) URL gets apprise's plain JSON
POST (``json://``), for a receiver of one's own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from handoff.net import reaches_private_network

_URL = URLValidator(schemes=["http", "https"])


def validate_webhook_url(value: str) -> None:
    """Only http(s) URLs: apprise also speaks mailto://, file-like and other
    schemes, none of which a person should point the server at."""
    if not value:
        return
    if urlsplit(value).scheme.lower() not in ("http", "https"):
        raise ValidationError(
            "A chat webhook URL starts with https:// (or http://), "
            "like the incoming webhook Slack or Microsoft Teams gives you.",
            code="scheme",
        )
    try:
        _URL(value)
    except ValidationError:
        raise ValidationError(
            "That is not a complete web address: paste the whole webhook URL.", code="invalid"
        ) from None
    host = urlsplit(value).hostname or ""
    if not settings.CHAT_WEBHOOKS_ALLOW_PRIVATE and reaches_private_network(host):
        # Any signed-in person can set a webhook, and the worker posts to it:
        # without this, a person could make the server call its own network.
        raise ValidationError(
            f"{host} is an address on this server's own network: a chat webhook goes to "
            "a chat service on the internet, such as Slack or Microsoft Teams.",
            code="private",
        )


def apprise_service(url: str) -> apprise.NotifyBase | None:
    """The apprise service that posts to ``url``: Slack's or Teams' own when
    apprise recognises the URL, else a plain JSON POST. None if unusable."""
    service = apprise.Apprise.instantiate(url)
    if service is None:
        parts = urlsplit(url)
        scheme = "jsons" if parts.scheme.lower() == "https" else "json"
        service = apprise.Apprise.instantiate(
            parts._replace(scheme=scheme).geturl(), suppress_exceptions=True
        )
    if service is not None:
        # A slow receiver must not hold a worker: bounded connect and read.
        service.socket_connect_timeout = settings.CHAT_TIMEOUT_SECONDS
        service.socket_read_timeout = settings.CHAT_TIMEOUT_SECONDS
    return service


class ChatNotSent(Exception):
    """The chat service did not take the message."""


def send_chat(*, url: str, title: str, body: str) -> None:
    """Posts one message to the webhook at ``url``. Raises ValidationError for
    a URL nothing can post to, ChatNotSent when the receiver did not take it
    (down, slow, or an error answer: apprise does not say which)."""
    validate_webhook_url(url)
    service = apprise_service(url)
    if service is None:
        raise ValidationError("No chat service can post to that URL.")
    if not service.notify(body=body, title=title):
        raise ChatNotSent(f"The chat webhook at {urlsplit(url).netloc} did not take the message.")
