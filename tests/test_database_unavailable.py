"""A database that drops the connection answers 503 with a clear message,
never the bare 500 page. (tests/integration/test_database_restart.py restarts
a real PostgreSQL under the app; these pin the answer's shape, page by page.)"""

import psycopg
import pytest
from django.db import IntegrityError, OperationalError

from handoff.middleware import DATABASE_BUSY, DATABASE_UNAVAILABLE


def dropped(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def deadlocked(*args, **kwargs):
    try:
        raise psycopg.errors.DeadlockDetected("deadlock detected")
    except psycopg.Error as error:
        raise OperationalError("deadlock detected") from error


def test_an_api_request_gets_a_json_503_with_retry_after(monkeypatch, api_as, marketing_ops):
    monkeypatch.setattr("leads.api.leads_visible_to", dropped)

    response = api_as(marketing_ops).get("/api/leads/")

    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert response["Retry-After"] == "5"


def test_a_page_gets_a_plain_503_page(monkeypatch, client_as, sdr):
    monkeypatch.setattr("routing.views.assignments_for_sdr", dropped)

    response = client_as(sdr).get("/queue/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert f"<p>{DATABASE_UNAVAILABLE}</p>" in response.content.decode()


def test_a_transaction_lost_to_a_deadlock_is_called_busy(monkeypatch, api_as, marketing_ops):
    monkeypatch.setattr("leads.api.leads_visible_to", deadlocked)

    response = api_as(marketing_ops).get("/api/leads/")

    assert (response.status_code, response.json()) == (503, {"detail": DATABASE_BUSY})


def test_other_database_errors_are_still_bugs(monkeypatch, api_as, marketing_ops):
    def broken(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("leads.api.leads_visible_to", broken)

    with pytest.raises(IntegrityError):
        api_as(marketing_ops).get("/api/leads/")
