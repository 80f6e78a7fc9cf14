"""Work sent to the workers after a write commits: a broker that is down then
must not turn the committed write into an error page."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from leads.models import Stage
from routing.models import AssignmentStatus, Queue
from tests.routing.test_queue_pages import mql_for, seat


def refuse_connection(*args, **kwargs):
    """A publish failing as kombu reports a refused connection."""
    raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails as kombu reports a refused connection."""
    for task in (
        "routing.tasks.assign_waiting_leads",
        "routing.tasks.route_new_mql",
        "scoring.tasks.rescore_changed_leads",
        "scoring.tasks.rescore_engaged_leads",
    ):
        monkeypatch.setattr(f"{task}.delay", refuse_connection)


@pytest.mark.django_db(transaction=True)  # the decision commits, and its callbacks run
def test_an_sdr_decision_goes_through_with_the_broker_down(
    reference_data_kept, sdr, other_sdr, client_as, broker_down, caplog
):
    seat([sdr, other_sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    assignment = mql_for(sdr)

    caplog.clear()  # making the MQL could not queue its own messages either
    with caplog.at_level(logging.WARNING, logger="handoff.enqueue"):
        response = client_as(sdr).post(f"/queue/{assignment.pk}/accept/", {"note": ""})

    assert (response.status_code, response["Location"]) == (302, f"/queue/{assignment.pk}/")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.lead.stage) == (AssignmentStatus.ACCEPTED, Stage.SAL)
    assert [r.getMessage() for r in caplog.records] == [
        "The broker is unavailable (Error 111 connecting to 127.0.0.1:6379. Connection "
        "refused.): routing.assign_waiting_leads was not queued for "
        f"{{'queue_id': {assignment.queue_id}}}; the periodic sweep will do it."
    ]


def test_publishing_goes_through_with_the_broker_down_and_the_sweep_sends_the_chunks(
    db, marketing_ops, manager, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from scoring import services
    from scoring.models import ModelStatus, RescoreChunk
    from scoring.selectors import live_model
    from tests import factories

    settings.RESCORE_CHUNK_SIZE = 1
    for _ in range(3):
        factories.make_lead()
    draft = services.clone_model(source=live_model(), by=marketing_ops, name="Next")
    services.submit_model(model=draft, by=marketing_ops)
    services.approve_model(model=draft, by=manager)
    tries: list[int] = []

    def refuse(*, chunk_id):
        tries.append(chunk_id)
        refuse_connection()

    monkeypatch.setattr("scoring.tasks.rescore_chunk.delay", refuse)
    with (
        caplog.at_level(logging.WARNING, logger="handoff.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = services.publish_model(model=draft, by=marketing_ops)

    draft.refresh_from_db()
    assert draft.status == ModelStatus.PUBLISHED
    assert job.chunks_total == 3
    # One try, not one wait per chunk: the rest would fail the same way.
    assert len(tries) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "The broker is unavailable (Error 111 connecting to 127.0.0.1:6379. Connection "
        "refused.): 3 of 3 scoring.rescore_chunk messages were not queued; the periodic "
        "sweep will send them."
    ]

    # The broker is back; the sweep finds the job's chunks pending and sends them.
    sent: list[int] = []
    monkeypatch.setattr(
        "scoring.tasks.rescore_chunk.delay", lambda *, chunk_id: sent.append(chunk_id)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_unscored_leads(stale_after=timedelta(0))
    assert sorted(sent) == sorted(RescoreChunk.objects.filter(job=job).values_list("pk", flat=True))


def test_an_import_started_with_the_broker_down_is_sent_again_by_its_sweep(
    db, settings, tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from leads import importing, tasks
    from leads.models import ImportJob, Lead
    from tests.leads.test_import import HEADER, SMALL_MAPPING
    from tests.leads.test_import_admin import csv_upload

    settings.MEDIA_ROOT = tmp_path / "media"

    monkeypatch.setattr(tasks.run_import, "delay", refuse_connection)
    with (
        caplog.at_level(logging.WARNING, logger="handoff.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = importing.start_import(
            file=csv_upload(HEADER + "ada@example.com,Ada,,,7,,,\r\n"), mapping=SMALL_MAPPING
        )
    assert job.status == ImportJob.Status.QUEUED
    assert "leads.run_import was not queued" in caplog.records[0].getMessage()

    # Back up: a job queued for less than five minutes is left to its message;
    # an older one is sent again, and runs once however often it is sent.
    sent: list[dict] = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda **kwargs: sent.append(kwargs))

    def resend() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return importing.resend_queued_imports()

    assert resend() == 0
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert resend() == 1
    assert sent == [{"job_id": job.pk}]
    for message in sent * 2:
        tasks.run_import(**message)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Lead.objects.filter(email="ada@example.com").count() == 1
    assert resend() == 0


def test_a_recalibration_started_with_the_broker_down_is_sent_again_by_its_sweep(
    db, marketing_ops, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from feedback import recalibration, tasks
    from feedback.models import Recalibration

    monkeypatch.setattr(tasks.recalibrate, "delay", refuse_connection)
    with (
        caplog.at_level(logging.WARNING, logger="handoff.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = recalibration.start_recalibration(source="history", outcome="known", by=marketing_ops)
    assert run.status == Recalibration.Status.QUEUED
    assert "feedback.recalibrate was not queued" in caplog.records[0].getMessage()

    sent: list[dict] = []
    monkeypatch.setattr(tasks.recalibrate, "delay", lambda **kwargs: sent.append(kwargs))

    def resend() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return recalibration.resend_queued_recalibrations()

    assert resend() == 0
    Recalibration.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert resend() == 1
    assert sent == [{"run_id": run.pk}]
    tasks.recalibrate(**sent[0])
    run.refresh_from_db()
    assert run.status != Recalibration.Status.QUEUED  # claimed: proposed, refused or failed
    assert resend() == 0
