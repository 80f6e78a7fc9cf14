"""The dashboard's alerts, told to the sales managers when they fire, so a
manager who does not open the dashboard still learns that acceptance fell or
MQL volume rose without pipeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback.forms import DEFAULT_WEEKS
from feedback.metrics import MetricFilters, dashboard_report
from feedback.rollup import week_of
from handoff.models import NoticeKind
from handoff.notices.services import notify
from handoff.roles import SALES_MANAGER


@transaction.atomic
def tell_about_alerts(*, now: datetime | None = None) -> int:
    """Tells each sales manager the alerts the dashboard shows by default
    (the last twelve weeks, every source and queue). Each alert reaches a
    manager once a week at most while it holds (one notice per person, alert
    and week), by the channels they chose. Returns how many notices were made."""
    now = now or timezone.now()
    this_week = week_of(now)
    filters = MetricFilters(
        first_week=this_week - timedelta(weeks=DEFAULT_WEEKS - 1), last_week=this_week
    )
    alerts = dashboard_report(filters, now=now).alerts
    if not alerts:
        return 0
    told = 0
    for manager in User.objects.filter(groups__name=SALES_MANAGER, is_active=True).order_by("pk"):
        for alert in alerts:
            notice = notify(
                user=manager,
                kind=NoticeKind.ALERT,
                text=f"Dashboard alert: {alert.title}",
                link="/manager/",
                about=f"alert:{alert.kind}:{this_week.isoformat()}",
            )
            told += notice is not None
    return told
