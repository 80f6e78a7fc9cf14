"""Retention: uploaded import files go after their days; old activities go
when a site asks for it, and the scores they fed are worked out again."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from leads import tasks
from leads.models import Activity, ImportJob
from leads.retention import delete_old_import_files, remove_old_activities
from scoring.models import LeadScore
from scoring.services.scores import score_lead
from tests import factories


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def uploaded(days_ago: int, status: str = ImportJob.Status.DONE) -> ImportJob:
    job = ImportJob.objects.create(mapping={}, status=status)
    job.file.save("list.csv", ContentFile("Email\nada@acme.example\n"))
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return job


def test_import_files_older_than_their_days_are_deleted_and_the_jobs_stay(db, media):
    old, recent = uploaded(31), uploaded(29)
    running = uploaded(40, status=ImportJob.Status.RUNNING)
    old_path = media / old.file.name

    deleted = delete_old_import_files(days=30)

    assert deleted == 1
    assert not old_path.exists()
    assert ImportJob.objects.get(pk=old.pk).file.name == ""
    assert (media / recent.file.name).exists()
    assert (media / running.file.name).exists()
    assert ImportJob.objects.count() == 3


def test_the_beat_task_keeps_files_for_the_configured_days(db, media, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    uploaded(8)
    uploaded(6)

    assert tasks.expire_import_files() == 1
    assert tasks.expire_import_files() == 0


def test_old_activities_are_removed_and_their_lead_rescored(
    db, celery_eager, django_capture_on_commit_callbacks
):
    lead = factories.make_lead()
    now = timezone.now()
    factories.make_activity(lead, "demo_request", occurred_at=now - timedelta(days=20))
    factories.make_activity(lead, "pricing_page_view", occurred_at=now - timedelta(days=1))
    before = score_lead(lead_id=lead.pk)
    assert before is not None

    with django_capture_on_commit_callbacks(execute=True):
        removed = remove_old_activities(days=10, batch_size=1)

    assert removed == 1
    assert list(Activity.objects.filter(lead=lead).values_list("kind", flat=True)) == [
        "pricing_page_view"
    ]
    after = LeadScore.objects.get(lead=lead)
    assert after.engagement < before.engagement
    assert after.engagement == score_lead(lead_id=lead.pk).engagement


def test_activities_are_kept_for_ever_unless_a_site_sets_their_days(db, settings):
    lead = factories.make_lead()
    factories.make_activity(lead, occurred_at=timezone.now() - timedelta(days=4000))
    settings.ACTIVITY_RETENTION_DAYS = 0

    assert tasks.expire_activities() == 0
    assert Activity.objects.count() == 1
