"""Redis down while events arrive: the API keeps taking them, and the sweep
scores every lead once Redis is back.

The app (gunicorn) and a worker run in their own processes on a Redis of this
test's own, so stopping it leaves the suite's Redis alone.
"""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from leads import services as lead_services
from leads.models import Activity, Lead
from scoring import services as scoring_services
from scoring.models import LeadScore
from scoring.tasks import catch_up_unscored_leads
from tests import factories
from tests.integration.checks import assert_scores_match_a_fresh_scoring, scored_since_last_event
from tests.integration.conftest import _test_database_url, wait_for
from tests.integration.servers import RedisServer, start_web

pytestmark = pytest.mark.integration

KINDS = ["demo_request", "pricing_page_view", "content_download", "page_view"]
_event_numbers = itertools.count(1)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web_on(tmp_path):
    """Starts the app under gunicorn on the test database and a given broker."""
    started = []

    def start(broker_url: str):
        server = start_web(
            tmp_path / f"web-{len(started)}.log",
            database_url=_test_database_url(),
            broker_url=broker_url,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def auth(integration_client) -> str:
    """The integration account's Authorization header, for requests over HTTP."""
    return integration_client._credentials["HTTP_AUTHORIZATION"]


def post_events(web, auth: str, events: list[dict], **options):
    return web.request("POST", "/api/activities/", body=events, authorization=auth, **options)


def make_leads(count: int) -> list[Lead]:
    source = factories.source()
    return [
        lead_services.upsert_lead(
            email=f"buyer{n}@company{n}.com",
            source=source,
            title="VP Sales" if n % 2 else "Analyst",
        )[0]
        for n in range(count)
    ]


def events_for(leads: list[Lead], per_lead: int) -> list[dict]:
    now = timezone.now()
    return [
        {
            "lead_email": lead.email,
            "kind": KINDS[(lead.pk + i) % len(KINDS)],
            "url": "https://example.com/pricing",
            "source_system": "web",
            "external_id": f"evt-{next(_event_numbers)}",
            "occurred_at": (now - timedelta(hours=i)).isoformat(),
        }
        for lead in leads
        for i in range(per_lead)
    ]


def test_events_sent_while_redis_is_down_are_stored_and_scored_once_it_is_back(
    worker_starter, web_on, redis_server, auth
):
    leads = make_leads(30)
    lead_ids = [lead.pk for lead in leads]
    scoring_services.rescore_leads(lead_ids=lead_ids)  # everyone starts scored, fit only
    web = web_on(redis_server.url)
    worker_starter(CELERY_BROKER_URL=redis_server.url)

    # Redis up: an event is scored by the worker, as usual.
    answer = post_events(web, auth, events_for(leads[:1], 1))
    assert answer.status == 201, answer.text
    wait_for(lambda: scored_since_last_event(lead_ids[:1]), what="the usual rescore")

    redis_server.stop()
    scored_before = dict(LeadScore.objects.values_list("lead_id", "scored_at"))
    sent, answers = [], []
    for start in range(0, 30, 10):
        batch = events_for(leads[start : start + 10], 8)
        sent += batch
        answers.append(post_events(web, auth, batch))
    answers.append(post_events(web, auth, sent[:10]))

    assert [a.status for a in answers] == [201, 201, 201, 200], [a.text for a in answers]
    slowest = max(a.seconds for a in answers)
    assert slowest < 2, f"a request took {slowest:.1f}s with Redis down"
    stored = sum(a.json()["stored"] for a in answers)
    duplicates = sum(a.json()["duplicates"] for a in answers)
    assert (stored, duplicates) == (240, 10)
    assert (
        Activity.objects.filter(external_id__in=[e["external_id"] for e in sent]).count() == stored
    )
    assert "was not queued" in web.log()
    assert dict(LeadScore.objects.values_list("lead_id", "scored_at")) == scored_before, (
        "a lead was rescored while the broker was down"
    )

    # Redis is back, empty: the messages sent meanwhile were never queued. The
    # sweep (run by beat every minute; sent here) finds the leads behind.
    redis_server.start()
    with app.connection_for_write(redis_server.url) as connection:
        catch_up_unscored_leads.apply_async(kwargs={"settle_seconds": 0}, connection=connection)
    wait_for(
        lambda: scored_since_last_event(lead_ids),
        timeout=40,
        what="the sweep to rescore every lead",
    )

    assert_scores_match_a_fresh_scoring(lead_ids)
    assert LeadScore.objects.filter(lead_id__in=lead_ids, engagement__gt=0).count() == 30


def test_a_frozen_redis_does_not_hold_requests(reference_data_kept, web_on, redis_server, auth):
    """A broker that takes connections but never answers (hung, or cut off by
    the network) costs a request a bounded wait, not forever."""
    lead = make_leads(1)[0]
    web = web_on(redis_server.url)
    assert post_events(web, auth, events_for([lead], 1)).status == 201

    redis_server.freeze()
    answer = post_events(web, auth, events_for([lead], 5), timeout=30)

    assert (answer.status, answer.json()) == (201, {"received": 5, "stored": 5, "duplicates": 0})
    assert answer.seconds < 5, f"the request took {answer.seconds:.1f}s with Redis frozen"
    assert Activity.objects.filter(lead=lead).count() == 6
