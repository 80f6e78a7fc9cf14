"""One signed POST to one endpoint, as the Standard Webhooks specification
says: the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
headers, the signature an HMAC-SHA256 of ``id.timestamp.body`` made with
the endpoint's ``whsec_`` secret (and, while a rotation's grace period lasts,
with the previous one too, space-separated)."""

from __future__ import annotations

import base64
import functools
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from standardwebhooks import Webhook

from handoff.net import reaches_private_network

EXCERPT_BYTES = 2048
_URL = URLValidator(schemes=["https", "http"])


def new_secret() -> str:
    """A signing secret in the Standard Webhooks format: whsec_ and 32 random
    bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_endpoint_url(value: str) -> None:
    """http(s) only, complete, and not on this server's own network unless
    WEBHOOKS_ALLOW_PRIVATE says so (a person could otherwise make the server
    call its own network)."""
    if urlsplit(value).scheme.lower() not in ("http", "https"):
        raise ValidationError("A webhook URL starts with https:// (or http://).", code="scheme")
    try:
        _URL(value)
    except ValidationError:
        raise ValidationError(
            "That is not a complete web address: give the whole URL, "
            "like https://example.com/hooks/handoff.",
            code="invalid",
        ) from None
    host = urlsplit(value).hostname or ""
    if not settings.WEBHOOKS_ALLOW_PRIVATE and reaches_private_network(host):
        raise ValidationError(
            f"{host} is an address on this server's own network (loopback or private): "
            "webhooks go to receivers on the internet.",
            code="private",
        )


def body_of(*, message_id: str, type: str, occurred_at: datetime, data: dict) -> bytes:
    """The JSON body: the event's id, type and time, and its data."""
    return json.dumps(
        {"id": message_id, "type": type, "timestamp": occurred_at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    ).encode()


def signature(*, secrets_in_use: list[str], message_id: str, at: datetime, body: bytes) -> str:
    """The webhook-signature header: one ``v1,…`` per secret, space-separated."""
    return " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body)
        for secret in secrets_in_use
    )


@functools.cache
def _client(connect: float, read: float) -> httpx.Client:
    """One client per worker process (and timeouts): its connections are kept
    alive between sends, and its TLS context is made once."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(read, connect=connect),
        trust_env=False,  # no proxy from the environment: requests go where the URL says
    )


@dataclass(frozen=True)
class Answer:
    """What came back: a status (None when nothing did), how long it took,
    the start of the body, and an error when there was no answer."""

    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs ``body``: no redirect followed (a 3xx is a failure), bounded
    connect and read timeouts, at most EXCERPT_BYTES of the answer read.
    Never raises for the receiver's sake: a refusal is an Answer too."""
    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        # Checked at every send, not only when saved: a name can be pointed
        # at another address later.
        validate_endpoint_url(url)
    except ValidationError as error:
        return Answer(None, took(), error=" ".join(error.messages)[:300])
    client = _client(
        settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_READ_TIMEOUT_SECONDS
    )
    try:
        with (
            client.stream(
                "POST",
                url,
                content=body,
                headers={
                    **headers,
                    "content-type": "application/json",
                    "user-agent": "Handoff-Webhooks/1",
                },
            ) as response,
        ):
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            return Answer(
                response.status_code,
                took(),
                excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
            )
    except httpx.TimeoutException as error:
        return Answer(None, took(), error=f"timed out ({type(error).__name__})")
    except httpx.HTTPError as error:
        return Answer(None, took(), error=f"{type(error).__name__}: {error}"[:300])
