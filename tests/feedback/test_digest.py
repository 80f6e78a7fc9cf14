"""The weekly digest: last week's acceptance, funnel, breaches, alerts and
versions waiting, emailed once a week to managers and marketing ops."""

from datetime import timedelta

from django.utils import timezone

from feedback.digest import send_weekly_digest
from feedback.rollup import refresh_weekly_counts
from handoff.models import Notice, NoticeKind
from routing.models import Queue
from routing.services import accept_mql
from scoring import services as scoring
from scoring.selectors import live_model
from tests.routing.test_queue_pages import mql_for, seat


def test_managers_and_marketing_ops_get_last_weeks_digest_once(
    db,
    sdr,
    manager,
    marketing_ops,
    celery_eager,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    for person, email in ((manager, "max@example.com"), (marketing_ops, "mo@example.com")):
        person.email = email
        person.save()
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    accept_mql(assignment=mql_for(sdr, 1), by=sdr)
    draft = scoring.clone_model(source=live_model(), by=marketing_ops, name="Stricter")
    scoring.submit_model(model=draft, by=marketing_ops)
    mailoutbox.clear()  # the approval notice's own email
    next_week = timezone.now() + timedelta(weeks=1)
    refresh_weekly_counts(now=next_week)

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digest(now=next_week) == 2

    assert sorted(m.to[0] for m in mailoutbox) == ["max@example.com", "mo@example.com"]
    body = mailoutbox[0].body
    assert mailoutbox[0].subject.startswith("[Handoff] Weekly digest, week of ")
    assert "All: 100.0 % (1 of 1 decided; above)" in body
    assert "  MQL: 1\n" in body
    assert "  SAL: 1 (100.0 % of the step before)" in body
    assert f"v{draft.version} Stricter: http" in body
    assert Notice.objects.filter(kind=NoticeKind.DIGEST).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digest(now=next_week) == 0
    assert len(mailoutbox) == 2


def test_the_digest_says_so_when_nothing_happened(
    db, manager, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    manager.email = "max@example.com"
    manager.save()

    with django_capture_on_commit_callbacks(execute=True):
        send_weekly_digest()

    (mail,) = mailoutbox
    assert "All: n/a (0 of 0 decided; n/a)" in mail.body
    assert "ALERTS\n  None this week." in mail.body
    assert "SCORING VERSIONS WAITING FOR APPROVAL\n  None." in mail.body
