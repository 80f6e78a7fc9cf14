"""Feedback tasks: thin, named, ids as keyword arguments."""

from celery import shared_task

from feedback import recalibration, rollup


@shared_task(name="feedback.recalibrate")
def recalibrate(*, run_id: int) -> None:
    recalibration.run_recalibration(run_id=run_id)


@shared_task(name="feedback.resend_queued_recalibrations")
def resend_queued_recalibrations() -> None:
    """Periodic: sends again the recalibrations whose message was lost."""
    recalibration.resend_queued_recalibrations()


@shared_task(name="feedback.scheduled_recalibration")
def scheduled_recalibration() -> None:
    """The periodic run: learns from what SDRs accepted since the last one."""
    recalibration.start_recalibration(source="handoffs", outcome="accepted")


@shared_task(name="feedback.refresh_weekly_counts")
def refresh_dashboard_rollup() -> None:
    """Keeps the manager dashboard's weekly rollup current."""
    rollup.refresh_weekly_counts()


@shared_task(name="feedback.rebuild_weekly_counts")
def rebuild_weekly_counts() -> None:
    """Nightly: recomputes every week, so rewritten history (a merge) is corrected."""
    rollup.WEEKLY_ROLLUP.rebuild()
