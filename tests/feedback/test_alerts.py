"""The dashboard's alerts reach the sales managers as notices when they fire."""

from django.utils import timezone

from feedback.alerts import tell_about_alerts
from feedback.rollup import refresh_weekly_counts
from handoff.models import Notice, NoticeKind
from routing.models import Queue
from routing.services import accept_mql, reject_mql
from tests.routing.test_queue_pages import mql_for, seat


def test_low_acceptance_reaches_each_manager_once_a_week(db, sdr, manager, marketing_ops):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    accept_mql(assignment=mql_for(sdr, 0), by=sdr)
    for n in range(1, 11):
        reject_mql(assignment=mql_for(sdr, n), by=sdr, reason="not_a_fit")
    now = timezone.now()
    refresh_weekly_counts(now=now)

    assert tell_about_alerts(now=now) == 1

    notice = Notice.objects.get(kind=NoticeKind.ALERT)
    assert notice.user == manager
    assert notice.text.startswith("Dashboard alert: Acceptance is 9.1 %, under 50 % (1 of 11")
    assert notice.link == "/manager/"
    assert tell_about_alerts(now=now) == 0  # already told this week


def test_no_alert_no_notice(db, manager):
    refresh_weekly_counts()
    assert tell_about_alerts() == 0
    assert not Notice.objects.exists()
