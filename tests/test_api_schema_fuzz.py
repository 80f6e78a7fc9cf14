"""Schemathesis throws what the API's own schema allows, and what it does not,
at every operation: no answer is a server error, and every 4xx says what was
wrong.

The schema is the one the app serves at /api/schema/ (made by the same
generator), and the requests go through the WSGI app in-process (no server).
Requests carry a marketing ops user's session and CSRF token (the role with
the widest write access to leads). It is bounded and seeded, so CI sees the
same examples on every run: 20 per operation, with hostile texts mixed into
the generated strings and, half the time, the id of a row that exists in the
paths.
"""

import json

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils.crypto import get_random_string
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from leads.models import Stage
from leads.services import change_stage, upsert_lead
from routing.models import Queue
from routing.services import join_queue, route_mql
from tests import factories

EXAMPLES_PER_OPERATION = 20


def api_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


# Texts that have broken, or could break, what stores or shows them: NUL (which
# PostgreSQL refuses in text and jsonb), formulas, a right-to-left override, a
# long text.
HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    '=HYPERLINK("https://evil.example","x")',
    "+1",
    "@SUM(A1)",
    " ",
    "\u202e",
    "a" * 5000,
]

# Generated when the tests are collected, by the generator behind /api/schema/
# (which answers only signed-in users, and there is no database yet).
schema = schemathesis.openapi.from_dict(
    api_schema(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
                # The session is ours (below), not a generated cookie.
                "with-security-parameters": False,
                "dictionaries": {"string": {"dictionary": "hostile", "probability": 0.3}},
            },
            "dictionaries": {"hostile": {"values": HOSTILE_TEXT}},
            # The coverage phase sends hundreds of cases per operation: over a minute in all.
            "phases": {"coverage": {"enabled": False}},
        }
    ),
)
schema.app = application  # cases are called through the WSGI app, in-process

# The rows the test made, by the collection a path's id names (filled per test).
EXISTING: dict[str, int] = {}
COLLECTION_OF_ID = {
    "leads": "lead",
    "scores": "lead",
    "accounts": "account",
    "account-scores": "account",
    "activities": "activity",
    "assignments": "assignment",
    "queues": "queue",
    "memberships": "membership",
    "person-exports": "lead",
}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, the id in the path is one of a row that exists."""
    collection = context.operation.path.split("/")[2]
    existing = EXISTING.get(COLLECTION_OF_ID.get(collection, ""))
    if existing is None or not path_parameters or len(path_parameters) != 1:
        return st.just(path_parameters)
    (name,) = path_parameters
    return st.sampled_from([path_parameters, {name: existing}])


@pytest.fixture(autouse=True)
def _quick_users(settings):
    # Two users per operation: the default password hash would cost more than the requests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def in_process_requests(db):
    """Requests run in the test's thread, on its connection and inside its
    transaction (rolled back after the test). Django would close that
    connection around each request, as its own test client knows."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def session(in_process_requests, marketing_ops, sdr):
    """Marketing ops' session and CSRF token, as a browser would send them; and
    an MQL with its account, an activity, and its assignment to an SDR."""
    membership = join_queue(queue=Queue.objects.get(name="Inbound MQLs"), sdr=sdr)
    lead, _ = upsert_lead(email="ada@acme.example", company_name="Acme", source=factories.source())
    activity = factories.make_activity(lead)
    change_stage(lead=lead, to_stage=Stage.MQL, reason="fuzz")
    assignment = route_mql(lead_id=lead.pk)
    lead.refresh_from_db()
    EXISTING.clear()
    EXISTING.update(
        lead=lead.pk,
        account=lead.account_id,
        activity=activity.pk,
        assignment=assignment.pk,
        queue=membership.queue_id,
        membership=membership.pk,
    )
    browser = Client()
    browser.force_login(marketing_ops)
    csrf = get_random_string(32)  # a CSRF secret: the cookie and the header must agree
    return {
        "cookies": {
            django_settings.SESSION_COOKIE_NAME: browser.cookies[
                django_settings.SESSION_COOKIE_NAME
            ].value,
            django_settings.CSRF_COOKIE_NAME: csrf,
        },
        "headers": {"X-CSRFToken": csrf},
    }


def says_what_was_wrong(ctx, response, case):
    """A 4xx answer is JSON with a message: a non-empty detail, or the fields
    and what is wrong with each."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(
            f"{response.status_code} without a JSON message: {response.content[:200]!r}"
        ) from error
    assert body, f"{response.status_code} with an empty body"
    if isinstance(body, dict) and "detail" in body:
        assert isinstance(body["detail"], str) and body["detail"].strip(), body
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error_and_every_refusal_says_why(case, session):
    # A database error aborts the whole transaction: back to before the request,
    # so that the next example starts clean and the failure found is this one.
    savepoint = transaction.savepoint_create()
    response = case.call(**session)
    if response.status_code >= 500:
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
    case.validate_response(response, checks=[not_a_server_error, says_what_was_wrong])
