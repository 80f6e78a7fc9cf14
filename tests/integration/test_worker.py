"""Round trips through a real Celery worker on Redis and PostgreSQL."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from leads import services as lead_services
from leads.importing.services import start_import
from leads.models import ImportJob, Lead, Stage
from scoring.models import LeadScore, MQLSnapshot
from tests import factories
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_an_uploaded_import_is_run_by_the_worker(celery_worker_process, marketing_ops):
    csv = "Prospect ID,Lead Number,Converted,Country\r\np-1,1001,1,India\r\np-2,1002,0,Select\r\n"
    mapping = {
        "source": "inbound_form",
        "identifier": {"column": "Prospect ID", "field": "external_id"},
        "placeholders": ["Select"],
        "outcome": {"column": "Converted", "true": ["1"], "false": ["0"]},
        "columns": {
            "Lead Number": {"attribute": "lead_number", "type": "number"},
            "Country": {"field": "country"},
        },
    }

    job = start_import(
        file=ContentFile(csv.encode(), name="two.csv"), mapping=mapping, by=marketing_ops
    )

    wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).status == "done",
        what="the worker to run the import",
    )
    assert sorted(Lead.objects.values_list("external_id", "country", "known_outcome")) == [
        ("p-1", "India", True),
        ("p-2", "", False),
    ]


def test_an_event_pushed_through_the_api_is_scored_by_the_worker(
    celery_worker_process, integration_client
):
    lead_services.upsert_account(domain="bigco.com", name="BigCo", employee_count=500)
    lead, _ = lead_services.upsert_lead(
        email="vp@bigco.com", source=factories.source(), title="VP Marketing"
    )
    wait_for(lambda: LeadScore.objects.filter(lead=lead).exists(), what="the new lead to be scored")
    assert LeadScore.objects.get(lead=lead).total == 25  # fit only: senior title, big company

    now = timezone.now()
    response = integration_client.post(
        "/api/activities/",
        [
            {
                "lead_email": "vp@bigco.com",
                "kind": "demo_request",
                "source_system": "web",
                "external_id": "e-1",
                "occurred_at": (now - timedelta(minutes=5)).isoformat(),
            },
            {
                "lead_email": "vp@bigco.com",
                "kind": "pricing_page_view",
                "source_system": "web",
                "external_id": "e-2",
                "occurred_at": now.isoformat(),
            },
        ],
        format="json",
    )
    assert response.status_code == 201

    wait_for(lambda: LeadScore.objects.get(lead=lead).total == 75, what="the events to be scored")
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert MQLSnapshot.objects.get(lead=lead).total == 75
