"""A recalibration, from proposal to live, in the browser.

Marketing ops start a recalibration from imported history, read the proposal
beside the live version and submit the draft it wrote; a sales manager
approves; marketing ops publish and the rescore starts. No worker listens:
the test runs the recalibration and the chunks itself, as a worker would.
"""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.models import Recalibration
from feedback.recalibration import run_recalibration, start_recalibration
from leads.importing import import_leads
from leads.importing.mapping import parse_mapping
from scoring.models import RescoreJob
from tests.feedback.test_recalibration import history

pytestmark = pytest.mark.e2e


def test_a_recalibration_is_proposed_reviewed_approved_and_published(
    page, live_server, log_in, marketing_ops, manager, screenshot
):
    history(600)
    messages = page.locator(".messagelist")

    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/feedback/recalibration/start/")
    page.get_by_label("Source").select_option("history")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#recalibration")).to_contain_text("Waiting for a worker")

    run = Recalibration.objects.get()
    run_recalibration(run_id=run.pk)  # what the worker does; the page polls for it
    panel = page.locator("#recalibration")
    expect(panel).to_contain_text("Proposed a draft", timeout=10_000)
    expect(panel).to_contain_text("Plan is")
    expect(panel.get_by_role("columnheader", name="Live version (v1)")).to_be_visible()
    screenshot("recalibration-proposal")

    draft = Recalibration.objects.get().proposal
    panel.get_by_role("link", name=f"Open the proposed draft v{draft.version}").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(messages).to_contain_text(f"Submitted v{draft.version}")

    page.context.clear_cookies()
    log_in(manager)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    page.get_by_role("button", name="Approve").click()
    expect(messages).to_contain_text(f"Approved v{draft.version}")

    page.context.clear_cookies()
    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    page.get_by_role("button", name="Publish").click()
    expect(messages).to_contain_text(f"Published v{draft.version}: every lead is being rescored.")
    assert RescoreJob.objects.get(model=draft).leads_total == 600


ROOT = Path(__file__).resolve().parents[2]


def _x_education() -> Path:
    path = Path(os.environ.get("HANDOFF_SHARED_DATA", "")) / "x-education" / "Leads.csv"
    if not path.exists():
        pytest.skip("HANDOFF_SHARED_DATA does not point at the shared data folder")
    return path


def test_the_proposal_from_x_education_reads_side_by_side_on_a_laptop_and_a_phone(
    page, live_server, log_in, marketing_ops, screenshot
):
    mapping = parse_mapping(
        json.loads((ROOT / "leads" / "mappings" / "x_education.json").read_text())
    )
    with _x_education().open("rb") as file:
        import_leads(file=file, mapping=mapping)
    run = start_recalibration(source="history", outcome="known", by=marketing_ops)
    run_recalibration(run_id=run.pk)

    log_in(marketing_ops)
    for width, name in (
        (1280, "recalibration-x-education"),
        (390, "recalibration-x-education-phone"),
    ):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/admin/feedback/recalibration/{run.pk}/change/")
        panel = page.locator("#recalibration")
        expect(panel).to_contain_text("A draft is proposed.")
        expect(panel).to_contain_text("Learned from 9,240 imported leads with a known outcome")
        # No date column is mapped for this file: the panel says the split is random.
        expect(panel).to_contain_text("no date to put them in order")
        table = panel.locator("table.side-by-side")
        expect(table.get_by_role("columnheader", name="Live version (v1)")).to_be_visible()
        expect(table.get_by_role("row", name="AUC")).to_contain_text(" to ")
        expect(table.get_by_role("row", name="Acceptance of MQLs")).to_contain_text("%")
        expect(panel).to_contain_text("Post contact tags")  # the left-out columns, named
        # The page itself never scrolls sideways: wide tables scroll inside themselves.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow} px wider than a {width} px screen"
        screenshot(name)
