"""Twelve weeks of the demo's past, played through the product's services.

Each week some leads ask for a demo. At that moment the lead is scored (it
crosses into MQL through scoring's own qualification), routed to a queue and
an SDR, and decided later by that SDR: accepted, rejected with a reason, or
recycled; on time or past the SLA's deadline; now and then reassigned by the
manager. Accepted leads go on as the product would take them: qualified as SQL
(BANT), an opportunity opened in the CRM, won or lost with an amount.

Everything is played with the clock set to the moment it happens (see
``config.demo._clock``), one lead after another, oldest first, so each
hand-off is decided before the next one is routed, as the rows' dates say.

The rates are chosen to tell a story the dashboard can show: acceptance sits
in the healthy band (60-75 %) most weeks, but one source (webinars) drifts
below 50 % in the last weeks; MQL volume rises in the last four weeks while
pipeline does not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from feedback.models import Opportunity
from feedback.services import qualify_sql, record_opportunity
from leads.demo import SITE
from leads.models import ActivityKind, Lead, LeadSource, Stage
from leads.services import ActivityEvent, record_activities
from routing.models import Assignment, Touch
from routing.services import accept_mql, log_touch, recycle_mql, reject_mql, route_mql
from routing.services.assign import reassign
from routing.services.decisions import RejectReason
from scoring.services.scores import score_lead

WEEKS = 12
# A demo request (30 points) and a pricing page visit (20) take a lead of this
# score or more past the default threshold (75).
MIN_SCORE = 25
# Leads asking for a demo each week: more in the last four (the rise the
# dashboard's volume alert looks for).
ATTEMPTS_PER_WEEK = 30
ATTEMPTS_PER_LATE_WEEK = 41
LATE_WEEKS = 4
# The past ends where the demo's present begins (config.demo.CROSSING_SPAN).
PAST_ENDS = timedelta(days=4)
DRIFTING_SOURCE = "webinar"
DRIFT_WEEKS = 3

# Shares of the decisions, in per cent (the rest are accepted). SDRs turn
# down most leads from industries the product serves poorly, which the
# default model does not score: the signal "recalibrate from hand-offs" finds.
REJECT_SHARE = 6
POOR_FIT_REJECT_SHARE = 90
POOR_FIT_INDUSTRIES = frozenset({"Retail", "Education", "Media", "Logistics"})
RECYCLE_SHARE = 4
DRIFT_REJECT_SHARE = 90  # the drifting source in its last weeks
LATE_SHARE = 14  # first touches after the deadline
REASSIGN_SHARE = 3  # left untouched past the deadline; the manager reassigns them

# Reasons, weighted toward those that disqualify: a lead rejected to nurture
# may qualify again on its old engagement, and the demo's present should not
# be crowded with leads sales already turned down.
REASON_WEIGHTS = {
    RejectReason.NOT_A_FIT: 40,
    RejectReason.STUDENT_OR_JOB_SEEKER: 12,
    RejectReason.DUPLICATE: 10,
    RejectReason.COMPETITOR: 8,
    RejectReason.NO_BUDGET: 6,
    RejectReason.BAD_TIMING: 5,
    RejectReason.WRONG_CONTACT: 3,
    RejectReason.NO_RESPONSE: 3,
}
SQL_SHARE = 60  # of the accepted
OPPORTUNITY_SHARE = 75  # of the SQLs
WIN_SHARE = 40  # of the opportunities closed
BANT = (
    ("Budget approved for this year", "VP signs off", "Replace spreadsheets", "This quarter"),
    ("Team budget, about 40k", "Head of sales ops", "Faster hand-off", "Within 60 days"),
    ("Needs a business case", "CFO decides", "Lead routing is manual", "Next quarter"),
)


@dataclass(frozen=True)
class HistoryResult:
    attempted: int
    handed_off: int
    lead_ids: list[int]  # every lead that asked for a demo


Clock = Callable[[datetime], AbstractContextManager[None]]


def play_history(
    *, now: datetime, rng: random.Random, manager: User, clock: Clock
) -> HistoryResult:
    """Plays the twelve weeks before ``now`` (see the module's docstring) on
    leads scored today between MIN_SCORE and the threshold: a demo request
    and a pricing page visit make them cross. The MQLs of today are left
    alone: config.demo routes them after this."""
    candidates = _candidates()
    rng.shuffle(candidates)
    plan: list[tuple[datetime, Lead]] = []
    for week in range(WEEKS, 0, -1):
        attempts = ATTEMPTS_PER_LATE_WEEK if week <= LATE_WEEKS else ATTEMPTS_PER_WEEK
        start = now - PAST_ENDS - timedelta(weeks=week)
        for _ in range(attempts):
            if not candidates:
                break
            moment = start + timedelta(seconds=rng.uniform(0, 7 * 24 * 3600))
            plan.append((_office_hours(moment), candidates.pop()))
    plan.sort(key=lambda item: (item[0], item[1].pk))
    # The demo requests, as the website's tracking would have sent them: one
    # batch, so one announcement (and one rescore task) for all of them.
    record_activities(
        events=[
            ActivityEvent(
                lead_id=lead.pk,
                kind=kind,
                occurred_at=moment - before,
                source_system="demo-history",
                external_id=f"{kind}-{lead.pk}",
                url=url,
            )
            for moment, lead in plan
            for kind, url, before in (
                (ActivityKind.PRICING_PAGE_VIEW, f"{SITE}/pricing", timedelta(minutes=4)),
                (ActivityKind.DEMO_REQUEST, f"{SITE}/demo", timedelta(0)),
            )
        ]
    )
    handed_off = 0
    for moment, lead in plan:
        with clock(moment):
            score = score_lead(lead_id=lead.pk, as_of=moment)
            if score is None or not score.qualifies:
                continue
            assignment = route_mql(lead_id=lead.pk)
        if assignment is None or assignment.sdr_id is None:
            continue
        handed_off += 1
        drifting = lead.source.slug == DRIFTING_SOURCE and moment > now - PAST_ENDS - timedelta(
            weeks=DRIFT_WEEKS
        )
        _decide(assignment, rng=rng, now=now, drifting=drifting, manager=manager, clock=clock)
    return HistoryResult(
        attempted=len(plan), handed_off=handed_off, lead_ids=[lead.pk for _, lead in plan]
    )


def _candidates() -> list[Lead]:
    """Leads that could have asked for a demo: from a source whose leads may
    become MQLs, at a company, not yet with sales, warm enough that a demo
    request would have made them cross."""
    eligible = LeadSource.objects.filter(mql_eligible=True)
    return list(
        Lead.objects.filter(
            source__in=eligible,
            # Nurture too: scoring sends a lead that fits but has not engaged there.
            stage__in=[Stage.LEAD, Stage.NURTURE],
            do_not_contact=False,
            account__isnull=False,
            score__total__gte=MIN_SCORE,
            score__qualifies=False,
        )
        .select_related("source")
        .order_by("pk")
    )


def _office_hours(moment: datetime) -> datetime:
    """The same day between 9:00 and 17:00 local time: people ask for demos,
    and SDRs answer them, mostly during the working day."""
    local = timezone.localtime(moment)
    hour = 9 + (local.hour % 8)
    return local.replace(hour=hour)


def _decide(
    assignment: Assignment,
    *,
    rng: random.Random,
    now: datetime,
    drifting: bool,
    manager: User,
    clock: Clock,
) -> None:
    """The SDR's decision on a fresh assignment, and what follows from it."""
    assert assignment.assigned_at is not None and assignment.due_at is not None
    allowed = assignment.due_at - assignment.assigned_at
    if rng.uniform(0, 100) < REASSIGN_SHARE:
        # Nobody touched it: the manager hands it to the other SDR an hour
        # after the deadline, who then decides it.
        with clock(assignment.due_at + timedelta(hours=1)):
            assignment = reassign(
                assignment=assignment,
                reason="Untouched an hour past its deadline; a colleague covers it",
                by=manager,
            )
        if assignment.sdr_id is None or assignment.assigned_at is None:
            return
        assert assignment.due_at is not None
        allowed = assignment.due_at - assignment.assigned_at
    if rng.uniform(0, 100) < LATE_SHARE:
        touched = assignment.due_at + timedelta(minutes=rng.uniform(20, 20 * 60))
    else:
        touched = assignment.assigned_at + allowed * rng.uniform(0.05, 0.9)
    sdr = assignment.sdr
    assert sdr is not None
    roll = rng.uniform(0, 100)
    account = assignment.lead.account
    poor_fit = account is not None and account.industry in POOR_FIT_INDUSTRIES
    if drifting:
        reject_share = DRIFT_REJECT_SHARE
    else:
        reject_share = POOR_FIT_REJECT_SHARE if poor_fit else REJECT_SHARE
    if rng.random() < 0.3:
        # A call first, the decision later the same day.
        with clock(touched):
            log_touch(assignment=assignment, by=sdr, kind=Touch.Kind.CALL, note="Left a voicemail")
        touched += timedelta(minutes=rng.uniform(30, 240))
    with clock(touched):
        if roll < reject_share:
            reason = rng.choices(list(REASON_WEIGHTS), weights=list(REASON_WEIGHTS.values()))[0]
            if poor_fit and rng.random() < 0.5:
                reason = RejectReason.NOT_A_FIT
            reject_mql(assignment=assignment, by=sdr, reason=reason)
            return
        if roll < reject_share + RECYCLE_SHARE:
            recycle_mql(assignment=assignment, by=sdr, note="Not ready yet; keep nurturing")
            return
        accept_mql(assignment=assignment, by=sdr)
    _pipeline(assignment, accepted_at=touched, rng=rng, now=now, clock=clock)


def _pipeline(
    assignment: Assignment,
    *,
    accepted_at: datetime,
    rng: random.Random,
    now: datetime,
    clock: Clock,
) -> None:
    """An accepted lead qualified as SQL, its opportunity opened, won or lost,
    each step only once its day has come."""
    if rng.uniform(0, 100) >= SQL_SHARE:
        return
    qualified_at = accepted_at + timedelta(days=rng.uniform(0.5, 4))
    if qualified_at >= now:
        return
    lead = Lead.objects.get(pk=assignment.lead_id)
    budget, authority, need, timeline = rng.choice(BANT)
    assert assignment.sdr is not None
    with clock(qualified_at):
        qualify_sql(
            lead=lead,
            by=assignment.sdr,
            budget=budget,
            authority=authority,
            need=need,
            timeline=timeline,
        )
    if rng.uniform(0, 100) >= OPPORTUNITY_SHARE:
        return
    opened_at = qualified_at + timedelta(days=rng.uniform(1, 8))
    if opened_at >= now:
        return
    amount = Decimal(rng.randrange(60, 900) * 100)
    crm_id = f"OPP-{lead.pk:05d}"
    name = f"{lead.account.name if lead.account else lead} - Handoff"
    with clock(opened_at):
        record_opportunity(
            crm_id=crm_id,
            lead=lead,
            amount=amount,
            status=Opportunity.Status.OPEN,
            created_on=timezone.localdate(opened_at),
            name=name,
        )
    closed_at = opened_at + timedelta(days=rng.uniform(10, 45))
    if closed_at >= now:
        return
    status = Opportunity.Status.WON if rng.uniform(0, 100) < WIN_SHARE else Opportunity.Status.LOST
    with clock(closed_at):
        record_opportunity(
            crm_id=crm_id,
            lead=lead,
            amount=amount,
            status=status,
            created_on=timezone.localdate(opened_at),
            closed_on=timezone.localdate(closed_at),
            name=name,
        )
