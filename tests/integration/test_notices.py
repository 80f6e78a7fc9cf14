"""A new MQL reaches its SDR within seconds through a real worker: by email
to a real SMTP server on loopback and to a chat webhook receiver."""

import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group, User

from handoff.models import Delivery, Notice, NoticeKind
from handoff.notices.services import save_notice_preferences
from leads.models import Stage
from leads.services import change_stage, upsert_lead
from routing.models import Queue
from routing.services import join_queue, route_mql
from tests import factories
from tests.integration.conftest import wait_for
from tests.routing.test_notices import Inbox, Receiver, free_port

pytestmark = pytest.mark.integration


def test_a_new_mql_reaches_its_sdr_within_seconds(worker_starter):
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    chat = Receiver()
    try:
        worker_starter(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(port),
            SMTP_TLS="false",
            SITE_URL="https://handoff.example.com",
        )
        sam = User.objects.create_user("sam", email="sam@example.com", password="x-long-password")
        sam.groups.add(Group.objects.get(name="SDR"))
        join_queue(queue=Queue.objects.get(name="Inbound MQLs"), sdr=sam)
        save_notice_preferences(
            user=sam, channels={NoticeKind.ASSIGNED: ["app", "email", "chat"]}, chat_url=chat.url
        )
        lead, _ = upsert_lead(email="ada@acme.example", source=factories.source())
        change_stage(lead=lead, to_stage=Stage.MQL, reason="test")

        started = time.monotonic()
        assignment = route_mql(lead_id=lead.pk)  # commits: the worker is told at once
        wait_for(
            lambda: len(inbox.messages) == 1 and len(chat.posts) == 1,
            timeout=10,
            what="the email and the chat message",
        )
        took = time.monotonic() - started
    finally:
        smtp.stop()
        chat.stop()

    [(recipients, raw)] = inbox.messages
    email = message_from_bytes(raw, policy=policy.default)
    assert recipients == ["sam@example.com"]
    assert str(email["Subject"]).strip().startswith("[Handoff] New MQL for you: ada@acme.example")
    link = f"https://handoff.example.com/queue/{assignment.pk}/"
    assert link in email.get_content()
    assert chat.posts[0][1]["message"].endswith(link)
    assert took < 5
    wait_for(lambda: Notice.objects.get(user=sam).chat == Delivery.SENT, what="the notice marked")
    assert Notice.objects.get(user=sam).email == Delivery.SENT
