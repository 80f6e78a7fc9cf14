"""A new version of the MQL definition, from draft to live, in the browser.

Marketing ops clone the live version and change a rule; a sales manager
approves; marketing ops publish and watch the rescore. Chunk messages go to
the broker with no worker listening: the test runs the chunks itself, as a
worker would, and the progress page picks the result up by polling.
"""

import pytest
from playwright.sync_api import expect

from scoring import services
from scoring.models import ModelStatus, RescoreChunk, RescoreJob, Rule, ScoringModel
from tests import factories

pytestmark = pytest.mark.e2e


def log_out(page):
    page.context.clear_cookies()


def test_a_new_version_goes_from_draft_to_live_with_both_teams(
    page, live_server, log_in, marketing_ops, manager, screenshot
):
    for _ in range(3):
        factories.make_lead(title="VP Marketing")
    live = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    messages = page.locator(".messagelist")

    # Marketing ops: clone the live version, give a senior title more points, submit.
    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/")
    page.get_by_role("link", name=live.name).click()
    page.get_by_role("button", name="Clone into a new draft").click()
    draft = ScoringModel.objects.get(version=live.version + 1)
    expect(messages).to_contain_text(f"New draft v{draft.version}, cloned from v{live.version}.")

    senior_title = page.locator("tr.form-row", has=page.locator("input[value='Senior title']"))
    live = senior_title.locator(".rule-live")
    expect(live).to_contain_text("matches 3 leads now")  # counted when the page opens
    senior_title.locator("input[name$='-points']").fill("20")
    senior_title.locator("input[name$='-points']").press("Tab")
    expect(live).to_contain_text("+20 points")  # the row reads anew as it is edited
    expect(live).to_contain_text("matches 3 leads now")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(messages).to_contain_text("was changed successfully")
    assert Rule.objects.get(model=draft, name="Senior title").points == 20
    page.set_viewport_size({"width": 1280, "height": 1000})
    screenshot("scoring-model-admin")

    page.get_by_role("link", name="Preview impact").click()
    expect(page.locator("#newly-qualify")).to_have_text("0")
    expect(page.locator("#impact-by-source")).to_contain_text("Inbound form")
    screenshot("scoring-preview-impact")
    page.get_by_role("link", name=f"Back to v{draft.version}").click()

    page.get_by_role("button", name="Submit for approval").click()
    expect(messages).to_contain_text(f"Submitted v{draft.version} for a sales manager's approval.")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # The sales manager reads it (no way to edit) and approves.
    log_out(page)
    log_in(manager)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    expect(page.locator("input[name$='-points']")).to_have_count(0)
    page.get_by_role("button", name="Approve").click()
    expect(messages).to_contain_text(f"Approved v{draft.version}: marketing ops can publish it.")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)

    # Marketing ops publish, and land on the rescore's progress.
    log_out(page)
    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    page.get_by_role("button", name="Publish").click()
    expect(messages).to_contain_text(f"Published v{draft.version}: every lead is being rescored.")
    progress = page.locator("#rescore-progress")
    expect(progress).to_contain_text("Scored 0 of 3 leads (0 %)")

    job = RescoreJob.objects.get(model=draft)
    for chunk in RescoreChunk.objects.filter(job=job):
        services.run_rescore_chunk(chunk_id=chunk.pk)  # what a worker does

    expect(progress).to_contain_text("Scored 3 of 3 leads (100 %)", timeout=10_000)
    expect(progress.get_by_role("heading")).to_have_text("Done")
    screenshot("scoring-rescore-progress")

    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    expect(page.locator(".version-status")).to_contain_text("Rescored 3 leads")
    page.goto(f"{live_server.url}/definition/")
    expect(page.locator("#mql-summary")).to_contain_text("its total at least 75")
    expect(page.get_by_text("+20 points").first).to_be_visible()


def test_ops_pick_countries_from_their_data_instead_of_typing_them(
    page, live_server, log_in, marketing_ops
):
    for country, leads in [("Germany", 3), ("France", 2), ("Spain", 1)]:
        for _ in range(leads):
            factories.make_lead(country=country)
    live = ScoringModel.objects.get(status=ModelStatus.PUBLISHED)
    draft = services.clone_model(source=live, by=marketing_ops, name="Countries")

    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{draft.pk}/change/")
    row = page.locator("tr.form-row", has=page.locator("input[value='Senior title']"))
    row.locator("input[name$='-field']").fill("country")
    row.locator("select[name$='-operator']").select_option("in")
    row.locator("input[name$='-value']").fill("")
    row.locator("input[name$='-value']").press("Tab")
    picks = row.locator(".rule-live button.rule-pick")
    expect(picks).to_have_text(["Germany", "France", "Spain"])  # most leads first

    row.get_by_role("button", name="Germany").click()
    row.get_by_role("button", name="France").click()

    expect(row.locator("input[name$='-value']")).to_have_value("Germany, France")
    expect(row.locator(".rule-live")).to_contain_text("matches 5 leads now")
