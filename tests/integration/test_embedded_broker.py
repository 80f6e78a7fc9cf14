"""`make run` uses Celery's SQLite broker: a real worker must start on it and
run a task sent through it."""

import pytest
from kombu import Connection

from config.celery import app
from leads import services as lead_services
from scoring.models import LeadScore
from tests import factories
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_worker_on_the_embedded_sqlite_broker_runs_a_task(worker_starter, tmp_path):
    lead, _ = lead_services.upsert_lead(
        email="cto@bigco.com", source=factories.source(), title="CTO"
    )
    worker_starter(CELERY_BROKER_URL=None, HANDOFF_VAR_DIR=str(tmp_path))

    # A bare connection: this process's app carries options meant for Redis.
    with Connection(f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}") as connection:
        app.send_task(
            "scoring.rescore_leads", kwargs={"lead_ids": [lead.pk]}, connection=connection
        )

    wait_for(
        lambda: LeadScore.objects.filter(lead=lead).exists(), what="the worker on the SQLite broker"
    )
    assert LeadScore.objects.get(lead=lead).fit == 15
