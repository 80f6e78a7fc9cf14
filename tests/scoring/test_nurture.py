"""Fit-only leads (fit enough, not engaged enough) go to nurture, by the
single-lead engine and the set-wise rescore alike, and qualify as usual once
they engage."""

from datetime import timedelta

from django.utils import timezone

from leads import services as lead_services
from leads.models import Lead, Stage, StageChange
from scoring.selectors import live_model
from scoring.services import rescore_leads, score_lead
from scoring.services.scores import rescore_id_range
from tests import factories

REASON = "Fit only: fit ≥ 10 but engagement below 20 (model v1); nurtured until it engages"


def vp_at_bigco(email: str = "vp@bigco.com") -> Lead:
    """Fit 25 under the default model (senior title, 500 employees), no engagement."""
    lead_services.upsert_account(domain="bigco.com", name="BigCo", employee_count=500)
    lead, _ = lead_services.upsert_lead(email=email, source=factories.source(), title="VP Sales")
    return lead


def test_a_fit_only_lead_moves_to_nurture_with_the_reason(db):
    lead = vp_at_bigco()

    score = score_lead(lead_id=lead.pk)

    lead.refresh_from_db()
    assert (score.fit, score.engagement) == (25, 0)
    assert lead.stage == Stage.NURTURE
    change = lead.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.reason, change.who) == (
        Stage.LEAD,
        Stage.NURTURE,
        REASON,
        "system",
    )


def test_a_lead_without_fit_stays_a_lead(db):
    lead = factories.make_lead("student@gmail.com", title="Intern")

    score_lead(lead_id=lead.pk)

    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_the_set_wise_rescore_moves_the_same_leads_to_nurture(db):
    fit_only = vp_at_bigco()
    other = vp_at_bigco("cto@bigco.com")
    no_fit = factories.make_lead("someone@gmail.com", title="Intern")
    recycled = vp_at_bigco("ceo@bigco.com")
    lead_services.change_stage(lead=recycled, to_stage=Stage.MQL, reason="test")
    lead_services.change_stage(lead=recycled, to_stage=Stage.RECYCLED, reason="not now")

    result = rescore_leads(lead_ids=[fit_only.pk, other.pk, no_fit.pk, recycled.pk])

    stages = dict(Lead.objects.values_list("email", "stage"))
    assert stages == {
        "vp@bigco.com": Stage.NURTURE,
        "cto@bigco.com": Stage.NURTURE,
        "someone@gmail.com": Stage.LEAD,
        "ceo@bigco.com": Stage.RECYCLED,  # sales sent it back: left where it is
    }
    assert result.nurtured == 2
    assert set(
        StageChange.objects.filter(to_stage=Stage.NURTURE).values_list("lead__email", "reason")
    ) == {("vp@bigco.com", REASON), ("cto@bigco.com", REASON)}


def test_a_rescore_after_publishing_nurtures_every_fit_only_lead_once(db):
    leads = [vp_at_bigco(f"p{n}@bigco.com") for n in range(3)]
    model = live_model()

    for _ in range(2):
        rescore_id_range(
            model=model,
            first_id=leads[0].pk,
            last_id=leads[-1].pk,
            as_of=timezone.now(),
            score_accounts=False,
        )

    assert set(Lead.objects.values_list("stage", flat=True)) == {Stage.NURTURE}
    assert Lead.objects.filter(stage_changes__to_stage=Stage.NURTURE).count() == 3


def test_a_nurtured_lead_that_engages_qualifies_as_usual(db):
    lead = vp_at_bigco()
    score_lead(lead_id=lead.pk)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.NURTURE

    factories.make_activity(lead, "demo_request", occurred_at=timezone.now() - timedelta(hours=2))
    factories.make_activity(
        lead, "pricing_page_view", occurred_at=timezone.now() - timedelta(hours=1)
    )
    score_lead(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert list(lead.stage_changes.order_by("pk").values_list("to_stage", flat=True)) == [
        Stage.NURTURE,
        Stage.MQL,
    ]


def test_a_nurtured_lead_that_engages_qualifies_through_the_set_wise_rescore_too(db):
    lead = vp_at_bigco()
    rescore_leads(lead_ids=[lead.pk])
    factories.make_activity(lead, "demo_request", occurred_at=timezone.now() - timedelta(hours=2))
    factories.make_activity(
        lead, "pricing_page_view", occurred_at=timezone.now() - timedelta(hours=1)
    )

    result = rescore_leads(lead_ids=[lead.pk])

    assert (result.became_mql, result.nurtured) == (1, 0)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
