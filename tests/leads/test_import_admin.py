import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leads import importing, tasks
from leads.models import ImportJob, Lead
from tests.leads.test_import import HEADER, SMALL_MAPPING

IMPORT_URL = "admin:leads_importjob_import"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def queued(monkeypatch):
    """The job ids sent to the broker (the edge of the system) instead of sending them."""
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda **kwargs: sent.append(kwargs))
    return sent


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")


def mapping_upload(mapping: dict) -> SimpleUploadedFile:
    return SimpleUploadedFile("mapping.json", json.dumps(mapping).encode())


def make_job(text: str, *, skip_invalid: bool = False, user=None) -> ImportJob:
    return importing.start_import(
        file=csv_upload(text), mapping=SMALL_MAPPING, skip_invalid=skip_invalid, by=user
    )


# --- Jobs -----------------------------------------------------------------------


def test_start_import_queues_the_job_after_commit(db, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(HEADER)
        assert queued == []  # nothing is sent before the job row is committed

    assert queued == [{"job_id": job.pk}]
    assert job.status == ImportJob.Status.QUEUED
    assert job.file.name.startswith("imports/leads")


def test_start_import_refuses_an_invalid_mapping(db, queued):
    with pytest.raises(importing.MappingError):
        importing.start_import(file=csv_upload(HEADER), mapping={"source": "api"})

    assert ImportJob.objects.count() == 0


def test_run_import_job_records_the_counts(db, marketing_ops):
    job = make_job(
        HEADER + "ada@acme.io,Ada,,,,,,\r\nbob@acme.io,Bob,,,x,,,\r\n",
        skip_invalid=True,
        user=marketing_ops,
    )

    assert importing.run_import_job(job_id=job.pk) is True

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.rows_total, job.rows_processed) == (2, 2)
    assert (job.created, job.updated, job.skipped) == (1, 0, 1)
    assert job.errors == [{"line": 3, "column": "Visits", "message": "'x' is not a number"}]
    assert job.finished_at is not None
    assert job.created_by == marketing_ops


def test_a_job_runs_once_however_often_it_is_delivered(db):
    job = make_job(HEADER + "ada@acme.io,Ada,,,,,,\r\n")

    assert importing.run_import_job(job_id=job.pk) is True
    assert importing.run_import_job(job_id=job.pk) is False

    job.refresh_from_db()
    assert (job.status, job.created, job.updated) == (ImportJob.Status.DONE, 1, 0)


def test_a_job_left_running_by_a_dead_worker_is_run_again_when_redelivered(db, settings):
    job = make_job(HEADER + "ada@acme.io,Ada,,,,,,\r\n")
    started = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=started)
    running_now = make_job(HEADER + "bob@acme.io,Bob,,,,,,\r\n")
    ImportJob.objects.filter(pk=running_now.pk).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )

    assert importing.run_import_job(job_id=job.pk) is True
    assert importing.run_import_job(job_id=running_now.pk) is False

    job.refresh_from_db()
    assert (job.status, job.created) == (ImportJob.Status.DONE, 1)


def test_the_task_returns_quietly_when_the_job_is_gone(db):
    assert tasks.run_import(job_id=404) is None


