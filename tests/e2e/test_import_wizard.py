"""Importing a CRM export through the wizard, in the browser.

Marketing ops upload a semicolon-separated file with a source per row and a
three-valued outcome, keep the suggested targets but one, save the mapping,
preview, import and watch the job; then import the next export with the
saved mapping. The job's message goes to the broker with no worker
listening: the test runs the job itself, as a worker would, and the progress
box picks the result up by polling.
"""

import pytest
from playwright.sync_api import expect

from leads import importing
from leads.models import ImportJob, ImportMapping, Lead

pytestmark = pytest.mark.e2e

FIRST_EXPORT = (
    "E-mail;Company;Lead Source;Status;Created;Visits\r\n"
    "ada@acme.io;Acme;Webinar;Closed Won;31/01/2025;3\r\n"
    "bob@initech.io;Initech;;Open;01/02/2025;\r\n"
    "cy@globex.io;Globex;Partner;Closed Lost;N/A;12\r\n"
)
SECOND_EXPORT = (
    "E-mail;Company;Lead Source;Status;Created;Visits\r\n"
    "bob@initech.io;Initech;;Closed Won;01/02/2025;4\r\n"
    "dee@umbrella.io;Umbrella;Website;Open;03/02/2025;1\r\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_latest_job(page):
    job = ImportJob.objects.latest("pk")
    importing.run_import_job(job_id=job.pk)  # what a worker does
    expect(page.locator("#import-progress")).to_contain_text("Done", timeout=10_000)
    return job


def test_ops_import_an_export_through_the_wizard_and_reuse_the_mapping(
    page, live_server, log_in, marketing_ops, screenshot, tmp_path
):
    first, second = tmp_path / "crm-export.csv", tmp_path / "crm-export-2.csv"
    first.write_text(FIRST_EXPORT, encoding="utf-8")
    second.write_text(SECOND_EXPORT, encoding="utf-8")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(marketing_ops)

    # Step 1: the file.
    page.goto(f"{live_server.url}/admin/leads/importjob/")
    page.get_by_role("link", name="Import leads").click()
    page.get_by_label("CSV file").set_input_files(first)
    page.get_by_role("button", name="Next: map the columns").click()

    # Step 2: the columns, suggested from their names; Visits are numbers.
    expect(page.get_by_text("reads as UTF-8, semicolon-separated text")).to_be_visible()
    expect(page.get_by_label("E-mail", exact=True)).to_have_value("identifier:email")
    expect(page.get_by_label("Lead Source", exact=True)).to_have_value("source")
    expect(page.get_by_label("Status", exact=True)).to_have_value("outcome")
    expect(page.get_by_label("Created", exact=True)).to_have_value("field:originated_at")
    expect(page.get_by_label("Converted", exact=True)).to_have_value("Closed Won")
    expect(page.get_by_label("Did not convert")).to_have_value("Closed Lost")
    expect(page.get_by_label("No outcome yet")).to_have_value("Open")
    page.get_by_label("Visits", exact=True).select_option(label="Custom attribute: number")
    page.get_by_label("Save this mapping as").fill("CRM export")
    screenshot("import-wizard-map")
    page.get_by_role("button", name="Next: preview").click()

    # Step 3: what will happen, before anything is written.
    expect(page.locator("#import-preview-summary")).to_have_text(
        "3 rows read: 3 leads will be created, 0 updated."
    )
    assert Lead.objects.count() == 0
    screenshot("import-wizard-preview")
    page.get_by_role("button", name="Import").click()
    run_latest_job(page)
    expect(page.locator("#import-progress")).to_contain_text(
        "Imported: 3 leads created, 0 updated, 0 rows skipped."
    )
    screenshot("import-wizard-done")

    leads = {lead.email: lead for lead in Lead.objects.select_related("source")}
    assert {email: lead.source.slug for email, lead in leads.items()} == {
        "ada@acme.io": "webinar",
        "bob@initech.io": "inbound_form",
        "cy@globex.io": "partner",
    }
    assert {email: lead.known_outcome for email, lead in leads.items()} == {
        "ada@acme.io": True,
        "bob@initech.io": None,
        "cy@globex.io": False,
    }
    assert leads["ada@acme.io"].originated_at.date().isoformat() == "2025-01-31"
    assert leads["cy@globex.io"].attributes == {"visits": 12}

    # The next export, with the saved mapping: no column to map again.
    page.goto(f"{live_server.url}/admin/leads/importjob/import/")
    page.get_by_label("CSV file").set_input_files(second)
    page.get_by_label("Start from").select_option(label="CRM export")
    page.get_by_role("button", name="Next: map the columns").click()
    expect(page.get_by_label("Visits", exact=True)).to_have_value("attribute:number")
    page.get_by_role("button", name="Next: preview").click()
    expect(page.locator("#import-preview-summary")).to_have_text(
        "2 rows read: 1 lead will be created, 1 updated."
    )
    page.get_by_role("button", name="Import").click()
    run_latest_job(page)

    assert ImportMapping.objects.get().name == "CRM export"
    bob = Lead.objects.get(email="bob@initech.io")
    assert (bob.known_outcome, bob.attributes) == (True, {"visits": 4})
    assert Lead.objects.get(email="dee@umbrella.io").source.slug == "website"
