"""The job kit: background work tracked as a database row.

A job is a row with a status, timestamps and progress that a worker runs once
and its admin page shows. Every job type is a model inheriting ``Job`` and
goes through the same four doors:

- ``start_job`` records the row and sends its task after commit;
- ``run_job`` (called by that task) claims the row with a conditional UPDATE,
  runs the work and records how it ended;
- ``resend_jobs`` (periodic, ``handoff.resend_lost_jobs``) sends again the
  jobs whose message was lost;
- the progress partial ``handoff/job_progress.html`` shows it, polling while
  it is under way.

Claims make redelivery harmless: a message delivered twice runs the job once.
A job left running by a worker that died (Celery redelivers its message, as
tasks are acknowledged late) is claimed again once it has run longer than any
task may: the hard time limit has killed it by then, and the work of a job
commits as one transaction at its end (or not at all), so running it again is
safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

from celery import Task
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from handoff.enqueue import enqueue_each_on_commit, enqueue_on_commit

logger = logging.getLogger(__name__)

# Errors that say nothing about the job, only that the database is away for a
# moment (a restart, a failover, a dropped connection): the job is not failed
# for them, it is handed back to be run again.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)

# Options for the task that runs a job: a transient error is retried with
# backoff (never longer than the broker's visibility timeout), the rest is
# recorded on the row by run_job.
JOB_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "max_retries": 5,
}

QUEUED_FOR = timedelta(minutes=5)  # a message older than this was lost, not slow


class JobStatus(models.TextChoices):
    """Every status a job may have. A job type uses the ones that fit it (its
    own ``Status`` with these values, named and labelled its way)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """A unit of background work and what became of it.

    Written only through this module (and the job type's own service): the
    status moves queued -> running -> done, refused or failed; a running job
    whose worker died goes back to running under a new claim.
    """

    # The task that runs a job of this type (a dotted path: the kernel imports
    # no app), and the keyword argument that carries the job's id. A job type
    # run otherwise (rescores run chunk by chunk) leaves ``task`` empty.
    task: ClassVar[str] = ""
    task_id_argument: ClassVar[str] = "job_id"

    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    step = models.CharField(max_length=200, blank=True, help_text="What it is doing now.")
    message = models.TextField(blank=True, help_text="Why it was refused or failed.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_active(self) -> bool:
        """Still to be done or under way: its page keeps polling."""
        return self.status in ACTIVE_STATUSES

    @property
    def progress_done(self) -> int:
        """How much is done, in the unit of ``progress_total``."""
        raise NotImplementedError

    @property
    def progress_total(self) -> int | None:
        """How much there is to do; None while it is not known yet."""
        raise NotImplementedError

    @property
    def percent(self) -> int:
        total = self.progress_total
        if not total:
            return 100 if self.status == JobStatus.DONE else 0
        return min(100, self.progress_done * 100 // total)

    def record_progress(self, **fields: Any) -> None:
        """Writes progress fields (``step`` and the job type's counts). Call it
        outside the work's own transaction, or the job's page sees nothing
        until the end. Only the claim this object holds writes: a job claimed
        again since is not touched."""
        _claimed(type(self), self.pk, self.started_at).update(**fields)


class JobEnded(Exception):
    """Raised by a job's work to end it with ``status`` and a message for its
    page; ``fields`` are written on the row as well."""

    status: ClassVar[str]

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class JobRefused(JobEnded):
    """The input does not allow the job (a bad file, too little evidence):
    nothing was written, and running it again would end the same way."""

    status = JobStatus.REFUSED


class JobFailed(JobEnded):
    """The job could not finish for a reason its page can explain."""

    status = JobStatus.FAILED


def _abandoned(now: datetime) -> Q:
    # No task runs longer than the hard time limit: a job still running after
    # it was left by a worker that died.
    return Q(
        status=JobStatus.RUNNING,
        started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
    )


def _claimed[J: Job](model: type[J], pk: int, started_at: datetime | None) -> models.QuerySet[J]:
    # started_at is the claim's token: only the run that claimed it may write.
    return model._default_manager.filter(pk=pk, status=JobStatus.RUNNING, started_at=started_at)


def claim_job[J: Job](model: type[J], *, pk: int) -> J | None:
    """Claims a queued or abandoned job for this worker; None when it is gone,
    finished, or running under another live claim.

    One conditional UPDATE: of two workers handed the same job, exactly one
    changes the row.
    """
    now = timezone.now()
    claimed = model._default_manager.filter(
        Q(status=JobStatus.QUEUED) | _abandoned(now), pk=pk
    ).update(status=JobStatus.RUNNING, started_at=now, finished_at=None)
    if claimed != 1:
        return None
    return model._default_manager.get(pk=pk)


def run_job[J: Job](model: type[J], *, pk: int, work: Callable[[J], dict[str, Any] | None]) -> bool:
    """Runs a job once: claims it, calls ``work(job)`` and records the outcome.
    Returns False when there was nothing to claim.

    - ``work`` returns the fields to write with the status done (or None);
    - it raises JobRefused or JobFailed to end the job with their message;
    - a transient database error hands the job back (queued) and is raised
      again, for the task to retry: the job is not failed for it;
    - any other error fails the job with the error as its message.
    """
    job = claim_job(model, pk=pk)
    if job is None:
        return False
    claim = _claimed(model, pk, job.started_at)
    try:
        fields = work(job) or {}
    except JobEnded as ended:
        claim.update(
            status=ended.status, message=ended.message, finished_at=timezone.now(), **ended.fields
        )
    except TRANSIENT_ERRORS:
        _hand_back(model, pk, job.started_at)
        raise
    except Exception as error:
        logger.exception("%s %s failed", model.__name__, pk)
        claim.update(
            status=JobStatus.FAILED,
            message=f"Unexpected error: {error!r}",
            finished_at=timezone.now(),
        )
    else:
        claim.update(status=JobStatus.DONE, finished_at=timezone.now(), **fields)
    return True


def _hand_back(model: type[Job], pk: int, started_at: datetime | None) -> None:
    try:
        _claimed(model, pk, started_at).update(status=JobStatus.QUEUED, started_at=None)
    except DatabaseError:
        # Still away: the job stays running until it counts as abandoned, and
        # the sweep sends it again then.
        logger.warning(
            "Could not hand back %s %s; it is claimed again once abandoned.", model.__name__, pk
        )


def job_task(model: type[Job]) -> Task:
    return import_string(model.task)


def start_job[J: Job](model: type[J], **fields: Any) -> J:
    """Records a queued job and sends its task once the row is committed.

    A message lost to a broker outage is sent again by resend_jobs.
    """
    with transaction.atomic():
        job = model._default_manager.create(**fields)
        enqueue_on_commit(job_task(model), **{model.task_id_argument: job.pk})
    return job


def resend_jobs(model: type[Job], *, queued_for: timedelta = QUEUED_FOR) -> int:
    """Sends the task again for each job whose message was lost: queued for
    longer than ``queued_for`` (the broker was down when it started, or the
    message is stuck), or abandoned by a worker that died (its redelivered
    message may wait for the broker's visibility timeout). The claim makes a
    message sent twice run the job once. Returns how many were sent."""
    now = timezone.now()
    lost = model._default_manager.filter(
        Q(status=JobStatus.QUEUED, created_at__lt=now - queued_for) | _abandoned(now)
    )
    ids = list(lost.order_by("pk").values_list("pk", flat=True))
    task = job_task(model)
    enqueue_each_on_commit(task, [{model.task_id_argument: pk} for pk in ids])
    if ids:
        logger.warning("Sent again %d %s message(s) for jobs lost or left.", len(ids), task.name)
    return len(ids)


def job_models() -> Iterator[type[Job]]:
    """Every installed job type that runs as one task."""
    for model in apps.get_models():
        if issubclass(model, Job) and model.task:
            yield model


def resend_lost_jobs() -> dict[str, int]:
    """resend_jobs for every job type; how many were sent, by model label."""
    return {model._meta.label: resend_jobs(model) for model in job_models()}