def test_the_task_runs_the_job(db):
    job = make_job(HEADER + "ada@acme.io,Ada,,,,,,\r\n")

    tasks.run_import(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Lead.objects.get().email == "ada@acme.io"


def test_a_job_with_bad_rows_is_refused_and_writes_nothing(db):
    job = make_job(HEADER + "ada@acme.io,Ada,,,,,,\r\nbob@acme.io,Bob,,,x,,,\r\n")

    importing.run_import_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.REFUSED
    assert (job.created, job.skipped) == (0, 1)
    assert job.errors == [{"line": 3, "column": "Visits", "message": "'x' is not a number"}]
    assert Lead.objects.count() == 0


def test_a_job_whose_file_is_refused_records_why(db):
    job = make_job("Email,First Name\r\n")

    importing.run_import_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.REFUSED
    assert job.errors == [
        {
            "line": None,
            "column": "",
            "message": "The file lacks column(s) the mapping needs: 'Company', 'Converted', "
            "'Country', 'Industry', 'Newsletter', 'Visits'. Nothing was imported.",
        }
    ]


# --- The admin pages -------------------------------------------------------------


def test_marketing_ops_can_open_the_import_page(client_as, marketing_ops):
    response = client_as(marketing_ops).get(reverse(IMPORT_URL))

    assert response.status_code == 200
    assert [name for name, _ in response.context["form"].fields["shipped_mapping"].choices] == [
        "",
        "x_education",
    ]


def test_an_sdr_cannot_reach_the_import_page(client_as, sdr):
    response = client_as(sdr).get(reverse(IMPORT_URL))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_sales_manager_is_refused_the_import_page(client_as, manager):
    response = client_as(manager).get(reverse(IMPORT_URL))

    assert response.status_code == 403


def test_upload_creates_a_job_and_its_page_shows_the_counts(
    client_as, marketing_ops, queued, django_capture_on_commit_callbacks
):
    client = client_as(marketing_ops)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(IMPORT_URL),
            {
                "file": csv_upload(HEADER + "ada@acme.io,Ada,,,,,,\r\nbob@acme.io,Bob,,,,,,\r\n"),
                "mapping_file": mapping_upload(SMALL_MAPPING),
            },
        )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:leads_importjob_change", args=[job.pk])
    assert queued == [{"job_id": job.pk}]
    assert job.mapping == SMALL_MAPPING
    assert job.skip_invalid is False

    page = client.get(response.url)
    assert page.status_code == 200
    assert page.context["original"] == job
    assert 'hx-trigger="every 1s"' in page.content.decode()  # polls while queued

    importing.run_import_job(job_id=job.pk)  # what the worker does

    fragment = client.get(reverse("admin:leads_importjob_progress", args=[job.pk]))
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert fragment.context["job"].status == ImportJob.Status.DONE
    assert "Imported: 2 leads created, 0 updated, 0 rows skipped." in html
    assert "hx-trigger" not in html  # finished: the polling stops
    assert "<html" not in html  # the fragment alone
    assert Lead.objects.count() == 2


def test_upload_with_a_shipped_mapping(client_as, marketing_ops, queued):
    client_as(marketing_ops).post(
        reverse(IMPORT_URL),
        {
            "file": csv_upload("Prospect ID\r\n"),
            "shipped_mapping": "x_education",
            "skip_invalid": "on",
        },
    )

    job = ImportJob.objects.get()
    assert job.mapping["identifier"] == {"column": "Prospect ID", "field": "external_id"}
    assert job.skip_invalid is True


def test_progress_shows_rows_checked_while_running(client_as, marketing_ops):
    job = make_job(HEADER)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", rows_total=9240, rows_processed=4620
    )

    fragment = client_as(marketing_ops).get(
        reverse("admin:leads_importjob_progress", args=[job.pk])
    )

    html = fragment.content.decode()
    assert "Checked 4620 of 9240 rows (50 %)." in html
    assert '<progress max="9240" value="4620">' in html
    assert 'hx-trigger="every 1s"' in html


def test_upload_with_an_invalid_mapping_shows_its_problems(client_as, marketing_ops, queued):
    response = client_as(marketing_ops).post(
        reverse(IMPORT_URL),
        {
            "file": csv_upload(HEADER),
            "mapping_file": mapping_upload({**SMALL_MAPPING, "source": ""}),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "mapping_file": [
            "source: give the slug of a lead source, such as 'inbound_form', or "
            '{"column": "Lead Source", "default": "inbound_form"} for a source per row'
        ]
    }
    assert ImportJob.objects.count() == 0


def test_upload_needs_exactly_one_mapping(client_as, marketing_ops, queued):
    response = client_as(marketing_ops).post(
        reverse(IMPORT_URL),
        {
            "file": csv_upload(HEADER),
            "shipped_mapping": "x_education",
            "mapping_file": mapping_upload(SMALL_MAPPING),
        },
    )

    assert response.context["form"].non_field_errors() == [
        "Choose a shipped mapping or upload one (not both)."
    ]


def test_an_sdr_cannot_see_a_jobs_progress(client_as, sdr):
    job = make_job(HEADER)

    response = client_as(sdr).get(reverse("admin:leads_importjob_progress", args=[job.pk]))

    assert response.status_code == 302


@pytest.mark.parametrize("jobs", [1, 3])
def test_job_list_query_count_does_not_grow_with_jobs(
    client_as, marketing_ops, django_assert_num_queries, jobs
):
    for _ in range(jobs):
        make_job(HEADER, user=marketing_ops)
    client = client_as(marketing_ops)

    with django_assert_num_queries(8):
        response = client.get(reverse("admin:leads_importjob_changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == jobs
