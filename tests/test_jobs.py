"""The job kit (handoff.jobs): one claim, one runner, one start, one resend,
for every job type."""

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from feedback import tasks as feedback_tasks
from feedback.models import Recalibration
from feedback.recalibration import run_recalibration
from handoff import jobs
from handoff.jobs import Job, JobRefused, JobStatus
from leads import tasks as lead_tasks
from leads.models import ImportJob
from scoring.models import RescoreJob


def queued_run() -> Recalibration:
    return Recalibration.objects.create(source="history", outcome="known")


def abandoned(job: Job, settings) -> None:
    """As a worker that died leaves it: running, since longer than any task may run."""
    started = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    type(job).objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=started)


@pytest.mark.parametrize("model", [ImportJob, Recalibration, RescoreJob])
def test_every_job_type_speaks_the_kits_statuses(model):
    values = {value for value, _ in model._meta.get_field("status").choices}

    assert values <= set(JobStatus.values)
    assert {JobStatus.RUNNING, JobStatus.DONE} <= values


def test_the_sweep_covers_every_job_type_run_by_a_task():
    assert sorted(model._meta.label for model in jobs.job_models()) == [
        "feedback.Recalibration",
        "leads.ImportJob",
    ]


def test_a_job_is_claimed_once(db):
    run = queued_run()

    first, second = (
        jobs.claim_job(Recalibration, pk=run.pk),
        jobs.claim_job(Recalibration, pk=run.pk),
    )

    assert (first.status, second) == (JobStatus.RUNNING, None)


def test_a_recalibration_left_running_by_a_dead_worker_is_run_again_when_redelivered(db, settings):
    run = queued_run()
    abandoned(run, settings)
    running_now = queued_run()
    Recalibration.objects.filter(pk=running_now.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )

    assert run_recalibration(run_id=run.pk) is True
    assert run_recalibration(run_id=running_now.pk) is False

    run.refresh_from_db()
    assert run.status == Recalibration.Status.REFUSED  # no history: it ran to its end
    assert run.finished_at is not None


def test_only_the_claim_holding_a_job_writes_on_it(db, settings):
    run = queued_run()
    dead = jobs.claim_job(Recalibration, pk=run.pk)
    abandoned(dead, settings)
    dead.refresh_from_db()  # its claim, taken longer ago than any task may run
    alive = jobs.claim_job(Recalibration, pk=run.pk)

    alive.record_progress(step="from the new worker")
    dead.record_progress(step="from the dead one")  # a worker that was only slow

    assert Recalibration.objects.get(pk=run.pk).step == "from the new worker"


def test_the_runner_records_what_the_work_returns(db):
    run = queued_run()

    assert jobs.run_job(Recalibration, pk=run.pk, work=lambda job: {"progress": 100}) is True

    run.refresh_from_db()
    assert (run.status, run.progress, run.message) == (JobStatus.DONE, 100, "")
    assert run.started_at <= run.finished_at


def test_a_refusal_is_recorded_with_its_message_and_fields(db):
    run = queued_run()

    def refuse(job: Recalibration) -> None:
        raise JobRefused("Not enough evidence.", progress=100)

    jobs.run_job(Recalibration, pk=run.pk, work=refuse)

    run.refresh_from_db()
    assert (run.status, run.message, run.progress) == (
        JobStatus.REFUSED,
        "Not enough evidence.",
        100,
    )


def test_an_unexpected_error_fails_the_job_with_the_error(db, caplog):
    run = queued_run()

    def crash(job: Recalibration) -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="handoff.jobs"):
        jobs.run_job(Recalibration, pk=run.pk, work=crash)

    run.refresh_from_db()
    assert (run.status, run.message) == (JobStatus.FAILED, "Unexpected error: ValueError('boom')")
    assert run.finished_at is not None


def test_a_transient_database_error_hands_the_job_back_instead_of_failing_it(db):
    run = queued_run()

    def lose_the_database(job: Recalibration) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        jobs.run_job(Recalibration, pk=run.pk, work=lose_the_database)

    run.refresh_from_db()
    assert (run.status, run.started_at, run.message) == (JobStatus.QUEUED, None, "")
    assert jobs.claim_job(Recalibration, pk=run.pk) is not None  # the retry can claim it


def test_the_tasks_retry_only_transient_errors():
    for task in (lead_tasks.run_import, feedback_tasks.recalibrate):
        assert task.autoretry_for == jobs.TRANSIENT_ERRORS


def test_the_sweep_resends_jobs_lost_or_abandoned_and_leaves_the_others(
    db, settings, monkeypatch, django_capture_on_commit_callbacks
):
    lost, running = queued_run(), queued_run()
    queued_run()  # queued a moment ago: its message is still on its way
    Recalibration.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    abandoned(running, settings)
    sent: list[dict] = []
    monkeypatch.setattr(feedback_tasks.recalibrate, "delay", lambda **kwargs: sent.append(kwargs))

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs.resend_lost_jobs()

    assert counts == {"feedback.Recalibration": 2, "leads.ImportJob": 0}
    assert sent == [{"run_id": lost.pk}, {"run_id": running.pk}]


def test_the_progress_box_stops_polling_once_a_recalibration_is_refused(client_as, marketing_ops):
    run = queued_run()
    url = reverse("admin:feedback_recalibration_progress", args=[run.pk])
    client = client_as(marketing_ops)
    assert 'hx-trigger="every 1s"' in client.get(url).text

    run_recalibration(run_id=run.pk)  # no imported history: refused

    html = client.get(url).text
    assert "hx-trigger" not in html
    assert '<p class="errornote">' in html
    assert 'id="recalibration"' in html
