import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leads import importing, tasks
from leads.models import ImportJob, ImportMapping, Lead
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
    importing.save_import_mapping(name="Trade shows", mapping=SMALL_MAPPING, by=marketing_ops)

    response = client_as(marketing_ops).get(reverse(IMPORT_URL))

    assert response.status_code == 200
    assert response.context["form"].fields["mapping"].choices == [
        ("", "— nothing: map the columns —"),
        (f"saved:{ImportMapping.objects.get().pk}", "Trade shows"),
        ("shipped:x_education", "X education (shipped)"),
    ]


def test_an_sdr_cannot_reach_the_import_page(client_as, sdr):
    response = client_as(sdr).get(reverse(IMPORT_URL))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_sales_manager_is_refused_the_import_page(client_as, manager):
    response = client_as(manager).get(reverse(IMPORT_URL))

    assert response.status_code == 403


# --- The wizard: upload -> map -> preview -> import ------------------------------------

SEMICOLON_FILE = (
    "E-mail;Company;Lead Source;Status;Created;Visits\r\n"
    "ada@acme.io;Acme;Webinar;Won;31/01/2025;3\r\n"
    "bob@acme.io;Acme;;Open;01/02/2025;\r\n"
    "cy@acme.io;Initech;Partner;Lost;-;x\r\n"
)


def upload(client, text: str | bytes, **fields):
    data = text if isinstance(text, bytes) else text.encode()
    return client.post(
        reverse(IMPORT_URL),
        {"file": SimpleUploadedFile("leads.csv", data, content_type="text/csv"), **fields},
    )


def answers(page, **overrides) -> dict:
    """The map page's form data as it was offered (its suggestions), with overrides
    ("column-2-target": ..., "skip_invalid": ...)."""
    data = {}
    formset = page.context["formset"]
    for key, value in formset.management_form.initial.items():
        data[f"column-{key}"] = value
    for index, form in enumerate(formset.forms):
        for name in ("column", "target", "attribute", "placeholders"):
            data[f"column-{index}-{name}"] = form.initial.get(name, "")
    options = page.context["options_form"]
    for name in options.fields:
        value = options.initial.get(name, "")
        if value is False:
            continue
        data[name] = value
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_wizard_suggests_each_columns_target_from_its_name(client_as, marketing_ops):
    client = client_as(marketing_ops)

    page = client.get(upload(client, SEMICOLON_FILE).url)

    assert page.context["sample"].format == "UTF-8, semicolon-separated"
    assert [(f.initial["column"], f.initial["target"]) for f in page.context["formset"]] == [
        ("E-mail", "identifier:email"),
        ("Company", "field:company_name"),
        ("Lead Source", "source"),
        ("Status", "outcome"),
        ("Created", "field:originated_at"),
        ("Visits", "attribute:text"),
    ]
    options = page.context["options_form"].initial
    assert (options["outcome_true"], options["outcome_false"], options["outcome_open"]) == (
        "Won",
        "Lost",
        "Open",
    )
    assert options["date_format"] == "%d/%m/%Y"


def test_the_preview_lists_bad_rows_by_line_and_column_and_writes_nothing(
    client_as, marketing_ops, queued
):
    client = client_as(marketing_ops)
    page = client.get(upload(client, SEMICOLON_FILE).url)

    response = client.post(
        reverse("admin:leads_importjob_map"),
        answers(page, **{"column-5-target": "attribute:number"}),
    )
    preview = client.get(response.url)

    assert response.url == reverse("admin:leads_importjob_preview")
    assert preview.context["preview"].summary == (
        "3 rows read: 2 leads will be created, 0 updated; 1 row is bad."
    )
    assert [str(error) for error in preview.context["errors_shown"]] == [
        "line 4, column Visits: 'x' is not a number"
    ]
    assert 'value="Import"' not in preview.content.decode()  # not all or nothing: refused
    assert Lead.objects.count() == 0
    assert ImportJob.objects.count() == 0


