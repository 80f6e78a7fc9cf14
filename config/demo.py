"""The demo, ready the moment the login page answers.

``leads.demo`` writes the people, companies and events. This module, at the
top of the project, then does what the product would have done as those
leads arrived, through the product's own services (never by writing scores
or assignments around them): it scores every lead (a full rescore, in
slices whose MQLs crossed the threshold at moments spread over the last three
days), puts the SDRs in the queues and a manager on each, plays twelve weeks
of decided hand-offs (``config.demo_history``), routes each of today's MQLs
at the moment it crossed, submits a new version of the MQL definition for
the manager's approval and builds the reports' rollups. So every SDR's queue
is filled, some MQLs are due soon, some are overdue, the newest waits because
its queue is full, and the manager's dashboard and SLA page have history.

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
from django.db.models import Max
from django.utils import timezone

from config.demo_history import WEEKS, play_history
from feedback.rollup import refresh_weekly_counts
from handoff import enqueue, roles
from handoff.notices.services import settle_past_notices
from leads import demo
from leads.models import Lead, Stage
from routing.models import Membership, Queue
from routing.services import join_queue, route_mql, set_queue_manager, update_membership
from routing.services.assign import match_queue
from routing.services.sla_rollup import refresh_sla_rollup
from scoring.models import MQLSnapshot
from scoring.selectors import live_model
from scoring.services import rescore_id_range, rescore_leads, score_accounts
from scoring.services.rules import update_model_settings
from scoring.services.versions import clone_model, submit_model

# MQLs crossed the threshold over this span before the seed, one slice of
# leads at a time, most of them lately (see _score_every_lead): the oldest
# are past their SLA whatever the weekday (the demo-request queue counts
# business hours only), the next are due within hours, the newest have a day.
CROSSING_SPAN = timedelta(hours=72)
SLICES = 12
MANAGER = "max.manager"
OPS = "mo.ops"
# How far back the demo's history of hand-offs goes (config.demo_history).
HISTORY_SPAN = timedelta(weeks=WEEKS)
# Seats while the history plays: each of its hand-offs is decided before the
# next arrives, so any capacity of one or more would do.
HISTORY_CAPACITY = 25


@dataclass(frozen=True)
class SeedResult:
    data: demo.DemoResult  # what leads.demo loaded (loaded=False: already there)
    handed_off: int = 0  # MQLs of the twelve weeks of history, all decided
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


@contextmanager
def _messages_of_the_past_unsent() -> Iterator[None]:
    """What the services ask the workers to do after commit (deliver a
    notice, offer a queue's waiting leads, rescore a lead) is not sent for
    the history: it was done at the time. The seed does the rest itself
    (scores every lead, routes every MQL, settles the past's notices), and
    every such message has a periodic sweep behind it should one be missing."""
    with mock.patch.object(enqueue.transaction, "on_commit", lambda *args, **kwargs: None):
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
        manager = _staff_the_queues(at=now - HISTORY_SPAN - timedelta(days=7))
        # The past next: its hand-offs are decided long before the present's
        # MQLs are routed, so they leave the seats as they found them.
        with _messages_of_the_past_unsent():
            history = play_history(now=now, rng=random.Random(seed), manager=manager, clock=_clock)
        settle_past_notices(before=now - CROSSING_SPAN - timedelta(hours=1))
        crossings += _score_the_past_again(history.lead_ids, at=now - timedelta(hours=2))
        _size_the_seats(crossings, at=now - CROSSING_SPAN - timedelta(hours=1))
        waiting = 0
        crossed_at = _crossing_times([lead_id for lead_id, _ in crossings])
        for lead_id, moment in crossings:
            # Routed once it crossed: the clock runs on inside each scoring
            # slice, so a crossing is dated a little after its slice's moment,
            # and the SDR's lead page shows the snapshot taken up to the
            # assignment (what sales saw at hand-off).
            with _clock(max(moment, crossed_at.get(lead_id, moment))):
                assignment = route_mql(lead_id=lead_id)
            if assignment is not None and assignment.sdr_id is None:
                waiting += 1
        # Account (ABM) scores from the lead scores just stored, here rather
        # than in a task after commit, so the accounts are scored at once too.
        account_ids = Lead.objects.exclude(account=None).values_list("account_id", flat=True)
        score_accounts(account_ids=set(account_ids), as_of=now)
        _propose_a_new_version(at=now - timedelta(days=1))
        # The reports' rollups, built now rather than by the first refresh
        # task, so the dashboard and the SLA page show the history at once.
        refresh_weekly_counts(now=now, full=True)
        refresh_sla_rollup(now=now, full=True)
    return SeedResult(
        data=data,
        handed_off=history.handed_off,
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


def _crossing_times(lead_ids: list[int]) -> dict[int, datetime]:
    """Each lead's latest MQL crossing, as its snapshot dates it."""
    return dict(
        MQLSnapshot.objects.filter(lead_id__in=lead_ids)
        .order_by()
        .values("lead_id")
        .annotate(at=Max("created_at"))
        .values_list("lead_id", "at")
    )


def _score_the_past_again(lead_ids: list[int], *, at: datetime) -> list[tuple[int, datetime]]:
    """The history's leads scored as of today, as every other lead was. One
    sales sent back to marketing (rejected to nurture, or recycled) whose
    engagement still qualifies crosses again: an MQL of the present."""
    with _clock(at):
        rescore_leads(lead_ids=lead_ids, as_of=at)
    again = Lead.objects.filter(pk__in=lead_ids, stage=Stage.MQL).order_by("pk")
    return [(pk, at) for pk in again.values_list("pk", flat=True)]


def _staff_the_queues(*, at: datetime) -> User:
    """The manager on every queue, and every demo SDR in every queue, as they
    were when the history began. Returns the manager."""
    usernames = [u.username for u in demo.DEMO_USERS if u.role == roles.SDR]
    users = User.objects.in_bulk([*usernames, MANAGER], field_name="username")
    sdrs = [users[name] for name in usernames]
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    with _clock(at):
        for queue in Queue.objects.filter(is_active=True).order_by("priority", "name"):
            set_queue_manager(queue=queue, manager=users[MANAGER], by=admin)
            for sdr in sdrs:
                join_queue(queue=queue, sdr=sdr, capacity=HISTORY_CAPACITY)
    return users[MANAGER]


def _size_the_seats(crossings: list[tuple[int, datetime]], *, at: datetime) -> None:
    """Capacities sized to the MQLs each queue will receive now: a queue with
    a fallback holds all of its own; a queue with none (the catch-all) holds
    one fewer, so that its newest MQL waits, visibly, for a free SDR."""
    # Where routing will send each MQL, judged as routing will: at its moment.
    expected: Counter[int] = Counter()
    leads = Lead.objects.select_related("account", "source").in_bulk([pk for pk, _ in crossings])
    for lead_id, moment in crossings:
        with _clock(moment):
            queue, _why = match_queue(leads[lead_id])
        if queue is not None:
            expected[queue.pk] += 1

    memberships = Membership.objects.select_related("queue").order_by("queue__priority", "pk")
    by_queue: dict[int, list[Membership]] = {}
    for membership in memberships:
        by_queue.setdefault(membership.queue_id, []).append(membership)
    with _clock(at):
        for seats in by_queue.values():
            queue = seats[0].queue
            capacities = _capacities(queue, expected[queue.pk], len(seats))
            for capacity, seat in zip(capacities, seats, strict=True):
                update_membership(
                    membership=seat,
                    capacity=capacity,
                    weight=seat.weight,
                    is_active=seat.is_active,
                    away_until=seat.away_until,
                )


def _propose_a_new_version(*, at: datetime) -> None:
    """Marketing ops' next version of the MQL definition, submitted and
    waiting for the sales manager's approval."""
    model = live_model()
    ops = User.objects.filter(username=OPS).first()
    if model is None or ops is None:
        return
    with _clock(at):
        draft = clone_model(source=model, by=ops, name=f"{model.name}, stricter")
        update_model_settings(
            model=draft,
            by=ops,
            threshold=model.threshold + 5,
            notes="Webinar MQLs are being rejected: raise the bar by 5 points.",
        )
        submit_model(model=draft, by=ops)


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
