"""PostgreSQL restarted under the app: a clear 503, nothing half written, and
the app back on its feet at the next request.

The app runs under gunicorn (one thread, so one persistent connection) on a
PostgreSQL cluster of this test's own, copied from the test database. The
restart lands in the middle of a request without a stopwatch: the test holds
a lock on a lead that the batch's commit needs, sees the request wait on it,
and restarts the cluster then.
"""

import os
import threading
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from leads import services as lead_services
from tests import factories
from tests.integration.conftest import _test_database_url, wait_for
from tests.integration.servers import PostgresCluster, start_web

pytestmark = pytest.mark.integration

UNAVAILABLE = "The database is unavailable right now. Try again in a moment."


@pytest.fixture
def cluster(reference_data_kept):
    cluster = PostgresCluster(f"fault-pg-{os.getpid()}")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def auth(integration_client) -> str:
    return integration_client._credentials["HTTP_AUTHORIZATION"]


def batch_for(emails: list[str], prefix: str) -> list[dict]:
    now = timezone.now()
    return [
        {
            "lead_email": emails[i % len(emails)],
            "kind": "page_view",
            "url": f"https://example.com/blog/{i}",
            "source_system": "web",
            "external_id": f"{prefix}-{i}",
            "occurred_at": (now - timedelta(minutes=i)).isoformat(),
        }
        for i in range(1000)
    ]


def libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def stored_rows(cluster: PostgresCluster, prefix: str) -> int:
    with psycopg.connect(libpq(cluster.url)) as db:
        return db.execute(
            "SELECT count(*) FROM leads_activity WHERE external_id LIKE %s", [f"{prefix}-%"]
        ).fetchone()[0]


def test_a_restart_mid_request_answers_503_and_writes_nothing(cluster, auth, tmp_path):
    emails = [
        lead_services.upsert_lead(email=f"ops{n}@plant{n}.com", source=factories.source())[0].email
        for n in range(5)
    ]
    cluster.load(_test_database_url())
    web = start_web(
        tmp_path / "web.log",
        database_url=cluster.url,
        broker_url=settings.CELERY_BROKER_URL,
        threads=1,
    )
    try:
        warm = web.request(
            "POST", "/api/activities/", body=batch_for(emails, "warm")[:10], authorization=auth
        )
        assert warm.status == 201, warm.text

        # Restarted between two requests: the app's kept connection is dead,
        # and the health check replaces it before the request uses it.
        cluster.restart()
        after_idle_restart = web.request(
            "POST", "/api/activities/", body=batch_for(emails, "idle")[:10], authorization=auth
        )
        assert after_idle_restart.status == 201, after_idle_restart.text

        # Restarted while a request's 1,000 rows are written but not committed.
        batch = batch_for(emails, "cut")
        answers = []
        holder = psycopg.connect(libpq(cluster.url))
        try:
            holder.execute("SELECT 1 FROM leads_lead WHERE email = %s FOR UPDATE", [emails[0]])
            request = threading.Thread(
                target=lambda: answers.append(
                    web.request("POST", "/api/activities/", body=batch, authorization=auth)
                )
            )
            request.start()
            wait_for(lambda: lock_waiters(holder) == 1, what="the request to wait on the lock")
            cluster.restart()  # ends the holder's session too
        finally:
            holder.close()
        request.join(timeout=60)

        cut = answers[0]
        assert cut.status == 503, cut.text
        assert cut.json() == {"detail": UNAVAILABLE}
        assert cut.headers["Retry-After"] == "5"
        assert stored_rows(cluster, "cut") == 0, "the cut request left some of its rows"

        # The client sends the batch again, as told: all of it is stored, once.
        again = web.request("POST", "/api/activities/", body=batch, authorization=auth)
        assert (again.status, again.json()) == (
            201,
            {"received": 1000, "stored": 1000, "duplicates": 0},
        )
        assert stored_rows(cluster, "cut") == 1000
        assert "Database unavailable during POST /api/activities/" in web.log()
    finally:
        web.stop()


def lock_waiters(holder: psycopg.Connection) -> int:
    # Inside a transaction the statistics views keep the first snapshot read.
    holder.execute("SELECT pg_stat_clear_snapshot()")
    return holder.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
        "'Lock' AND pid <> pg_backend_pid()"
    ).fetchone()[0]
