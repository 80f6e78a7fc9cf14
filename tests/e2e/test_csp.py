"""Every page each role uses works under the enforced content security policy.

Each test walks one role's pages in Chromium, htmx swaps, polling and charts
included. The ``csp_violations`` fixture collects every violation the browser
reports (the ``securitypolicyviolation`` event and Chromium's own "Refused
to ..." console errors); a page must not have any, and must carry the header.
"""

import json
import re

import pytest
from django.conf import settings
from django.utils.csp import build_policy
from playwright.sync_api import expect

from feedback.models import Recalibration
from feedback.recalibration import run_recalibration
from leads.importing import run_import_job
from leads.models import ImportJob, Lead
from routing.models import Queue
from scoring import services as scoring
from scoring.models import ModelStatus, RescoreChunk, ScoringModel
from tests.e2e.test_dashboard import CANVASES, DRAWN, make_history
from tests.e2e.test_manager_sla import CHART_TOTAL
from tests.feedback.test_recalibration import history
from tests.leads.test_import import HEADER, SMALL_MAPPING
from tests.routing.test_queue_pages import mql_for, seat

pytestmark = pytest.mark.e2e

POLICY = build_policy(settings.SECURE_CSP)


@pytest.fixture
def visit(page, live_server, csp_violations):
    """Opens a page, checks it was sent under the policy and broke none of it."""

    def go(path: str):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        assert response.headers["content-security-policy"] == POLICY, path
        page.wait_for_load_state("networkidle")
        assert csp_violations == [], path
        return page

    return go


def changelists(page) -> list[str]:
    """The admin index's links to every list this user may see."""
    links = page.locator("#content-main table th[scope=row] a")
    return sorted(
        {
            re.sub(r"^https?://[^/]+", "", href)
            for href in (a.get_attribute("href") for a in links.all())
        }
    )


def test_the_policy_is_strict_and_enforced():
    assert POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    assert not settings.SECURE_CSP_REPORT_ONLY


def test_the_login_page_and_a_refused_login(page, visit, sdr, csp_violations):
    visit("/login/")
    page.get_by_label("Username").fill(sdr.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert csp_violations == []


def test_an_sdr_s_pages(page, visit, log_in, sdr, csp_violations):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    grace = mql_for(
        sdr,
        1,
        first_name="Grace",
        last_name="Hopper",
        email="grace@navylabs.example",
        company="Navy Labs",
    )
    mql_for(
        sdr,
        2,
        first_name="Alan",
        last_name="Turing",
        email="alan@bletchley.example",
        company="Bletchley Park",
    )
    log_in(sdr)

    visit("/")
    visit("/queue/")
    # htmx: the search filters the list in place.
    page.get_by_label("Search").press_sequentially("Grace")
    expect(page.locator("tr.mql .lead-link")).to_have_text(["Grace Hopper"])

    visit(f"/queue/{grace.pk}/")  # the assignment
    page.get_by_role("button", name="Accept as SAL").click()  # htmx swaps the panel
    expect(page.locator("#mql-panel .done")).to_contain_text("Accepted")
    page.get_by_role("link", name=re.compile("Qualify as SQL")).click()
    expect(page.get_by_role("heading", name="Sales qualified lead (BANT)")).to_be_visible()

    visit("/definition/")
    visit("/api/docs/")
    # Swagger UI, from our own static files, drew the operations from the schema.
    expect(page.locator(".opblock").first).to_be_visible(timeout=10_000)
    assert csp_violations == []


def test_a_sales_manager_s_pages(page, visit, log_in, manager, sdr, other_sdr, csp_violations):
    queues = [Queue.objects.get(name="Inbound MQLs"), Queue.objects.get(name="Demo requests")]
    make_history([sdr, other_sdr], queues)
    log_in(manager)

    visit("/manager/")
    page.wait_for_function(
        f"() => ({DRAWN})({CANVASES}) !== null && ({DRAWN})({CANVASES}).every((n) => n !== null)"
    )
    visit("/manager/sla/")
    page.wait_for_function(f"() => ({CHART_TOTAL})() !== null")
    visit("/definition/")

    visit("/admin/")
    lists = changelists(page)
    assert "/admin/scoring/scoringmodel/" in lists
    for path in lists:
        visit(path)
    live = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    visit(f"/admin/scoring/scoringmodel/{live.pk}/change/")
    assert csp_violations == []


def test_marketing_ops_pages(
    page, visit, log_in, marketing_ops, settings, tmp_path, csp_violations
):
    settings.MEDIA_ROOT = tmp_path / "media"
    history(200)
    log_in(marketing_ops)

    visit("/admin/")
    lists = changelists(page)
    assert "/admin/leads/importjob/" in lists
    for path in lists:
        visit(path)

    # An import: the form, then its progress page, which polls with htmx.
    visit("/admin/leads/importjob/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "leads.csv",
                "mimeType": "text/csv",
                "buffer": (HEADER + "ada@acme.io,Ada,,,,,,\r\n").encode(),
            }
        ]
    )
    page.get_by_label("…or a mapping JSON file").set_input_files(
        files=[
            {
                "name": "mapping.json",
                "mimeType": "application/json",
                "buffer": json.dumps(SMALL_MAPPING).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Next: map the columns").click()
    page.get_by_role("button", name="Next: preview").click()
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-progress")).to_contain_text("Waiting for a worker")
    run_import_job(job_id=ImportJob.objects.get().pk)  # what the worker does
    expect(page.locator("#import-progress")).to_contain_text(
        "Imported: 1 leads created", timeout=10_000
    )

    # A version: clone, preview its impact, then a rescore's progress bar.
    live = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    visit(f"/admin/scoring/scoringmodel/{live.pk}/change/")
    page.get_by_role("button", name="Clone into a new draft").click()
    draft = ScoringModel.objects.get(version=live.version + 1)
    visit(f"/admin/scoring/scoringmodel/{draft.pk}/preview/")
    job = scoring.start_rescore(model=live, reason="CSP test", by=marketing_ops)
    visit(f"/admin/scoring/rescorejob/{job.pk}/change/")
    expect(page.locator("#rescore-progress")).to_contain_text("Scored 0 of")
    for chunk in RescoreChunk.objects.filter(job=job):
        scoring.run_rescore_chunk(chunk_id=chunk.pk)
    expect(page.locator("#rescore-progress")).to_contain_text("(100 %)", timeout=10_000)

    # A recalibration: started, polled until the proposal, reviewed.
    visit("/admin/feedback/recalibration/start/")
    page.get_by_label("Source").select_option("history")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#recalibration")).to_contain_text("Waiting for a worker")
    run_recalibration(run_id=Recalibration.objects.get().pk)
    expect(page.locator("#recalibration")).to_contain_text("Proposed a draft", timeout=10_000)

    first, second = Lead.objects.order_by("pk").values_list("pk", flat=True)[:2]
    visit(f"/admin/leads/lead/merge/?ids={first},{second}")
    assert csp_violations == []
