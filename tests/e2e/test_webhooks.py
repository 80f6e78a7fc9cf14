"""Marketing ops add a webhook endpoint in the admin, copy its secret, send it
a test event and see the attempt in its delivery log, with a real worker
sending to a real receiver."""

import pytest
from playwright.sync_api import expect

from config.celery import app
from handoff.models import WebhookEndpoint
from tests.integration.conftest import start_worker, stop_worker
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker(tmp_path):
    app.control.purge()
    process = start_worker(tmp_path / "worker.log")
    yield process
    stop_worker(process)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def test_marketing_ops_add_an_endpoint_send_a_test_event_and_see_it_in_the_log(
    page, live_server, log_in, marketing_ops, worker, receiver, screenshot
):
    log_in(marketing_ops)
    page.goto(f"{live_server.url}/admin/handoff/webhookendpoint/")
    expect(page.locator("#content")).to_contain_text("0 webhook endpoints")
    page.get_by_role("link", name="Add webhook endpoint").click()

    page.get_by_label("Name").fill("Data warehouse")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("A lead became an MQL").check()
    page.get_by_label("An SDR rejected an MQL (with the reason)").check()
    page.get_by_role("button", name="Add the endpoint").click()

    expect(page.locator(".messagelist")).to_contain_text("cannot be shown again")
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    assert WebhookEndpoint.objects.get().event_types == ["lead.mql", "mql.rejected"]
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot("webhook-secret")

    page.get_by_role("link", name="Go to the endpoint").click()
    page.get_by_role("button", name="Send a test event").click()
    expect(page.locator(".messagelist")).to_contain_text("queued for Data warehouse")

    # The worker sends it; the log shows the attempt once reloaded.
    log = page.locator("#result_list")
    for _ in range(40):
        if receiver.received:
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(log).to_contain_text("webhook.test")
    expect(log).to_contain_text("200")
    expect(log).to_contain_text(" ms")
    assert receiver.received[0].verified(secret)["type"] == "webhook.test"
    screenshot("webhook-delivery-log")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(log).to_contain_text("webhook.test")
