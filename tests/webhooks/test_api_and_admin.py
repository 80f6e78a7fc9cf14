"""Managing endpoints: the API (its own token scope) and the admin (the secret
shown once, a test event, the delivery log, send again)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from handoff import tokens
from handoff.models import ApiTokenScope, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@pytest.fixture
def hooks_api(integration_user):
    issued = tokens.issue_token(
        name="Hooks", scopes=[ApiTokenScope.WEBHOOKS_MANAGE], user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


NEW = {"name": "Warehouse", "url": "https://hooks.example.org/in", "event_types": ["lead.mql"]}


def test_the_secret_is_in_the_answer_that_makes_it_and_never_again(hooks_api):
    made = hooks_api.post("/api/webhook-endpoints/", NEW, format="json")

    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    assert made.json()["status"] == "active"
    listed = hooks_api.get("/api/webhook-endpoints/").json()["results"]
    shown = hooks_api.get(f"/api/webhook-endpoints/{made.json()['id']}/").json()
    assert "secret" not in listed[0] and "secret" not in shown
    assert secret not in str(listed) + str(shown)


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_the_grace_period(hooks_api):
    made = hooks_api.post("/api/webhook-endpoints/", NEW, format="json").json()

    rotated = hooks_api.post(f"/api/webhook-endpoints/{made['id']}/rotate-secret/")

    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in ("", made["secret"])
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.previous_secret == made["secret"]
    assert endpoint.previous_secret_expires_at is not None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"event_types": ["lead.maybe"]}, "event_types", "is not a valid choice"),
        ({"event_types": []}, "event_types", "may not be empty"),
        ({"url": "ftp://example.org/x"}, "url", "starts with https://"),
        ({"status": "disabled"}, "status", "is not a valid choice"),
    ],
)
def test_bad_input_is_refused_naming_the_field(hooks_api, change, field, words):
    answer = hooks_api.post("/api/webhook-endpoints/", {**NEW, **change}, format="json")

    assert answer.status_code == 400
    assert words in str(answer.json()[field])


def test_an_address_on_the_servers_own_network_is_refused(hooks_api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    answer = hooks_api.post(
        "/api/webhook-endpoints/", {**NEW, "url": "http://169.254.169.254/latest"}, format="json"
    )

    assert answer.status_code == 400
    assert "own network" in answer.json()["url"][0]


def test_pausing_and_changing_types_through_the_api(hooks_api):
    made = hooks_api.post("/api/webhook-endpoints/", NEW, format="json").json()

    changed = hooks_api.patch(
        f"/api/webhook-endpoints/{made['id']}/",
        {"status": "paused", "event_types": ["lead.sql", "opportunity.won"]},
        format="json",
    )

    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["event_types"]) == (
        "paused",
        ["lead.sql", "opportunity.won"],
    )


def test_the_list_reads_in_a_fixed_number_of_queries(hooks_api, django_assert_num_queries):
    for n in range(3):
        hooks_api.post("/api/webhook-endpoints/", {**NEW, "name": f"E{n}"}, format="json")
    hooks_api.get("/api/webhook-endpoints/")  # warm the token's last-used stamp

    # The token, its user's permissions and groups, the count, the page.
    with django_assert_num_queries(5):
        answer = hooks_api.get("/api/webhook-endpoints/")
    assert answer.json()["count"] == 3


# --- The admin -------------------------------------------------------------------------------


def test_marketing_ops_add_an_endpoint_and_see_its_secret_once(client_as, marketing_ops):
    client = client_as(marketing_ops)

    added = client.post(
        "/admin/handoff/webhookendpoint/add/",
        {**NEW, "event_types": ["lead.mql", "lead.sql"], "status": "active"},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert added.status_code == 200 and "no-store" in added["Cache-Control"]
    assert endpoint.secret in added.content.decode()
    assert "cannot be shown again" in added.content.decode()
    page = client.get(f"/admin/handoff/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    assert "Send a test event" in page.content.decode()


def test_the_add_page_says_what_is_wrong(client_as, marketing_ops):
    answer = client_as(marketing_ops).post(
        "/admin/handoff/webhookendpoint/add/", {**NEW, "event_types": [], "status": "active"}
    )

    assert answer.status_code == 200
    assert "This field is required" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_test_event_reaches_the_receiver_and_the_delivery_log(
    client_as,
    marketing_ops,
    endpoint_to,
    receiver,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    made = endpoint_to(receiver.url)
    client = client_as(marketing_ops)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/admin/handoff/webhookendpoint/{made.endpoint.pk}/send-test/")

    assert sent.status_code == 302
    assert sent["Location"].endswith(f"?endpoint__id__exact={made.endpoint.pk}")
    (got,) = receiver.received
    assert got.verified(made.secret)["type"] == "webhook.test"
    log = client.get(sent["Location"]).content.decode()
    assert "webhook.test" in log and "200" in log and " ms" in log


def test_the_delivery_log_reads_in_a_fixed_number_of_queries(
    client_as, marketing_ops, endpoint_to, receiver, django_assert_max_num_queries
):
    from handoff.webhooks import delivery, services

    made = endpoint_to(receiver.url)
    for _ in range(5):
        services.send_test_event(endpoint=made.endpoint, by=marketing_ops)
    delivery.deliver_webhooks(endpoint_id=made.endpoint.pk)
    client = client_as(marketing_ops)
    client.get("/admin/handoff/webhookattempt/")

    with django_assert_max_num_queries(12):
        page = client.get("/admin/handoff/webhookattempt/")
    assert page.content.decode().count("webhook.test") >= 5


def test_send_again_from_the_log(client_as, marketing_ops, endpoint_to, receiver):
    from handoff.webhooks import delivery, services

    made = endpoint_to(receiver.url)
    services.send_test_event(endpoint=made.endpoint, by=marketing_ops)
    delivery.deliver_webhooks(endpoint_id=made.endpoint.pk)
    attempt = WebhookAttempt.objects.get()

    answer = client_as(marketing_ops).post(
        "/admin/handoff/webhookattempt/",
        {"action": "send_again", "_selected_action": [attempt.pk]},
        follow=True,
    )

    assert "1 event queued to be sent again" in answer.content.decode()
    assert WebhookDelivery.objects.get().status == "pending"
    delivery.deliver_webhooks(endpoint_id=made.endpoint.pk)
    assert len(receiver.received) == 2
