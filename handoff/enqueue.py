"""Sending follow-up work to the workers once the write that asks for it commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, **kwargs: Any) -> None:
    """Sends ``task`` with ``kwargs`` after the current transaction commits.

    Only for work a periodic sweep redoes when its message is lost. By the time
    the message goes out, the write has committed: a broker that is down (or
    any other failure to send) must not turn it into an error page, or the
    user would retry a write that already happened. The failure is logged and
    the request goes on; the broker's publish retry policy bounds the wait.
    """
    transaction.on_commit(lambda: _send(task, kwargs), robust=True)


def _send(task: Task, kwargs: dict[str, Any]) -> None:
    try:
        task.delay(**kwargs)
    except BrokerUnavailable as error:
        shown = repr(kwargs)
        logger.warning(
            "The broker is unavailable (%s): %s was not queued for %s; "
            "the periodic sweep will do it.",
            error,
            task.name,
            shown if len(shown) <= 200 else shown[:200] + "…",
        )


def enqueue_each_on_commit(task: Task, calls: Sequence[dict[str, Any]]) -> None:
    """Sends ``task`` once per kwargs in ``calls`` after the current transaction
    commits, as enqueue_on_commit does, but stops at the first failure: with
    the broker down, each send waits out the retry policy, and a job of a
    few hundred messages would hold the request for minutes. The sweep sends
    what was not sent."""
    calls = list(calls)
    transaction.on_commit(lambda: _send_each(task, calls), robust=True)


def _send_each(task: Task, calls: list[dict[str, Any]]) -> None:
    for sent, kwargs in enumerate(calls):
        try:
            task.delay(**kwargs)
        except BrokerUnavailable as error:
            logger.warning(
                "The broker is unavailable (%s): %d of %d %s messages were not "
                "queued; the periodic sweep will send them.",
                error,
                len(calls) - sent,
                len(calls),
                task.name,
            )
            return
