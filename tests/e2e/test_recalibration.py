"""A recalibration, from proposal to live, in the browser.

Marketing ops start a recalibration from imported history, read the proposal
beside the live version and submit the draft it wrote; a sales manager
approves; marketing ops publish and the rescore starts. No worker listens:
the test runs the recalibration and the chunks itself, as a worker would.
"""

import pytest
from playwright.sync_api import expect

from feedback.models import Recalibration
from feedback.recalibration import run_recalibration
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
    expect(panel).to_contain_text("plan is pro")
    expect(panel.get_by_role("cell", name="Live version (v1)")).to_be_visible()
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