def test_the_wizard_imports_saves_the_mapping_and_reuses_it(
    client_as, marketing_ops, queued, django_capture_on_commit_callbacks
):
    client = client_as(marketing_ops)
    page = client.get(upload(client, SEMICOLON_FILE).url)
    client.post(
        reverse("admin:leads_importjob_map"),
        answers(
            page,
            **{"column-5-target": "attribute:number", "skip_invalid": "on", "save_as": "Fairs"},
        ),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:leads_importjob_preview"))
    job = ImportJob.objects.get()
    importing.run_import_job(job_id=job.pk)  # what the worker does

    assert response.url == reverse("admin:leads_importjob_change", args=[job.pk])
    assert queued == [{"job_id": job.pk}]
    assert str(job) == f"Import #{job.pk} (leads.csv)"
    job.refresh_from_db()
    assert (job.created, job.updated, job.skipped) == (2, 0, 1)
    ada, bob = Lead.objects.order_by("email")
    assert (ada.source.slug, ada.known_outcome, ada.attributes) == ("webinar", True, {"visits": 3})
    assert (bob.source.slug, bob.known_outcome) == ("inbound_form", None)
    saved = ImportMapping.objects.get()
    assert (saved.name, saved.created_by) == ("Fairs", marketing_ops)

    # The next file of the kind: the saved mapping fills in every answer.
    second = "E-mail;Company;Lead Source;Status;Created;Visits\r\nada@acme.io;Acme;;Lost;;5\r\n"
    page = client.get(upload(client, second, mapping=f"saved:{saved.pk}").url)
    assert page.context["formset"].forms[5].initial["target"] == "attribute:number"
    client.post(reverse("admin:leads_importjob_map"), answers(page))
    preview = client.get(reverse("admin:leads_importjob_preview"))
    assert preview.context["preview"].summary == ("1 row read: 0 leads will be created, 1 updated.")
    client.post(reverse("admin:leads_importjob_preview"))
    importing.run_import_job(job_id=ImportJob.objects.latest("pk").pk)
    ada.refresh_from_db()
    assert (ada.known_outcome, ada.attributes) == (False, {"visits": 5})


def test_a_mapping_problem_is_shown_on_the_map_page(client_as, marketing_ops, queued):
    client = client_as(marketing_ops)
    page = client.get(upload(client, SEMICOLON_FILE).url)

    response = client.post(
        reverse("admin:leads_importjob_map"),
        answers(page, **{"column-1-target": "identifier:external_id"}),
    )

    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [
        "Only one column can identify the lead."
    ]


def test_an_uploaded_mapping_with_problems_is_refused_naming_them(client_as, marketing_ops, queued):
    response = upload(
        client_as(marketing_ops),
        HEADER,
        mapping_file=mapping_upload({**SMALL_MAPPING, "source": ""}),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "mapping_file": [
            "source: give the slug of a lead source, such as 'inbound_form', or "
            '{"column": "Lead Source", "default": "inbound_form"} for a source per row'
        ]
    }


def test_upload_takes_one_mapping_at_most(client_as, marketing_ops, queued):
    response = upload(
        client_as(marketing_ops),
        HEADER,
        mapping="shipped:x_education",
        mapping_file=mapping_upload(SMALL_MAPPING),
    )

    assert response.context["form"].non_field_errors() == [
        "Choose a mapping or upload one (not both)."
    ]


def test_a_saved_mapping_exports_as_json(client_as, marketing_ops):
    saved = importing.save_import_mapping(name="Trade shows", mapping=SMALL_MAPPING, by=None)

    response = client_as(marketing_ops).get(
        reverse("admin:leads_importmapping_export", args=[saved.pk])
    )

    assert response["Content-Disposition"] == 'attachment; filename="trade-shows.json"'
    assert json.loads(response.content) == SMALL_MAPPING


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
