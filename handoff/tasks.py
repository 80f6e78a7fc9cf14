"""Kernel tasks: thin, named."""

from celery import shared_task

from handoff import jobs


@shared_task(name="handoff.resend_lost_jobs")
def resend_lost_jobs() -> None:
    """Periodic: sends again every job whose message was lost or whose worker died."""
    jobs.resend_lost_jobs()
