"""Celery tasks of the leads app: thin, named, ids as keyword arguments."""

from celery import shared_task

from handoff.jobs import JOB_TASK_OPTIONS
from leads import importing


@shared_task(name="leads.run_import", **JOB_TASK_OPTIONS)
def run_import(*, job_id: int) -> None:
    """Run a queued lead import; a job that is gone or already claimed is left alone."""
    importing.run_import_job(job_id=job_id)
