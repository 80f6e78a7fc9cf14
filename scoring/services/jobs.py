"""Rescoring many leads: jobs split into chunks that any worker can take.

A chunk is scored and marked done in one transaction, while its row is locked:
a worker that dies mid-chunk leaves it pending (its transaction rolls back), a
redelivered or re-enqueued message finds it pending and does it once, and two
workers never do the same chunk at the same time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from handoff.enqueue import enqueue_each_on_commit
from leads.models import Activity, Lead
from scoring.models import JobStatus, RescoreChunk, RescoreJob, ScoringModel
from scoring.selectors import compiled_model, live_model
from scoring.services.accounts import score_accounts_on_commit
from scoring.services.scores import rescore_id_range, rescore_leads

logger = logging.getLogger(__name__)


def _chunk_bounds(*, size: int, engaged_since=None) -> list[tuple[int, int, int]]:
    """(first id, last id, lead count) of consecutive chunks of ``size`` leads."""
    leads = Lead.objects.all()
    if engaged_since is not None:
        leads = leads.filter(
            pk__in=Activity.objects.filter(occurred_at__gte=engaged_since).values("lead_id")
        )
    # Numbered and grouped by the database: reading every id into Python took
    # seconds and a gigabyte of memory at ten million leads.
    query, params = leads.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(pk), MAX(pk), COUNT(*) FROM (SELECT pk, (ROW_NUMBER() OVER "
            f"(ORDER BY pk) - 1) / %s AS n FROM ({query}) l) numbered GROUP BY n ORDER BY n",
            [size, *params],
        )
        return [tuple(row) for row in cursor.fetchall()]


@transaction.atomic
def start_rescore(
    *, model: ScoringModel, reason: str, by: User | None = None, engaged_since=None
) -> RescoreJob:
    """Creates a job with its chunks and enqueues every chunk after commit."""
    from scoring.tasks import rescore_chunk

    bounds = _chunk_bounds(size=settings.RESCORE_CHUNK_SIZE, engaged_since=engaged_since)
    now = timezone.now()
    job = RescoreJob.objects.create(
        model=model,
        reason=reason,
        as_of=now,
        started_at=now,  # running from the start: its chunks are its queue
        engaged_since=engaged_since,
        created_by=by if by is not None and by.is_authenticated else None,
        chunks_total=len(bounds),
        leads_total=sum(n for _, _, n in bounds),
    )
    chunks = RescoreChunk.objects.bulk_create(
        RescoreChunk(job=job, first_lead_id=first, last_lead_id=last) for first, last, _ in bounds
    )
    if not chunks:
        job.status, job.finished_at = JobStatus.DONE, now
        job.save(update_fields=["status", "finished_at"])
    # A chunk whose message is lost stays pending, and the sweep sends it again.
    enqueue_each_on_commit(rescore_chunk, [{"chunk_id": c.pk} for c in chunks])
    return job


def start_decay_rescore() -> RescoreJob | None:
    """Rescores only the leads whose engagement can still change: those with an
    activity inside the live model's longest look-back window (plus a day, so
    an activity that just left the window is scored out)."""
    model = live_model()
    if model is None:
        return None
    window = compiled_model(model).max_window_days
    if not window:
        return None
    return start_rescore(
        model=model,
        reason=RescoreJob.Reason.DECAY,
        engaged_since=timezone.now() - timedelta(days=window + 1),
    )


def run_rescore_chunk(*, chunk_id: int) -> bool:
    """Scores one chunk if it is still pending. Returns whether it did."""
    with transaction.atomic():
        # Only the chunk's row is locked (of=self). Locking the rows joined by
        # select_related too (the job and its model) made every other worker's
        # SKIP LOCKED find nothing while one chunk ran: chunks ran one at a
        # time, and the others' messages were dropped until the sweep.
        chunk = (
            RescoreChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("job__model")
            .filter(pk=chunk_id, status=RescoreChunk.Status.PENDING)
            .first()
        )
        if chunk is None:
            return False  # done already, or another worker holds it right now
        job = chunk.job
        if job.status != JobStatus.RUNNING:
            return False
        # Accounts are scored once, when the job closes: an account's contacts
        # spread over many chunks, and scoring it after each of them scored a
        # million accounts for a hundred thousand, long after the job was done.
        result = rescore_id_range(
            model=job.model,
            first_id=chunk.first_lead_id,
            last_id=chunk.last_lead_id,
            as_of=job.as_of,
            engaged_since=job.engaged_since,
            score_accounts=False,
        )
        chunk.status, chunk.finished_at = RescoreChunk.Status.DONE, timezone.now()
        chunk.leads_scored = result.scored
        chunk.save(update_fields=["status", "finished_at", "leads_scored"])
        # Counted only while the job still runs. This UPDATE and a publish's
        # cancel of the job lock the job's row in turn: a chunk counted first
        # commits before the cancel does; a chunk of a job cancelled meanwhile
        # is rolled back whole, so no score of the old version lands after it.
        counted = RescoreJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            chunks_done=F("chunks_done") + 1,
            leads_scored=F("leads_scored") + result.scored,
            scores_changed=F("scores_changed") + result.changed,
            became_mql=F("became_mql") + result.became_mql,
        )
        if not counted:
            transaction.set_rollback(True)
            return False
        # The last chunk to finish closes the job (the condition makes it once).
        closed = RescoreJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, chunks_done=F("chunks_total")
        ).update(status=JobStatus.DONE, finished_at=timezone.now())
        if closed:
            score_accounts_of_job(job)
    return True


ACCOUNTS_PER_MESSAGE = 5000


def score_accounts_of_job(job: RescoreJob) -> int:
    """Queues, after commit, the scoring of every account with a lead the job
    rescored, in messages of ACCOUNTS_PER_MESSAGE. Returns how many accounts."""
    leads = Lead.objects.filter(account__isnull=False)
    if job.engaged_since is not None:
        leads = leads.filter(
            pk__in=Activity.objects.filter(occurred_at__gte=job.engaged_since).values("lead_id")
        )
    account_ids = sorted(set(leads.order_by().values_list("account_id", flat=True)))
    for start in range(0, len(account_ids), ACCOUNTS_PER_MESSAGE):
        score_accounts_on_commit(account_ids=account_ids[start : start + ACCOUNTS_PER_MESSAGE])
    return len(account_ids)


def sweep_unscored_leads(
    *,
    batch: int = 1000,
    stale_after: timedelta = timedelta(minutes=5),
    settle: timedelta = timedelta(seconds=30),
) -> dict[str, int]:
    """Catches up on work whose message was lost (a broker outage, a crash).

    - rescores leads with an event that arrived after their score, except
      events of the last ``settle``, left to the rescore each one enqueued;
    - re-enqueues chunks of running jobs that are still pending after
      ``stale_after``.
    """
    from scoring.tasks import rescore_chunk

    # Events of the last day that arrived after their lead was last scored.
    now = timezone.now()
    behind = (
        Activity.objects.filter(
            received_at__gte=now - timedelta(days=1), received_at__lt=now - settle
        )
        .filter(Q(lead__score__isnull=True) | Q(received_at__gt=F("lead__score__scored_at")))
        .values_list("lead_id", flat=True)
        .distinct()[:batch]
    )
    lead_ids = list(behind)
    if lead_ids:
        rescore_leads(lead_ids=lead_ids)
    stale = list(
        RescoreChunk.objects.filter(
            status=RescoreChunk.Status.PENDING,
            job__status=JobStatus.RUNNING,
            job__created_at__lt=timezone.now() - stale_after,
        ).values_list("pk", flat=True)[:batch]
    )
    enqueue_each_on_commit(rescore_chunk, [{"chunk_id": chunk_id} for chunk_id in stale])
    if lead_ids or stale:
        logger.info("Sweep rescored %d leads and re-enqueued %d chunks", len(lead_ids), len(stale))
    return {"leads": len(lead_ids), "chunks": len(stale)}
