"""The weekly digest: last week's hand-off in one email to each sales manager
and marketing ops person, so they need not open the dashboard to learn that
something drifted.

It says acceptance against the healthy band (overall, by source and by
queue), the funnel, the SLA's breaches, the dashboard's alerts and the
scoring versions waiting for approval. ``send_weekly_digest`` records a
notice per person and week (the kernel's notices are once per person, kind
and event), so a second run of the same week sends nothing; the email itself
goes after commit, from a task that retries a mail server that is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from feedback.metrics import HEALTHY_BAND, MetricFilters, dashboard_report
from feedback.rollup import week_of
from handoff.enqueue import enqueue_on_commit
from handoff.models import NoticeKind
from handoff.notices.services import notify
from handoff.roles import MARKETING_OPS, SALES_MANAGER
from routing.reports.filters import SLAFilters
from routing.reports.queries import breaches_by_queue, sla_summary
from scoring.models import ModelStatus, ScoringModel


@dataclass(frozen=True)
class Digest:
    week: date  # the Monday of the week it reports
    subject: str
    body: str
    summary: str  # one line, for the notice in the app


def weekly_digest(*, now: datetime) -> Digest:
    """The digest of the last whole week before ``now``."""
    week = week_of(now) - timedelta(weeks=1)
    report = dashboard_report(MetricFilters(first_week=week, last_week=week), now=now)
    sla_filters = SLAFilters(start=week, end=week + timedelta(days=6))
    sla = sla_summary(sla_filters, now=now)
    waiting = list(
        ScoringModel.objects.filter(status=ModelStatus.SUBMITTED).order_by("submitted_at")
    )
    low, high = HEALTHY_BAND
    rate = f"{report.total.rate:.1f} %" if report.total.rate is not None else "n/a"
    context = {
        "week": week,
        "week_end": week + timedelta(days=6),
        "report": report,
        "rate": rate,
        "band": (low, high),
        "sla": sla,
        "breaches_by_queue": breaches_by_queue(sla_filters, now=now),
        "waiting": waiting,
        "site": settings.SITE_URL.rstrip("/"),
    }
    breaches = f"{sla.breached:,} SLA breach{'es' if sla.breached != 1 else ''}"
    summary = (
        f"Week of {week:%d %b %Y}: acceptance {rate} ({report.total.band_text}), {breaches}"
        f", {len(report.alerts):,} alert{'s' if len(report.alerts) != 1 else ''}."
    )
    return Digest(
        week=week,
        subject=f"[Handoff] Weekly digest, week of {week:%d %b %Y}",
        body=render_to_string("feedback/weekly_digest.txt", context),
        summary=summary,
    )


def digest_readers() -> list[User]:
    """Sales managers and marketing ops with an email address."""
    return list(
        User.objects.filter(groups__name__in=[SALES_MANAGER, MARKETING_OPS], is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def send_weekly_digest(*, now: datetime | None = None) -> int:
    """Tells each reader of last week's digest (a notice in the app) and
    emails it after commit. Once per person and week: a repeated run finds
    the notice already there and sends nothing. Returns how many were sent."""
    from feedback.tasks import email_weekly_digest

    now = now or timezone.now()
    digest = weekly_digest(now=now)
    sent = 0
    for reader in digest_readers():
        notice = notify(
            user=reader,
            kind=NoticeKind.DIGEST,
            text=digest.summary,
            link="/manager/" if reader.groups.filter(name=SALES_MANAGER).exists() else "",
            about=f"digest:{digest.week.isoformat()}",
        )
        if notice is None:
            continue
        enqueue_on_commit(email_weekly_digest, user_id=reader.pk, week=digest.week.isoformat())
        sent += 1
    return sent


def email_digest(*, user_id: int, week: date) -> bool:
    """Emails one reader the digest of ``week`` (computed now, from the
    rollup). False when the reader is gone or has no address."""
    reader = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if reader is None:
        return False
    # The digest of ``week`` is the one computed in the week after it.
    monday = timezone.make_aware(datetime.combine(week, datetime.min.time()))
    digest = weekly_digest(now=monday + timedelta(weeks=1, days=1))
    EmailMessage(subject=digest.subject, body=digest.body, to=[reader.email]).send()
    return True
