"""Feedback tasks: thin, named, ids as keyword arguments."""

from datetime import date

from celery import shared_task

from feedback import alerts, digest, recalibration, rollup
from handoff.jobs import JOB_TASK_OPTIONS


@shared_task(name="feedback.recalibrate", **JOB_TASK_OPTIONS)
def recalibrate(*, run_id: int) -> None:
    """Runs a queued recalibration; one that is gone or already claimed is left alone."""
    recalibration.run_recalibration(run_id=run_id)


@shared_task(name="feedback.scheduled_recalibration")
def scheduled_recalibration() -> None:
    """The periodic run: learns from what SDRs accepted since the last one."""
    recalibration.start_recalibration(source="handoffs", outcome="accepted")


@shared_task(name="feedback.refresh_weekly_counts")
def refresh_dashboard_rollup() -> None:
    """Keeps the manager dashboard's weekly rollup current, then tells the
    managers of an alert it now shows."""
    rollup.refresh_weekly_counts()
    alerts.tell_about_alerts()


@shared_task(name="feedback.rebuild_weekly_counts")
def rebuild_weekly_counts() -> None:
    """Nightly: recomputes every week, so rewritten history (a merge) is corrected."""
    rollup.WEEKLY_ROLLUP.rebuild()


@shared_task(name="feedback.send_weekly_digest")
def send_weekly_digest() -> None:
    """Weekly: last week's digest to managers and marketing ops."""
    digest.send_weekly_digest()


@shared_task(
    name="feedback.email_weekly_digest",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=8,
)
def email_weekly_digest(*, user_id: int, week: str) -> None:
    """Emails one reader a week's digest; a mail server that is down is tried again."""
    digest.email_digest(user_id=user_id, week=date.fromisoformat(week))
