"""Celery tasks of the leads app: thin, named, ids as keyword arguments."""

from celery import shared_task
from django.conf import settings

from handoff.jobs import JOB_TASK_OPTIONS
from leads import duplicates, importing, retention


@shared_task(name="leads.run_import", **JOB_TASK_OPTIONS)
def run_import(*, job_id: int) -> None:
    """Run a queued lead import; a job that is gone or already claimed is left alone."""
    importing.run_import_job(job_id=job_id)


@shared_task(name="leads.delete_old_import_files")
def expire_import_files() -> int:
    """Uploaded import files older than IMPORT_FILE_RETENTION_DAYS go."""
    return retention.delete_old_import_files(days=settings.IMPORT_FILE_RETENTION_DAYS)


@shared_task(name="leads.remove_old_activities")
def expire_activities() -> int:
    """Activities older than ACTIVITY_RETENTION_DAYS go, when that is set (not 0)."""
    if not settings.ACTIVITY_RETENTION_DAYS:
        return 0
    return retention.remove_old_activities(days=settings.ACTIVITY_RETENTION_DAYS)


@shared_task(name="leads.find_duplicate_candidates")
def find_duplicate_candidates() -> int:
    """Records the likely duplicate pairs not yet known; returns how many."""
    return duplicates.find_duplicate_candidates().total
