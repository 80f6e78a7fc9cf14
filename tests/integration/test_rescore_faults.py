"""A full rescore survives a worker killed in the middle of it."""

import os
import random
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Activity, Lead
from scoring import services
from scoring.models import JobStatus, LeadScore, RescoreJob
from scoring.selectors import live_model
from tests import factories
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

KINDS = ["demo_request", "pricing_page_view", "content_download", "page_view"]


def make_leads(count: int) -> None:
    source = factories.source()
    Lead.objects.bulk_create(
        Lead(email=f"p{n}@co{n % 50}.com", title=random.choice(["VP", "Engineer", "CFO"]),
             source=source)
        for n in range(count)
    )
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(lead=lead, kind=random.choice(KINDS), occurred_at=now - timedelta(days=d),
                 source_system="t", external_id=f"{lead.pk}-{d}")
        for lead in Lead.objects.all() for d in (1, 9, 33)
    )


def test_a_worker_killed_mid_rescore_loses_no_work_and_applies_none_twice(
        worker_starter, settings):
    random.seed(7)
    settings.RESCORE_CHUNK_SIZE = 40
    make_leads(3000)
    first = worker_starter()

    job = services.start_rescore(model=live_model(), reason=RescoreJob.Reason.MANUAL)
    wait_for(lambda: RescoreJob.objects.get(pk=job.pk).chunks_done >= 3, timeout=60,
             what="the first chunks")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    job.refresh_from_db()
    assert job.chunks_done < job.chunks_total, "the job finished before the worker was killed"

    worker_starter()
    # The killed worker's message is held by the broker until its visibility
    # timeout; the periodic sweep re-enqueues chunks left pending.
    services.sweep_unscored_leads(stale_after=timedelta(0))
    wait_for(lambda: RescoreJob.objects.get(pk=job.pk).status == JobStatus.DONE, timeout=90,
             what="the new worker to finish the job")

    job.refresh_from_db()
    assert job.leads_scored == job.leads_total == 3000
    assert job.chunks_done == job.chunks_total
    model = live_model()
    for lead in Lead.objects.select_related("account", "source").order_by("?")[:50]:
        expected = services.score_one(model, lead, as_of=job.as_of)
        stored = LeadScore.objects.get(lead=lead)
        assert (stored.total, stored.explanation) == (expected.total, expected.explanation)
