"""A full rescore survives a worker killed in the middle of it."""

import os
import random
import signal
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from leads.models import Activity, Lead
from scoring import services
from scoring.models import JobStatus, LeadScore, RescoreChunk, RescoreJob
from scoring.selectors import live_model
from tests import factories
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

KINDS = ["demo_request", "pricing_page_view", "content_download", "page_view"]


def make_leads(count: int) -> None:
    source = factories.source()
    Lead.objects.bulk_create(
        Lead(
            email=f"p{n}@co{n % 50}.com",
            title=random.choice(["VP", "Engineer", "CFO"]),
            source=source,
        )
        for n in range(count)
    )
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(
            lead=lead,
            kind=random.choice(KINDS),
            occurred_at=now - timedelta(days=d),
            source_system="t",
            external_id=f"{lead.pk}-{d}",
        )
        for lead in Lead.objects.all()
        for d in (1, 9, 33)
    )


def test_a_worker_killed_mid_rescore_loses_no_work_and_applies_none_twice(worker_starter, settings):
    random.seed(7)
    settings.RESCORE_CHUNK_SIZE = 40
    make_leads(3000)
    first = worker_starter()

    job = services.start_rescore(model=live_model(), reason=RescoreJob.Reason.MANUAL)
    wait_for(
        lambda: RescoreJob.objects.get(pk=job.pk).chunks_done >= 3,
        timeout=60,
        what="the first chunks",
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    job.refresh_from_db()
    assert job.chunks_done < job.chunks_total, "the job finished before the worker was killed"
    # The chunk the worker was in (rolled back) and those it had not reached.
    left = list(
        job.chunks.filter(status=RescoreChunk.Status.PENDING).values_list(
            "first_lead_id", "last_lead_id"
        )
    )

    worker_starter()
    # The killed worker's message is held by the broker until its visibility
    # timeout; the periodic sweep re-enqueues chunks left pending.
    services.sweep_unscored_leads(stale_after=timedelta(0))
    wait_for(
        lambda: RescoreJob.objects.get(pk=job.pk).status == JobStatus.DONE,
        timeout=90,
        what="the new worker to finish the job",
    )

    job.refresh_from_db()
    assert job.leads_scored == job.leads_total == 3000
    assert job.chunks_done == job.chunks_total
    assert sum(job.chunks.values_list("leads_scored", flat=True)) == 3000
    # Every lead, not a sample, holds this job's score: no chunk was skipped.
    assert LeadScore.objects.filter(model=job.model, scored_at=job.as_of).count() == 3000

    # The job scores in SQL; a sample is scored again one lead at a time, in
    # Python, half of it from the chunks the killed worker left behind.
    model = live_model()
    leads = Lead.objects.select_related("account", "source").order_by("?")
    in_left = Q()
    for first_id, last_id in left:
        in_left |= Q(pk__range=(first_id, last_id))
    sample = [*leads.filter(in_left)[:30], *leads.exclude(in_left)[:30]]
    assert len(sample) == 60
    for lead in sample:
        expected = services.score_one(model, lead, as_of=job.as_of)
        stored = LeadScore.objects.get(lead=lead)
        assert (stored.total, stored.explanation) == (expected.total, expected.explanation), (
            f"lead {lead.pk}: the job stored {stored.total}, scoring it alone gives "
            f"{expected.total}"
        )
