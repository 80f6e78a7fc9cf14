"""How long Handoff keeps what it no longer needs: uploaded import files, and
(when a site asks for it) old activities. Both run on the beat schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import Activity, ImportJob
from leads.signals import leads_changed

ENDED = [ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.REFUSED]


def delete_old_import_files(*, days: int, now: datetime | None = None) -> int:
    """Deletes the uploaded files of imports started more than ``days`` ago
    and since ended (a running import still reads its file). The job's row
    stays, with its counts and errors; only the file goes. Returns how many
    files were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff, status__in=ENDED).exclude(file=""):
        # The file first: a row left pointing at nothing is the harmless half
        # (erasure and this sweep skip a missing file), and the next pass clears it.
        job.file.storage.delete(str(job.file.name))
        ImportJob.objects.filter(pk=job.pk).update(file="")
        deleted += 1
    return deleted


def remove_old_activities(*, days: int, batch_size: int = 5000, now: datetime | None = None) -> int:
    """Deletes activities that occurred more than ``days`` ago, a batch per
    transaction so no lock is held for long, and has the leads they belonged
    to rescored (``leads_changed``): their scores no longer count them.
    Returns how many activities were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Activity.objects.filter(occurred_at__lt=cutoff)
                .order_by("id")
                .values_list("id", "lead_id")[:batch_size]
            )
            if not batch:
                return removed
            Activity.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
            leads_changed.send(sender=Activity, lead_ids={lead_id for _, lead_id in batch})
        removed += len(batch)
