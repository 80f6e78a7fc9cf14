"""Two requests at the same moment, each on its own database connection: the
same event batch delivered twice, and two sessions of an SDR deciding on the
same MQL.

Where the race must really happen, the test holds a row lock that both
requests need, sees both of them wait on it in pg_stat_activity, and lets go:
they then run into each other whatever the machine's speed.
"""

import threading
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from handoff.models import AuditEntry
from leads import services as lead_services
from leads.models import Activity, Lead, LeadSource, Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Queue, Touch
from scoring.models import LeadScore
from tests import factories
from tests.integration.checks import assert_scores_match_a_fresh_scoring, scored_since_last_event
from tests.integration.conftest import wait_for
from tests.routing.test_queue_pages import mql_for, seat

pytestmark = pytest.mark.integration


def at_once(
    *calls: Callable[[], Any],
    held: Callable[[], None] | None = None,
) -> list[Any]:
    """Runs the calls in threads released together by a barrier; returns
    their results in order. With ``held``, a row lock taken by ``held()`` is
    kept until every call waits on a lock, then released."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # reported by the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    with lock_held(held) if held else _nothing():
        for thread in threads:
            thread.start()
        if held:

            def all_waiting() -> bool:
                finished = [r for r in results if r is not None]
                assert not finished, f"a request did not wait for the held lock: {finished}"
                return waiting_on_locks() >= len(calls)

            wait_for(
                all_waiting, timeout=30, what=f"{len(calls)} requests to wait on the held row lock"
            )
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


@contextmanager
def lock_held(take: Callable[[], None]):
    with transaction.atomic():
        take()
        yield


@contextmanager
def _nothing():
    yield


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views keep the first snapshot read.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


# --- The same batch, twice, at once ----------------------------------------------------------


def batch_for(leads: list[Lead], prefix: str) -> list[dict]:
    """100 events a lead: two demo requests (30 points each, no cap) and 98
    page views (no points): each lead's score is 60 if each counts once."""
    now = timezone.now()
    return [
        {
            "lead_email": lead.email,
            "kind": "demo_request" if i < 2 else "page_view",
            "url": f"https://example.com/docs/{i}",
            "source_system": "web",
            "external_id": f"{prefix}-{lead.pk}-{i}",
            "occurred_at": (now - timedelta(minutes=i)).isoformat(),
        }
        for lead in leads
        for i in range(100)
    ]


def post(client: APIClient, batch: list[dict]) -> tuple[int, dict]:
    response = client.post("/api/activities/", batch, format="json")
    return response.status_code, response.json()


@pytest.fixture
def ten_leads(reference_data_kept) -> list[Lead]:
    return [
        lead_services.upsert_lead(email=f"reader{n}@firm{n}.com", source=factories.source())[0]
        for n in range(10)
    ]


@pytest.fixture
def two_clients(integration_client) -> tuple[APIClient, APIClient]:
    """Two API clients with the integration account's credentials, each with
    its middleware loaded (a first request), so that only the posts race."""
    second = APIClient()
    second.credentials(**integration_client._credentials)
    for client in (integration_client, second):
        client.get("/api/activities/", {"page_size": 1})
    return integration_client, second


def test_the_same_batch_delivered_twice_at_once_is_stored_and_scored_once(
    celery_worker_process, ten_leads, two_clients
):
    batch = batch_for(ten_leads, "replayed")
    assert len(batch) == 1000
    first, second = two_clients

    answers = at_once(
        lambda: post(first, batch),
        lambda: post(second, batch),
        held=lambda: Lead.objects.select_for_update().get(pk=ten_leads[0].pk),
    )

    assert sorted(answers, key=lambda a: a[0]) == [
        (200, {"received": 1000, "stored": 0, "duplicates": 1000}),
        (201, {"received": 1000, "stored": 1000, "duplicates": 0}),
    ]
    assert Activity.objects.filter(source_system="web").count() == 1000
    lead_ids = [lead.pk for lead in ten_leads]
    wait_for(lambda: scored_since_last_event(lead_ids), what="the worker to score the batch")
    assert (
        sorted(LeadScore.objects.filter(lead_id__in=lead_ids).values_list("engagement", flat=True))
        == [60] * 10
    )
    assert_scores_match_a_fresh_scoring(lead_ids)


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(ten_leads, two_clients):
    """A sender that re-batches its retries sends the same events in another
    order. Rows inserted in the order sent took the same keys in opposite
    orders: one request of the two died of a deadlock, nine times in ten."""
    first, second = two_clients
    for round_ in range(3):
        batch = batch_for(ten_leads, f"round{round_}")

        answers = at_once(lambda b=batch: post(first, b), lambda b=batch: post(second, b[::-1]))

        assert sorted(status for status, _ in answers) == [200, 201], answers
        assert sum(body["stored"] for _, body in answers) == 1000
    assert Activity.objects.filter(source_system="web").count() == 3000


