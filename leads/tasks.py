"""Celery tasks of the leads app: thin, named, ids as keyword arguments."""

from celery import shared_task

from leads import importing


@shared_task(name="leads.run_import")
def run_import(*, job_id: int) -> None:
    """Run a queued lead import; a job that is gone or already claimed is left alone."""
    importing.run_import_job(job_id=job_id)


@shared_task(name="leads.resend_queued_imports")
def resend_queued_imports() -> None:
    """Periodic: sends again the imports whose message was lost."""
    importing.resend_queued_imports()
