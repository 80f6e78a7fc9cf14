"""A recalibration survives a worker killed in the middle of it."""

import os
import signal

import pytest

from feedback import recalibration
from feedback.models import Recalibration
from scoring.models import ModelStatus, ScoringModel
from tests.feedback.test_recalibration import history
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

# A short hard time limit for every process of the test, so that a run left by
# a dead worker counts as abandoned (it has run longer than any task may) in
# seconds rather than minutes. Still far longer than the run itself takes.
TIME_LIMIT, SOFT_TIME_LIMIT = 20, 15
LIMITS = {
    "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
    "CELERY_TASK_SOFT_TIME_LIMIT": str(SOFT_TIME_LIMIT),
}


def test_a_recalibration_whose_worker_is_killed_finishes_on_a_new_worker(
    worker_starter, marketing_ops, settings
):
    settings.CELERY_TASK_TIME_LIMIT = TIME_LIMIT  # this process runs the sweep
    settings.CELERY_TASK_SOFT_TIME_LIMIT = SOFT_TIME_LIMIT
    # Enough imported history for the run to take a couple of seconds: long
    # enough to kill its worker in the middle of it.
    history(40_000)
    first = worker_starter(**LIMITS)

    run = recalibration.start_recalibration(source="history", outcome="known", by=marketing_ops)
    wait_for(
        lambda: Recalibration.objects.get(pk=run.pk).step != "",
        timeout=30,
        what="the first worker to start the run",
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    run.refresh_from_db()
    assert run.status == Recalibration.Status.RUNNING, "the run ended before the worker was killed"
    killed_claim = run.started_at

    worker_starter(**LIMITS)
    # The killed worker's message is held by the broker until its visibility
    # timeout; the periodic sweep sends the run again once it is abandoned.
    wait_for(
        lambda: recalibration.resend_queued_recalibrations() == 1,
        timeout=TIME_LIMIT + 20,
        what="the run to count as abandoned",
    )
    wait_for(
        lambda: Recalibration.objects.get(pk=run.pk).status != Recalibration.Status.RUNNING,
        timeout=60,
        what="the new worker to finish the run",
    )

    run.refresh_from_db()
    assert run.status == Recalibration.Status.PROPOSED
    assert run.started_at > killed_claim
    assert (run.progress, run.step) == (100, "Done")
    # One draft: the killed run wrote nothing of its own.
    assert list(ScoringModel.objects.filter(status=ModelStatus.DRAFT)) == [run.proposal]
    assert recalibration.resend_queued_recalibrations() == 0
