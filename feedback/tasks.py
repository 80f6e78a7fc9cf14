"""Feedback tasks: thin, named, ids as keyword arguments."""

from celery import shared_task

from feedback import recalibration


@shared_task(name="feedback.recalibrate")
def recalibrate(*, run_id: int) -> None:
    recalibration.run_recalibration(run_id=run_id)


@shared_task(name="feedback.scheduled_recalibration")
def scheduled_recalibration() -> None:
    """The periodic run: learns from what SDRs accepted since the last one."""
    recalibration.start_recalibration(source="handoffs", outcome="accepted")