# --- The same new person, posted at once ------------------------------------------------------


def test_the_same_new_person_posted_at_once_is_one_lead_and_no_error(
    reference_data_kept, integration_client
):
    """A form posted twice, and the CRM sync, at the same moment. Each request
    finds no lead and inserts one; all but the first wait on the unique index
    and then hit it. The lead's source row, locked here, holds the first
    insert until every request has looked and is waiting."""
    clients = [integration_client] + [APIClient() for _ in range(3)]
    for client in clients:
        client.credentials(**integration_client._credentials)
        client.get("/api/leads/", {"page_size": 1})
    person = {"email": "ada@lovelace.example", "source": "inbound_form", "first_name": "Ada"}

    def post_person(client: APIClient) -> tuple[int, int | None]:
        response = client.post("/api/leads/", person, format="json")
        return response.status_code, response.json().get("id")

    answers = at_once(
        *[lambda c=client: post_person(c) for client in clients],
        held=lambda: LeadSource.objects.select_for_update().get(slug="inbound_form"),
    )

    lead = Lead.objects.get()
    assert sorted(answers) == [(200, lead.pk)] * 3 + [(201, lead.pk)]
    assert lead.first_name == "Ada"


# --- Two sessions of one SDR, one MQL ----------------------------------------------------------


@pytest.fixture
def open_mql(sdr, other_sdr) -> Assignment:
    seat([sdr, other_sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    return mql_for(sdr)


@pytest.mark.parametrize(
    "winner_first", [True, False], ids=["accept-vs-reject", "reject-vs-accept"]
)
def test_two_sessions_deciding_on_one_mql_at_once_record_one_decision(
    reference_data_kept, sdr, open_mql, winner_first
):
    """The SDR has the lead open on a laptop and a phone, and accepts on one
    while rejecting on the other. The row lock lets one through; the other
    is told what happened and changes nothing."""
    laptop, phone = Client(), Client()
    for session in (laptop, phone):
        session.force_login(sdr)
        assert session.get(f"/queue/{open_mql.pk}/").status_code == 200

    def accept():
        return laptop.post(f"/queue/{open_mql.pk}/accept/", {"note": "Booked a call"})

    def reject():
        return phone.post(f"/queue/{open_mql.pk}/reject/", {"reason": "no_budget", "note": ""})

    calls = (accept, reject) if winner_first else (reject, accept)

    responses = at_once(
        *calls, held=lambda: Assignment.objects.select_for_update().get(pk=open_mql.pk)
    )

    by_status = {r.status_code: r for r in responses}
    assert sorted(by_status) == [302, 409], [r.status_code for r in responses]
    open_mql.refresh_from_db()
    open_mql.lead.refresh_from_db()
    decided = {
        AssignmentStatus.ACCEPTED: ("accepted", Touch.Kind.ACCEPT, Stage.SAL),
        AssignmentStatus.REJECTED: ("rejected", Touch.Kind.REJECT, Stage.NURTURE),
    }
    assert open_mql.status in decided, open_mql.status
    word, touch_kind, stage = decided[open_mql.status]

    refusal = by_status[409].content.decode()
    assert f"This MQL was already {word}; nothing was changed." in refusal
    assert open_mql.lead.stage == stage
    # One decision: one touch, one stage change out of MQL, one audit entry.
    assert list(Touch.objects.filter(assignment=open_mql).values_list("kind", flat=True)) == [
        touch_kind
    ]
    assert list(
        StageChange.objects.filter(lead=open_mql.lead)
        .order_by("changed_at", "pk")
        .values_list("from_stage", "to_stage")
    ) == [(Stage.LEAD, Stage.MQL), (Stage.MQL, stage)]
    assert Counter(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Assignment),
            object_id=str(open_mql.pk),
        ).values_list("action", flat=True)
    ) == {"assigned": 1, word: 1}
