import pytest
from django.utils import timezone

from handoff.errors import BatchError, ConflictError, DomainError
from leads import services
from leads.models import Account, Lead, LeadMerge, Stage, StageChange
from tests import factories


def test_upsert_lead_normalises_email_and_matches_case_insensitively(db):
    first, created = services.upsert_lead(
        email="  Ada.Lovelace@Analytical.io ", source=factories.source(), first_name="Ada"
    )
    again, created_again = services.upsert_lead(
        email="ada.lovelace@ANALYTICAL.io", source=factories.source("cold_list"), title="CTO"
    )

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert Lead.objects.count() == 1
    again.refresh_from_db()
    assert again.email == "ada.lovelace@analytical.io"
    assert again.first_name == "Ada"  # a blank in the second call does not erase it
    assert again.title == "CTO"
    assert again.source.slug == "inbound_form"  # where the person first came from


def test_upsert_lead_joins_the_account_of_its_company_domain(db):
    lead, _ = services.upsert_lead(
        email="buyer@www.Acme.com", source=factories.source(), company_name="Acme Inc"
    )
    colleague, _ = services.upsert_lead(email="cfo@acme.com", source=factories.source())

    assert lead.account is not None
    assert lead.account.domain == "acme.com"
    assert lead.account.name == "Acme Inc"
    assert colleague.account_id == lead.account_id
    assert Account.objects.count() == 1


@pytest.mark.parametrize("email", ["someone@gmail.com", "someone@mailinator.com"])
def test_free_mail_and_disposable_domains_never_make_an_account(db, email):
    lead, _ = services.upsert_lead(email=email, source=factories.source())

    assert lead.account is None
    assert Account.objects.count() == 0


def test_upsert_lead_merges_attributes_key_by_key(db):
    services.upsert_lead(email="a@b.io", source=factories.source(), attributes={"plan": "free"})
    lead, _ = services.upsert_lead(
        email="a@b.io", source=factories.source(), attributes={"seats": 4}
    )

    assert lead.attributes == {"plan": "free", "seats": 4}


def test_upsert_lead_needs_an_identifier(db):
    with pytest.raises(DomainError, match="needs an email or an external id"):
        services.upsert_lead(source=factories.source(), first_name="Nobody")


def test_change_stage_records_who_when_and_why(db, sdr):
    lead = factories.make_lead()

    change = services.change_stage(lead=lead, to_stage=Stage.MQL, reason="score 80 ≥ 75")
    services.change_stage(lead=lead, to_stage=Stage.SAL, by=sdr, reason="accepted")

    lead.refresh_from_db()
    assert lead.stage == Stage.SAL
    history = list(
        StageChange.objects.filter(lead=lead)
        .order_by("id")
        .values_list("from_stage", "to_stage", "changed_by", "reason")
    )
    assert history == [
        ("lead", "mql", None, "score 80 ≥ 75"),
        ("mql", "sal", sdr.pk, "accepted"),
    ]
    assert change.changed_at is not None


def test_change_stage_refuses_a_move_the_lifecycle_does_not_allow(db):
    lead = factories.make_lead()

    with pytest.raises(DomainError, match="cannot go from Lead to Won"):
        services.change_stage(lead=lead, to_stage=Stage.WON)
    assert StageChange.objects.count() == 0


def test_change_stage_refuses_a_stale_action(db, sdr, other_sdr):
    lead = factories.make_lead()
    services.change_stage(lead=lead, to_stage=Stage.MQL)
    services.change_stage(lead=lead, to_stage=Stage.SAL, by=sdr, expected_from=Stage.MQL)

    with pytest.raises(ConflictError, match="someone else acted on it first"):
        services.change_stage(
            lead=lead, to_stage=Stage.DISQUALIFIED, by=other_sdr, expected_from=Stage.MQL
        )


def test_merge_moves_activities_history_and_attributes_to_the_survivor(db, marketing_ops):
    survivor = factories.make_lead("jane@corp.io", attributes={"plan": "pro"})
    duplicate = factories.make_lead(
        "jane.doe@corp.io", title="VP Sales", attributes={"plan": "free", "seats": 10}
    )
    factories.make_activity(duplicate, "demo_request")
    factories.make_activity(duplicate, "page_view")
    services.change_stage(lead=duplicate, to_stage=Stage.NURTURE)

    merge = services.merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    survivor.refresh_from_db()
    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    assert survivor.activities.count() == 2
    # The duplicate's move, and the survivor's own to the further stage.
    assert survivor.stage_changes.count() == 2
    assert survivor.stage == Stage.NURTURE
    assert survivor.title == "VP Sales"
    assert survivor.attributes == {"plan": "pro", "seats": 10}
    assert merge.activities_moved == 2
    assert LeadMerge.objects.get().merged_email == "jane.doe@corp.io"
    assert merge.merged_snapshot["title"] == "VP Sales"


def test_recording_the_same_events_twice_stores_them_once(db):
    lead = factories.make_lead()
    events = [
        services.ActivityEvent(
            lead_id=lead.pk,
            kind="page_view",
            source_system="web",
            external_id=f"e{i}",
            occurred_at=lead.created_at,
        )
        for i in range(3)
    ]

    first = services.record_activities(events=events)
    second = services.record_activities(events=events)

    assert (first.stored, first.duplicates) == (3, 0)
    assert (second.stored, second.duplicates) == (0, 3)
    assert lead.activities.count() == 3


def _event(external_id: str, **lead_ref) -> dict:
    return {
        **lead_ref,
        "kind": "page_view",
        "url": "",
        "properties": {},
        "occurred_at": timezone.now(),
        "source_system": "web",
        "external_id": external_id,
    }


def test_ingesting_resolves_each_events_lead_and_stores_the_batch(db):
    by_id = factories.make_lead()
    by_email = factories.make_lead("ada@analytical.io")
    by_external_id = factories.make_lead(external_id="crm-7")

    result = services.ingest_activities(
        events=[
            _event("e1", lead=by_id.pk),
            _event("e2", lead_email="Ada@Analytical.io"),
            _event("e3", lead_external_id="crm-7"),
            _event("e1", lead=by_id.pk),
        ]
    )

    assert (result.received, result.stored, result.duplicates) == (4, 3, 1)
    assert [by_id.activities.count(), by_email.activities.count()] == [1, 1]
    assert by_external_id.activities.count() == 1


def test_ingesting_a_batch_with_an_unknown_lead_stores_none_of_it(db):
    lead = factories.make_lead()

    with pytest.raises(BatchError) as raised:
        services.ingest_activities(
            events=[_event("e1", lead=lead.pk), _event("e2", lead_email="nobody@nowhere.io")]
        )

    assert raised.value.errors == {1: {"lead_email": ["No lead matches this reference."]}}
    assert lead.activities.count() == 0


def test_set_owner_changes_the_owner_only(sdr):
    lead = factories.make_lead(title="CTO")
    stale = Lead.objects.get(pk=lead.pk)
    Lead.objects.filter(pk=lead.pk).update(title="CEO")

    services.set_owner(lead=stale, owner=sdr)

    lead.refresh_from_db()
    assert (stale.owner, lead.owner, lead.title) == (sdr, sdr, "CEO")
