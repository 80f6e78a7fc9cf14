import importlib
import os

# Playwright runs an event loop in the test thread; Django would otherwise
# refuse its synchronous ORM calls there. Must be set before Django sets up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from handoff import roles, tokens
from handoff.models import ApiTokenScope
from tests import factories

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and not os.environ.get("HANDOFF_TESTS_ON_SQLITE"):
        raise pytest.UsageError(
            "The tests run against PostgreSQL: use `make test`, which starts one, "
            "or set DATABASE_URL to a PostgreSQL database."
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that commit (and so flush the database after them, reference data
    included) run after every test that rolls back, as pytest-django orders
    them; pytest's own grouping by parametrized session fixtures (Playwright's
    browser) may have pulled some forward since. The sort is stable."""

    def commits(item) -> bool:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        return bool(marker and marker.kwargs.get("transaction")) or (
            "transactional_db" in fixtures or "live_server" in fixtures
        )

    def uses_db(item) -> bool:
        return item.get_closest_marker("django_db") is not None or "db" in getattr(
            item, "fixturenames", ()
        )

    items.sort(key=lambda item: 1 if commits(item) else 0 if uses_db(item) else 2)


def _user(username: str, role: str | None, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


# Data migrations that create reference data (roles, lead sources, the default
# scoring model). Their functions take an app registry, so they run as well
# against the live one.
REFERENCE_DATA = [
    ("leads.migrations.0002_sources_and_roles", "create_sources_and_roles"),
    ("leads.migrations.0004_importjob_permissions", "grant_import_permissions"),
    ("leads.migrations.0012_importmapping_permissions", "grant_mapping_permissions"),
    ("leads.migrations.0017_standard_event_intake", "grant_intake_permissions"),
    ("leads.migrations.0020_duplicate_candidate_permissions", "grant_duplicate_permissions"),
    ("leads.migrations.0022_account_domain_permissions", "grant_account_domain_permissions"),
    ("handoff.migrations.0002_audit_roles", "grant_audit_view"),
    ("handoff.migrations.0004_apitoken_roles", "grant_token_permissions"),
    ("handoff.migrations.0006_notices", "grant_notice_view"),
    ("handoff.migrations.0009_webhook_permissions", "grant_webhook_permissions"),
    ("scoring.migrations.0002_default_model_and_roles", "create_default_model"),
    ("routing.migrations.0002_defaults_and_roles", "create_defaults"),
    ("scoring.migrations.0005_committee_roles_and_permissions", "create_committees_and_grant"),
    ("scoring.migrations.0009_default_rules_described", "describe"),
    ("scoring.migrations.0014_hand_raise_kinds_and_permissions", "create_hand_raise_kinds"),
    ("feedback.migrations.0002_roles", "grant_feedback_permissions"),
    ("privacy.migrations.0002_grant_to_marketing_ops", "grant_privacy_permissions"),
]


@pytest.fixture
def reference_data_kept(transactional_db):
    """For tests that commit (live server, real workers): Django flushes the
    database after each of them, taking what migrations created with it, so
    the reference-data migrations run again first."""
    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(django_apps, None)


@pytest.fixture
def sdr(db):
    return _user("sam.sdr", roles.SDR, first_name="Sam", last_name="Reyes")


@pytest.fixture
def other_sdr(db):
    return _user("olivia.sdr", roles.SDR, first_name="Olivia", last_name="Park")


@pytest.fixture
def marketing_ops(db):
    return _user("mo.ops", roles.MARKETING_OPS, first_name="Mo", is_staff=True)


@pytest.fixture
def manager(db):
    return _user("max.manager", roles.SALES_MANAGER, first_name="Max", is_staff=True)


@pytest.fixture
def integration_user(db):
    return _user("crm-integration", roles.INTEGRATION)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def integration_client(integration_user):
    """An API client with a token of every scope, as the integration account."""
    issued = tokens.issue_token(
        name="Test integration", scopes=ApiTokenScope.values, user=integration_user, by=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


@pytest.fixture
def celery_eager():
    """Tasks sent while the test runs are run at once, in the test's process
    (for what a worker would do after commit: delivering a notice)."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_as():
    def login(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    return login


@pytest.fixture
def make_lead(db):
    return factories.make_lead


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, quiet: it must not try to reach the internet."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
