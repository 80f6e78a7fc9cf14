"""The demo, ready the moment the login page answers.

``leads.demo`` writes the people, companies and events. This module, at the
top of the project, then does what the product would have done as those
leads arrived, through the product's own services (never by writing scores
or assignments around them): it puts the SDRs in the queues and a manager on
each, scores every lead (a full rescore, in slices whose MQLs crossed the
threshold at moments spread over the last three days), and routes each
MQL at the moment it crossed. So every SDR's queue is filled, some MQLs are
due soon, some are overdue, and the newest waits because its queue is full.

Services read the time from ``django.utils.timezone.now``; ``_clock`` sets
it to the moment being played, which is how the demo's past is made by the
same code that makes the present.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from handoff import roles
from leads import demo
from leads.models import Lead, Stage
from routing.models import Queue
from routing.services import join_queue, route_mql
from routing.services.assign import match_queue
from scoring.selectors import live_model
from scoring.services import rescore_id_range, score_accounts

# MQLs crossed the threshold over this span before the seed, one slice of
# leads at a time, most of them lately (see _score_every_lead): the oldest
# are past their SLA whatever the weekday (the demo-request queue counts
# business hours only), the next are due within hours, the newest have a day.
CROSSING_SPAN = timedelta(hours=72)
SLICES = 12
MANAGER = "max.manager"


@dataclass(frozen=True)
class SeedResult:
    data: demo.DemoResult  # what leads.demo loaded (loaded=False: already there)
    mqls: int = 0
    waiting: int = 0
    seconds: float = 0.0


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    """Services see the time as ``moment`` (running on from there), so
    what they write is dated as if it happened then."""
    started = time.monotonic()
    with mock.patch.object(
        timezone, "now", lambda: moment + timedelta(seconds=time.monotonic() - started)
    ):
        yield


def seed_demo(
    *, leads: int = demo.DEFAULT_LEADS, seed: int = demo.DEFAULT_SEED, now: datetime | None = None
) -> SeedResult:
    """Loads the demo data (leads.demo) and plays what the product does with
    it. The same seed gives the same scores, MQLs and assignments every time.

    Idempotent and all or nothing, like leads.demo.load_demo: one transaction;
    when the demo is already loaded nothing is written (``data.loaded`` is False).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        data = demo.load_demo(leads=leads, seed=seed, now=now)
        if not data.loaded:
            return SeedResult(data=data)
        # Routing breaks ties between SDRs at random: seeded, so the same SDR
        # gets the same MQL every time.
        random.seed(seed)
        crossings = _score_every_lead(now=now)
        _staff_the_queues(crossings, at=now - CROSSING_SPAN - timedelta(hours=1))
        waiting = 0
        for lead_id, moment in crossings:
            with _clock(moment):
                assignment = route_mql(lead_id=lead_id)
            if assignment is not None and assignment.sdr_id is None:
                waiting += 1
        # Account (ABM) scores from the lead scores just stored, here rather
        # than in a task after commit, so the accounts are scored at once too.
        account_ids = Lead.objects.exclude(account=None).values_list("account_id", flat=True)
        score_accounts(account_ids=set(account_ids), as_of=now)
    return SeedResult(
        data=data,
        mqls=len(crossings),
        waiting=waiting,
        seconds=time.perf_counter() - started,
    )


def _score_every_lead(*, now: datetime) -> list[tuple[int, datetime]]:
    """Scores every lead under the live version, as of ``now``, in SLICES
    slices of ids, each played at its own moment over CROSSING_SPAN. Returns
    each new MQL's id and the moment it crossed, oldest first."""
    model = live_model()
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    if model is None or not ids:
        return []
    size = math.ceil(len(ids) / SLICES)
    crossings: list[tuple[int, datetime]] = []
    for number, start in enumerate(range(0, len(ids), size), start=1):
        first, last = ids[start], ids[min(start + size, len(ids)) - 1]
        # Squared: the slices crowd toward now (60 h, 50 h, 40 h ... 2 h, 0 h ago).
        moment = now - CROSSING_SPAN * (1 - number / SLICES) ** 2
        with _clock(moment):
            # Accounts are scored once, after every lead (see seed_demo).
            rescore_id_range(
                model=model, first_id=first, last_id=last, as_of=now, score_accounts=False
            )
        crossed = Lead.objects.filter(pk__gte=first, pk__lte=last, stage=Stage.MQL)
        crossings += [(pk, moment) for pk in crossed.order_by("pk").values_list("pk", flat=True)]
    return crossings


def _staff_the_queues(crossings: list[tuple[int, datetime]], *, at: datetime) -> None:
    """The manager on every queue, and every demo SDR in every queue, with
    capacities sized to the MQLs each queue will receive: a queue with a
    fallback holds all of its own; a queue with none (the catch-all) holds
    one fewer, so that its newest MQL waits, visibly, for a free SDR."""
    usernames = [u.username for u in demo.DEMO_USERS if u.role == roles.SDR]
    users = User.objects.in_bulk([*usernames, MANAGER], field_name="username")
    sdrs = [users[name] for name in usernames]
    queues = list(Queue.objects.filter(is_active=True).order_by("priority", "name"))
    # Configuration, as a manager would set it in the admin; no service owns it.
    Queue.objects.filter(pk__in=[q.pk for q in queues]).update(manager=users[MANAGER])

    # Where routing will send each MQL, judged as routing will: at its moment.
    expected: Counter[int] = Counter()
    leads = Lead.objects.select_related("account", "source").in_bulk([pk for pk, _ in crossings])
    for lead_id, moment in crossings:
        with _clock(moment):
            queue, _why = match_queue(leads[lead_id])
        if queue is not None:
            expected[queue.pk] += 1

    with _clock(at):
        for queue in queues:
            arriving = expected[queue.pk]
            for capacity, sdr in zip(_capacities(queue, arriving, len(sdrs)), sdrs, strict=True):
                join_queue(queue=queue, sdr=sdr, capacity=capacity)


def _capacities(queue: Queue, arriving: int, members: int) -> list[int]:
    """Each member's capacity: with a fallback, any one member can take every
    MQL (account-owner-first may send them all to one SDR) and nothing
    overflows; without one, the members hold one MQL fewer than arrive,
    shared as evenly as round robin shares them (in a small demo, that can
    leave a member none)."""
    if queue.fallback_id is not None:
        return [max(arriving, 1)] * members
    held = max(arriving - 1, 0)
    return [held // members + (i < held % members) for i in range(members)]
