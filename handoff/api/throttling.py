"""Throttling of the ingestion endpoints (POST leads, activities,
opportunities), per API token, in the shared cache (settings.CACHES).

A fixed-window counter: one atomic increment per request. DRF's
SimpleRateThrottle keeps every request's timestamp in one cache entry and
rewrites it on each request: at the rates ingestion runs (hundreds a second)
that entry alone would be hundreds of kilobytes per request. The price of the
fixed window is a burst of up to twice the rate across a window's edge.
"""

from __future__ import annotations

import logging
import math
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from handoff.models import ApiToken

# Router basename -> the throttle rate (DEFAULT_THROTTLE_RATES key) of its POST.
INGESTION = {
    "lead": "ingest-leads",
    "activity": "ingest-activities",
    "opportunity": "ingest-opportunities",
    "segment": "ingest-activities",
    "form-submission": "ingest-leads",
}
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
clock = time.time  # tests stop it
# Throttling protects the service; it must not stop it. When the cache is
# unreachable, requests go through unthrottled, and the cache is tried again
# only after this many seconds (not by every request, each paying a timeout).
CACHE_RETRY_SECONDS = 10
_cache_down_until = 0.0

logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60): requests allowed, and per how many seconds."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1]]


def shared_cache():
    return caches["default"]


def _count(key: str, timeout: int, now: float) -> int | None:
    """Counts one more request in the window ``key``; None when the cache is down."""
    global _cache_down_until
    if now < _cache_down_until:
        return None
    cache = shared_cache()
    try:
        if isinstance(cache, RedisCache):
            # One round trip instead of add() and incr()'s three (incr() asks
            # whether the key exists first): create the window's counter with
            # its expiry if missing, then count, atomically in Redis.
            client = cache._cache.get_client(write=True)
            pipe = client.pipeline(transaction=False)
            pipe.set(cache.make_and_validate_key(key), 0, ex=timeout, nx=True)
            pipe.incr(cache.make_and_validate_key(key))
            return pipe.execute()[1]
        cache.add(key, 0, timeout=timeout)  # a no-op when the key exists
        try:
            return cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=timeout)
            return 1
    except Exception as error:  # the backend's own error types: Redis, files
        _cache_down_until = now + CACHE_RETRY_SECONDS
        logger.warning(
            "API throttling is off for %s s: the cache is unreachable (%s)",
            CACHE_RETRY_SECONDS,
            error,
        )
        return None


class IngestionThrottle(BaseThrottle):
    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        scope = INGESTION.get(getattr(view, "basename", ""))
        if scope is None:
            return True
        # Read at each request, not at import as DRF's throttles do, so that a
        # changed setting (a test's override_settings) takes effect.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not isinstance(rate, str) or not rate:
            return True
        limit, seconds = parse_rate(rate)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        # The key's prefix as well as its id: ids restart in a fresh database,
        # the shared cache does not.
        who = f"token:{token.pk}:{token.prefix}" if token else f"user:{request.user.pk}"
        now = clock()
        window = int(now // seconds)
        key = f"throttle:{scope}:{who}:{window}"
        count = _count(key, seconds + 1, now)
        if count is None or count <= limit:
            return True
        wait = math.ceil((window + 1) * seconds - now)
        # DRF adds "Expected available in N seconds." and the Retry-After header.
        raise exceptions.Throttled(
            wait=wait,
            detail=(
                f"Too many requests: POST {request.path} is limited to {rate} for each "
                "API token (send events in batches of up to 1,000)."
            ),
        )
