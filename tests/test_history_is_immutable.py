"""Stage history, merges and the audit trail cannot be rewritten in the admin,
even by roles whose group grants them every permission on those models."""

import pytest

from handoff import audit
from leads.models import Stage
from leads.services import change_stage
from tests import factories


@pytest.fixture
def history(db, marketing_ops):
    lead = factories.make_lead()
    change = change_stage(lead=lead, to_stage=Stage.MQL, reason="test")
    entry = audit.record(actor=marketing_ops, action="changed", obj=lead)
    return change, entry


@pytest.mark.parametrize(
    "url",
    [
        "/admin/leads/stagechange/{change}/delete/",
        "/admin/leads/stagechange/add/",
        "/admin/handoff/auditentry/{entry}/delete/",
    ],
)
def test_history_cannot_be_added_or_deleted_in_the_admin(client_as, marketing_ops, history, url):
    change, entry = history

    response = client_as(marketing_ops).get(url.format(change=change.pk, entry=entry.pk))

    assert response.status_code == 403


def test_a_stage_change_can_be_read_but_not_edited(client_as, marketing_ops, history):
    change, _ = history

    page = client_as(marketing_ops).get(f"/admin/leads/stagechange/{change.pk}/change/")

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
