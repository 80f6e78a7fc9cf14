"""The kernel's notices: recording them, preferences, the pages, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from handoff.models import Delivery, Notice, NoticeKind, NoticePreferences
from handoff.notices import delivery
from handoff.notices.services import notify, save_notice_preferences


def tell(user, n: int = 1, kind: NoticeKind = NoticeKind.REMINDER, **fields) -> Notice | None:
    return notify(user=user, kind=kind, text=f"Notice {n}", link=f"/queue/{n}/", **fields)


# --- Recording -------------------------------------------------------------------------


def test_by_default_a_new_mql_goes_to_the_app_and_by_email(sdr):
    sdr.email = "sam@example.com"
    sdr.save()

    notice = tell(sdr, kind=NoticeKind.ASSIGNED)

    assert (notice.in_app, notice.email, notice.chat) == (True, Delivery.PENDING, "")


def test_without_an_email_address_no_email_is_pending(sdr):
    notice = tell(sdr, kind=NoticeKind.ASSIGNED)

    assert notice.email == ""


def test_the_same_event_is_told_once(sdr):
    first = tell(sdr, about="assignment:1")
    second = tell(sdr, about="assignment:1")

    assert (first is not None, second) == (True, None)
    assert Notice.objects.count() == 1


def test_a_kind_switched_off_records_nothing(sdr):
    save_notice_preferences(user=sdr, channels={NoticeKind.REMINDER: []}, chat_url="")

    assert tell(sdr) is None
    assert Notice.objects.count() == 0


def test_chat_only_is_not_shown_in_the_app(sdr):
    save_notice_preferences(
        user=sdr, channels={NoticeKind.REMINDER: ["chat"]}, chat_url="https://chat.example/hook"
    )

    notice = tell(sdr)

    assert (notice.in_app, notice.chat, notice.chat_url) == (
        False,
        Delivery.PENDING,
        "https://chat.example/hook",
    )


@pytest.mark.parametrize(
    "url", ["slack://T000/B000/XXX", "mailto://me@example.com", "file:///etc/passwd", "ftp://x/y"]
)
def test_webhook_urls_that_are_not_http_are_refused(sdr, url):
    with pytest.raises(ValidationError) as refused:
        save_notice_preferences(user=sdr, channels={}, chat_url=url)

    assert refused.value.messages == [
        "A chat webhook URL starts with https:// (or http://), "
        "like the incoming webhook Slack or Microsoft Teams gives you."
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.7/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_webhooks_to_this_servers_own_network_are_refused(sdr, settings, url):
    settings.CHAT_WEBHOOKS_ALLOW_PRIVATE = False

    with pytest.raises(ValidationError) as refused:
        save_notice_preferences(user=sdr, channels={}, chat_url=url)

    assert refused.value.messages[0].endswith(
        "is an address on this server's own network: a chat webhook goes to a chat "
        "service on the internet, such as Slack or Microsoft Teams."
    )


def test_a_public_webhook_is_accepted_with_private_addresses_refused(sdr, settings):
    settings.CHAT_WEBHOOKS_ALLOW_PRIVATE = False

    save_notice_preferences(user=sdr, channels={}, chat_url="https://93.184.215.14/hooks/sam")


def test_slack_and_teams_webhooks_get_their_own_apprise_service(settings):
    from handoff.notices.webhooks import apprise_service

    slack = apprise_service("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX")
    teams = apprise_service(
        "https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
        "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=xyz"
    )
    other = apprise_service("https://chat.example/hook")

    assert [type(s).__name__ for s in (slack, teams, other)] == [
        "NotifySlack",
        "NotifyWorkflows",
        "NotifyJSON",
    ]
    assert (other.socket_connect_timeout, other.socket_read_timeout) == (
        settings.CHAT_TIMEOUT_SECONDS,
        settings.CHAT_TIMEOUT_SECONDS,
    )


# --- Delivery and the sweep ------------------------------------------------------------


def test_the_sweep_finds_pending_notices_whose_message_was_lost(sdr):
    sdr.email = "sam@example.com"
    sdr.save()
    lost = tell(sdr, 1)
    fresh = tell(sdr, 2)
    later = tell(sdr, 3)
    now = timezone.now()
    Notice.objects.filter(pk__in=[lost.pk, later.pk]).update(created_at=now - timedelta(minutes=5))
    Notice.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=1))

    assert delivery.undelivered_notices(now=now) == [lost.pk]
    assert fresh.pk not in delivery.undelivered_notices(now=now)


def test_a_delivered_notice_is_not_sent_again(sdr, mailoutbox):
    sdr.email = "sam@example.com"
    sdr.save()
    notice = tell(sdr)

    delivery.deliver_notice(notice_id=notice.pk)
    delivery.deliver_notice(notice_id=notice.pk)

    assert len(mailoutbox) == 1
    notice.refresh_from_db()
    assert (notice.email, notice.attempts, notice.claimed_at) == (Delivery.SENT, 1, None)


def test_a_notice_claimed_by_a_live_worker_is_left_alone(sdr, mailoutbox):
    sdr.email = "sam@example.com"
    sdr.save()
    notice = tell(sdr)
    Notice.objects.filter(pk=notice.pk).update(claimed_at=timezone.now())

    delivery.deliver_notice(notice_id=notice.pk)

    assert mailoutbox == []


def test_after_the_last_attempt_a_failing_channel_is_marked_failed(sdr, settings):
    settings.NOTICE_MAX_ATTEMPTS = 2
    save_notice_preferences(
        user=sdr, channels={NoticeKind.REMINDER: ["chat"]}, chat_url="http://127.0.0.1:9/hook"
    )
    notice = tell(sdr)

    with pytest.raises(delivery.TryAgainLater):
        delivery.deliver_notice(notice_id=notice.pk)
    delivery.deliver_notice(notice_id=notice.pk, now=timezone.now() + timedelta(minutes=1))

    notice.refresh_from_db()
    assert (notice.chat, notice.attempts, notice.next_attempt_at) == (Delivery.FAILED, 2, None)
    assert notice.last_error.startswith("chat: The chat webhook at 127.0.0.1:9 did not take")


def test_an_unexpected_error_marks_the_channel_failed_and_is_not_retried(sdr, monkeypatch):
    sdr.email = "sam@example.com"
    sdr.save()
    notice = tell(sdr)

    def broken(notice: Notice) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setitem(delivery.SENDERS, "email", broken)
    delivery.deliver_notice(notice_id=notice.pk)

    notice.refresh_from_db()
    assert (notice.email, notice.attempts, notice.next_attempt_at) == (Delivery.FAILED, 1, None)
    assert notice.last_error == "email: RuntimeError('a bug')"
    assert delivery.undelivered_notices(now=timezone.now() + timedelta(hours=1)) == []


def test_backoff_doubles_up_to_half_an_hour():
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [
        30,
        60,
        120,
        1800,
        1800,
        1800,
    ]


# --- The pages -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 8])
def test_the_notices_page_costs_the_same_queries_for_1_or_8_notices(
    client_as, sdr, count, django_assert_num_queries
):
    for n in range(count):
        tell(sdr, n)
    client = client_as(sdr)

    # session, user, roles, count for the paginator, the page, the unread count
    with django_assert_num_queries(6):
        response = client.get("/notices/")

    assert len(response.context["notices"]) == count


def test_the_notices_page_lists_the_newest_first_and_pages(client_as, sdr, other_sdr):
    for n in range(30):
        tell(sdr, n)
    tell(other_sdr, 99)

    first = client_as(sdr).get("/notices/")
    second = client_as(sdr).get("/notices/", {"page": 2})

    assert [n.text for n in first.context["notices"]][:2] == ["Notice 29", "Notice 28"]
    assert len(first.context["notices"]) == 25
    assert [n.text for n in second.context["notices"]][-1] == "Notice 0"
    assert "Notice 99" not in first.content.decode() + second.content.decode()


def test_marking_a_notice_read_with_htmx_answers_the_list_and_the_count(client_as, sdr):
    notice = tell(sdr)

    response = client_as(sdr).post(
        "/notices/read/", {"notice": notice.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="notice-page"' in html
    assert '<span id="notice-count" hx-swap-oob="true">' in html
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_all_read_without_javascript_redirects_to_the_list(client_as, sdr):
    tell(sdr, 1)
    tell(sdr, 2)

    response = client_as(sdr).post("/notices/read/")

    assert (response.status_code, response["Location"]) == (302, "/notices/")
    assert Notice.objects.filter(read_at__isnull=True).count() == 0


def test_the_settings_page_shows_the_defaults(client_as, sdr):
    response = client_as(sdr).get("/settings/notices/")

    form = response.context["form"]
    assert response.status_code == 200
    assert form[NoticeKind.ASSIGNED].initial == ["app", "email"]
    assert form[NoticeKind.REASSIGNED].initial == ["app"]


def test_the_settings_page_saves_the_choices(client_as, sdr):
    response = client_as(sdr).post(
        "/settings/notices/",
        {
            "assigned": ["app", "chat"],
            "breach": ["email"],
            "chat_url": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX",
        },
    )

    assert (response.status_code, response["Location"]) == (302, "/settings/notices/")
    preferences = NoticePreferences.objects.get(user=sdr)
    assert preferences.channels == {
        "assigned": ["app", "chat"],
        "reminder": [],
        "breach": ["email"],
        "escalation": [],
        "reassigned": [],
        "approval": [],
        "digest": [],
        "alert": [],
        "webhook_disabled": [],
    }
    assert preferences.chat_url == "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX"


def test_the_settings_page_refuses_a_webhook_that_is_not_http(client_as, sdr):
    response = client_as(sdr).post(
        "/settings/notices/", {"assigned": ["chat"], "chat_url": "slack://T0000/B0000/XXX"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["chat_url"] == [
        "A chat webhook URL starts with https:// (or http://), "
        "like the incoming webhook Slack or Microsoft Teams gives you."
    ]
    assert not NoticePreferences.objects.exists()
