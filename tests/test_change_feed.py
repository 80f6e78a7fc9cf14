"""The change feeds (``/api/<endpoint>/changes/?changed_after=``): a poller
walking them never misses or repeats a change, even with many rows written at
the same instant and a transaction that started earlier committing later.

These tests commit (``transaction=True``): the feed hands out only rows whose
transaction has ended, which rows written inside a test's own open
transaction never are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from feedback.services import record_opportunity
from handoff import tokens
from handoff.models import ApiTokenScope
from leads.models import Lead, Stage
from leads.services import update_lead
from routing.models import Assignment, AssignmentStatus, Queue
from scoring import services as scoring
from scoring.models import RescoreJob
from scoring.selectors import live_model
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ops_api(reference_data_kept, marketing_ops, api_as):
    return api_as(marketing_ops)


def walk(client, url: str, *, limit: int, cursor: str | None = None) -> tuple[list[dict], str]:
    """Every page from ``cursor`` on, as a poller reads them; the cursor to keep."""
    rows: list[dict] = []
    params = {"limit": limit, **({"changed_after": cursor} if cursor else {})}
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        cursor = body["cursor"] or cursor
        if body["next"] is None:
            return rows, cursor
        response = client.get(body["next"])


def many_leads_at_once(n: int) -> list[Lead]:
    """``n`` leads written by one statement: one transaction, one instant."""
    source = factories.source()
    now = timezone.now()
    return Lead.objects.bulk_create(
        Lead(email=f"same-instant-{i}@example.com", source=source, created_at=now, updated_at=now)
        for i in range(n)
    )


def test_many_rows_written_at_the_same_instant_are_each_handed_out_once(ops_api):
    leads = many_leads_at_once(250)

    rows, cursor = walk(ops_api, "/api/leads/changes/", limit=100)

    assert sorted(r["id"] for r in rows) == sorted(lead.pk for lead in leads)
    assert len({r["id"] for r in rows}) == 250
    again, same_cursor = walk(ops_api, "/api/leads/changes/", limit=100, cursor=cursor)
    assert again == [] and same_cursor == cursor


def test_a_change_after_reading_comes_in_the_next_page_once_with_its_new_state(ops_api):
    first, _, third = many_leads_at_once(3)
    _, cursor = walk(ops_api, "/api/leads/changes/", limit=2)

    update_lead(lead=first, title="VP Marketing")
    Lead.objects.filter(pk=third.pk).update(country="Iceland")  # a bulk writer, no save()

    rows, cursor = walk(ops_api, "/api/leads/changes/", limit=2, cursor=cursor)
    assert [(r["id"], r["title"], r["country"]) for r in rows] == [
        (first.pk, "VP Marketing", ""),
        (third.pk, "", "Iceland"),
    ]
    assert walk(ops_api, "/api/leads/changes/", limit=2, cursor=cursor)[0] == []


def test_a_transaction_that_began_earlier_and_commits_later_is_not_skipped(ops_api):
    early, late = many_leads_at_once(2)
    _, cursor = walk(ops_api, "/api/leads/changes/", limit=10)
    db = connection.settings_dict
    slow = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
    )
    try:
        # The slow writer takes its transaction id first, then others commit.
        slow.execute("UPDATE leads_lead SET title = 'Slow writer' WHERE id = %s", [early.pk])
        update_lead(lead=late, title="Quick writer")

        waiting, held_cursor = walk(ops_api, "/api/leads/changes/", limit=10, cursor=cursor)
        # The quick one waits behind the open transaction: handing it out now
        # would move the cursor past the slow one, which would then be lost.
        assert waiting == [] and held_cursor == cursor

        slow.commit()
    finally:
        slow.close()
    rows, cursor = walk(ops_api, "/api/leads/changes/", limit=10, cursor=cursor)
    assert [(r["id"], r["title"]) for r in rows] == [
        (early.pk, "Slow writer"),
        (late.pk, "Quick writer"),
    ]
    assert walk(ops_api, "/api/leads/changes/", limit=10, cursor=cursor)[0] == []


def test_scores_written_by_the_set_wise_rescore_come_in_the_score_feed(ops_api, monkeypatch):
    chunks: list[int] = []
    monkeypatch.setattr(
        "scoring.tasks.rescore_chunk.delay", lambda *, chunk_id: chunks.append(chunk_id)
    )
    leads = [factories.make_lead(title="CTO") for _ in range(3)]
    with transaction.atomic():
        scoring.start_rescore(model=live_model(), reason=RescoreJob.Reason.MANUAL)
    for chunk_id in chunks:
        scoring.run_rescore_chunk(chunk_id=chunk_id)

    rows, cursor = walk(ops_api, "/api/scores/changes/", limit=2)

    assert sorted(r["lead"] for r in rows) == sorted(lead.pk for lead in leads)
    assert walk(ops_api, "/api/scores/changes/", limit=2, cursor=cursor)[0] == []


def test_assignments_and_opportunities_have_feeds_too(ops_api, reference_data_kept):
    lead = factories.make_lead(stage=Stage.SAL)
    assignment = Assignment.objects.create(
        lead=lead, queue=Queue.objects.first(), status=AssignmentStatus.WAITING
    )
    opportunity = record_opportunity(
        crm_id="OPP-1",
        lead=lead,
        amount=Decimal("1200"),
        status="open",
        created_on=date(2026, 1, 5),
    ).opportunity

    assignments, a_cursor = walk(ops_api, "/api/assignments/changes/", limit=5)
    opportunities, o_cursor = walk(ops_api, "/api/opportunities/changes/", limit=5)
    assert [r["id"] for r in assignments] == [assignment.pk]
    assert [r["id"] for r in opportunities] == [opportunity.pk]

    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.OPEN)
    record_opportunity(
        crm_id="OPP-1",
        lead=lead,
        amount=Decimal("1200"),
        status="won",
        created_on=date(2026, 1, 5),
        closed_on=date(2026, 2, 1),
    )
    assert [
        r["status"] for r in walk(ops_api, "/api/assignments/changes/", limit=5, cursor=a_cursor)[0]
    ] == ["open"]
    assert [
        r["status"]
        for r in walk(ops_api, "/api/opportunities/changes/", limit=5, cursor=o_cursor)[0]
    ] == ["won"]


@pytest.mark.parametrize("url", ["/api/leads/changes/", "/api/assignments/changes/"])
def test_a_page_costs_the_same_queries_however_many_rows(ops_api, url, django_assert_num_queries):
    queue = Queue.objects.first()
    ops_api.get(url)  # the user's roles and permissions, read once per request user
    for n in (2, 40):
        Lead.objects.all().delete()
        for lead in many_leads_at_once(n):
            Assignment.objects.create(lead=lead, queue=queue, status=AssignmentStatus.WAITING)
        with django_assert_num_queries(QUERIES[url]):
            response = ops_api.get(url, {"limit": 100})
        assert len(response.json()["results"]) == n


# One query for the page with all it shows (lead, source, account, owner;
# the assignment's SDR, queue, lead and score).
QUERIES = {"/api/leads/changes/": 1, "/api/assignments/changes/": 1}


def test_an_sdr_follows_only_their_own_leads(reference_data_kept, sdr, other_sdr, api_as):
    mine = factories.make_lead(owner=sdr)
    factories.make_lead(owner=other_sdr)

    rows, _ = walk(api_as(sdr), "/api/leads/changes/", limit=10)

    assert [r["id"] for r in rows] == [mine.pk]


def test_a_token_reads_the_feed_with_the_endpoints_read_scope(
    reference_data_kept, integration_user
):
    factories.make_lead()
    crm = tokens.issue_token(
        name="CRM", scopes=[ApiTokenScope.LEADS_READ], user=integration_user, by=None
    )
    forms = tokens.issue_token(
        name="Forms", scopes=[ApiTokenScope.LEADS_WRITE], user=integration_user, by=None
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {crm.key}")
    assert len(client.get("/api/leads/changes/").json()["results"]) == 1
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forms.key}")
    refused = client.get("/api/leads/changes/")
    assert refused.status_code == 403 and "leads:read" in refused.json()["detail"]


@pytest.mark.parametrize("cursor", ["yesterday", "12", "1.2.3", "-1.5", "9" * 60])
def test_a_cursor_the_feed_did_not_give_is_refused_by_name(ops_api, cursor):
    response = ops_api.get("/api/leads/changes/", {"changed_after": cursor})

    assert response.status_code == 400
    assert "changed_after" in response.json()


def test_a_limit_out_of_range_is_refused_by_name(ops_api):
    response = ops_api.get("/api/leads/changes/", {"limit": 5000})

    assert response.status_code == 400
    assert "limit" in response.json()
