"""change_stages: the lifecycle's set-wise move (scoring's rescore uses it)."""

import pytest

from handoff.errors import DomainError
from leads.models import Lead, Stage, StageChange
from leads.services import change_stage, change_stages
from tests import factories


def test_only_the_leads_still_in_the_stage_move_and_each_move_is_recorded(db):
    first, second, moved_on = (factories.make_lead() for _ in range(3))
    change_stage(lead=moved_on, to_stage=Stage.MQL, reason="someone got there first")

    moved = change_stages(
        lead_ids=[first.pk, second.pk, moved_on.pk, first.pk],
        from_stage=Stage.LEAD,
        to_stage=Stage.NURTURE,
        reason="fit only",
    )

    assert moved == 2
    assert dict(Lead.objects.values_list("pk", "stage")) == {
        first.pk: Stage.NURTURE,
        second.pk: Stage.NURTURE,
        moved_on.pk: Stage.MQL,
    }
    assert sorted(
        StageChange.objects.filter(reason="fit only").values_list(
            "lead_id", "from_stage", "to_stage", "changed_by_name"
        )
    ) == [
        (first.pk, Stage.LEAD, Stage.NURTURE, ""),
        (second.pk, Stage.LEAD, Stage.NURTURE, ""),
    ]


def test_a_move_the_lifecycle_does_not_allow_is_refused(db):
    lead = factories.make_lead()

    with pytest.raises(DomainError, match="cannot go from Lead to Won"):
        change_stages(lead_ids=[lead.pk], from_stage=Stage.LEAD, to_stage=Stage.WON, reason="x")

    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD
    assert change_stages(lead_ids=[], from_stage=Stage.LEAD, to_stage=Stage.NURTURE, reason="") == 0
