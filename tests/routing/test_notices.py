"""A new MQL reaches its SDR: a real SMTP server on loopback (aiosmtpd) and a
local HTTP receiver standing in for the chat webhook both get the message.
Reminders and breaches go the same ways."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from handoff.models import Delivery, Notice, NoticeKind
from handoff.notices.services import save_notice_preferences
from routing.services import route_mql, watch_sla_clocks
from routing.services.assign import reassign


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }
    try:
        yield inbox
    finally:
        controller.stop()


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.status = 200
        port = free_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/hooks/sam"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.stop()


ALL_CHANNELS = {kind: ["app", "email", "chat"] for kind in NoticeKind.values}


def test_a_new_mql_reaches_its_sdr_by_email_and_chat_after_commit(
    inbound,
    make_sdr,
    make_mql,
    smtp_server,
    chat_receiver,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    sam = make_sdr("sam", queue=inbound)
    save_notice_preferences(user=sam, channels=ALL_CHANNELS, chat_url=chat_receiver.url)
    lead = make_mql(email="ada@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        assignment = route_mql(lead_id=lead.pk)

    [(recipients, raw)] = smtp_server.messages
    email = message_from_bytes(raw, policy=policy.default)
    assert recipients == ["sam@example.com"]
    assert email["Subject"].startswith("[Handoff] New MQL for you: ada@acme.example")
    assert f"/queue/{assignment.pk}/" in email.get_payload(decode=True).decode()
    [(path, payload)] = chat_receiver.posts
    assert path == "/hooks/sam"
    assert payload["message"].startswith("New MQL for you: ada@acme.example")
    assert payload["message"].endswith(f"/queue/{assignment.pk}/")
    notice = Notice.objects.get(user=sam, kind=NoticeKind.ASSIGNED)
    assert (notice.email, notice.chat, notice.attempts) == (Delivery.SENT, Delivery.SENT, 1)


def test_nothing_is_sent_before_commit(inbound, make_sdr, make_mql, smtp_server, celery_eager):
    make_sdr("sam", queue=inbound)

    route_mql(lead_id=make_mql().pk)  # the test's transaction never commits

    assert smtp_server.messages == []
    assert Notice.objects.get().email == Delivery.PENDING


def test_a_queue_webhook_serves_members_without_their_own(
    inbound, make_sdr, make_mql, chat_receiver, celery_eager, django_capture_on_commit_callbacks
):
    inbound.chat_webhook_url = chat_receiver.url
    inbound.save()
    sam = make_sdr("sam", queue=inbound)
    save_notice_preferences(user=sam, channels={NoticeKind.ASSIGNED: ["app", "chat"]}, chat_url="")

    with django_capture_on_commit_callbacks(execute=True):
        route_mql(lead_id=make_mql().pk)

    assert len(chat_receiver.posts) == 1


def test_reminders_and_breaches_go_the_same_ways(
    inbound,
    make_sdr,
    make_mql,
    smtp_server,
    chat_receiver,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    sam = make_sdr("sam", queue=inbound)
    save_notice_preferences(user=sam, channels=ALL_CHANNELS, chat_url=chat_receiver.url)
    assignment = route_mql(lead_id=make_mql().pk)  # its notice is not sent: no commit

    with django_capture_on_commit_callbacks(execute=True):
        watch_sla_clocks(now=assignment.remind_at + timedelta(seconds=1))
        watch_sla_clocks(now=assignment.due_at + timedelta(seconds=1))

    subjects = sorted(
        str(message_from_bytes(raw, policy=policy.default)["Subject"]).strip()
        for _, raw in smtp_server.messages
    )
    assert len(subjects) == 2, subjects
    assert subjects[0].startswith("[Handoff] SLA breached: mql1@example.com was due ")
    assert subjects[1].startswith("[Handoff] mql1@example.com is due ")
    assert len(chat_receiver.posts) == 2


def test_a_reassigned_mql_tells_both_sdrs(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    assignment = route_mql(lead_id=make_mql().pk)
    olivia = make_sdr("olivia", queue=inbound)

    new = reassign(assignment=assignment, reason="Sam is off sick")

    assert new.sdr == olivia
    assert sorted(Notice.objects.values_list("user__username", "kind")) == [
        ("olivia", "assigned"),
        ("sam", "assigned"),
        ("sam", "reassigned"),
    ]
    assert Notice.objects.get(kind="reassigned").text == (
        "mql1@example.com was reassigned: Sam is off sick."
    )


def test_a_chat_receiver_that_fails_is_tried_again_later_and_email_is_not_resent(
    inbound, make_sdr, make_mql, smtp_server, chat_receiver
):
    from handoff.notices.delivery import TryAgainLater, deliver_notice

    sam = make_sdr("sam", queue=inbound)
    save_notice_preferences(user=sam, channels=ALL_CHANNELS, chat_url=chat_receiver.url)
    route_mql(lead_id=make_mql().pk)
    notice = Notice.objects.get()
    chat_receiver.status = 503

    now = timezone.now()
    with pytest.raises(TryAgainLater) as tried:
        deliver_notice(notice_id=notice.pk, now=now)
    chat_receiver.status = 200
    deliver_notice(notice_id=notice.pk, now=now + tried.value.retry_in)

    notice.refresh_from_db()
    assert tried.value.retry_in == timedelta(seconds=30)
    assert (notice.email, notice.chat, notice.attempts) == (Delivery.SENT, Delivery.SENT, 2)
    assert len(smtp_server.messages) == 1
    assert len(chat_receiver.posts) == 2
