from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from leads.models import Lead, Stage
from leads.signals import leads_changed
from scoring.models import LeadScore, MQLSnapshot
from scoring.services import rescore_leads, score_lead
from scoring.services.scores import qualify_lead
from scoring.signals import lead_became_mql
from tests import factories


@pytest.fixture
def hot_lead(db):
    """A VP at a 500-person company who requested a demo and saw pricing:
    15 + 10 + 30 + 20 = 75 under the default model."""
    lead_services.upsert_account(domain="bigco.com", name="BigCo", employee_count=500)
    lead, _ = lead_services.upsert_lead(
        email="vp@bigco.com", source=factories.source(), title="VP Marketing"
    )
    factories.make_activity(lead, "demo_request", occurred_at=timezone.now() - timedelta(hours=2))
    factories.make_activity(
        lead, "pricing_page_view", occurred_at=timezone.now() - timedelta(hours=1)
    )
    return lead


def test_a_lead_that_crosses_the_threshold_becomes_an_mql_with_a_snapshot(hot_lead):
    announced = []
    lead_became_mql.connect(
        lambda **kw: announced.append(kw["lead_id"]), weak=False, dispatch_uid="test-announce"
    )
    try:
        score = score_lead(lead_id=hot_lead.pk)
    finally:
        lead_became_mql.disconnect(dispatch_uid="test-announce")

    hot_lead.refresh_from_db()
    assert score.total == 75
    assert hot_lead.stage == Stage.MQL
    snapshot = MQLSnapshot.objects.get(lead=hot_lead)
    assert snapshot.total == 75
    assert [line["rule"] for line in snapshot.explanation] == [
        "Senior title",
        "Company of 200 employees or more",
        "Demo request",
        "Pricing page visit",
    ]
    change = hot_lead.stage_changes.get()
    assert change.reason.startswith("Score 75 ≥ 75 (fit 25, engagement 50; model v1)")
    assert announced == [hot_lead.pk]


def test_a_lead_whose_stage_changed_since_it_was_read_is_not_qualified(hot_lead):
    score_lead(lead_id=hot_lead.pk)  # an MQL now, with a score
    stale = Lead.objects.get(pk=hot_lead.pk)
    stale.stage = Stage.NURTURE  # as a caller read it before someone acted
    score = LeadScore.objects.select_related("model").get(lead=hot_lead)

    assert qualify_lead(lead=stale, score=score, model=score.model) is False
    assert MQLSnapshot.objects.filter(lead=hot_lead).count() == 1
    assert Lead.objects.get(pk=hot_lead.pk).stage == Stage.MQL


def test_scoring_again_does_not_make_a_second_mql(hot_lead):
    score_lead(lead_id=hot_lead.pk)
    score_lead(lead_id=hot_lead.pk)

    assert MQLSnapshot.objects.filter(lead=hot_lead).count() == 1
    assert hot_lead.stage_changes.count() == 1


def test_a_recycled_lead_needs_new_engagement_to_qualify_again(hot_lead):
    score_lead(lead_id=hot_lead.pk)
    lead_services.change_stage(lead=hot_lead, to_stage=Stage.RECYCLED, reason="not now")

    score_lead(lead_id=hot_lead.pk)
    hot_lead.refresh_from_db()
    assert hot_lead.stage == Stage.RECYCLED

    factories.make_activity(hot_lead, "pricing_page_view", occurred_at=timezone.now())
    score_lead(lead_id=hot_lead.pk)
    hot_lead.refresh_from_db()
    assert hot_lead.stage == Stage.MQL


def test_rescoring_a_set_gives_the_same_scores_as_one_by_one(hot_lead):
    cold = factories.make_lead("intern@tinyco.io", title="Intern")
    factories.make_activity(cold, "content_download")
    now = timezone.now()

    result = rescore_leads(lead_ids=[hot_lead.pk, cold.pk], as_of=now)
    bulk_scores = {s.lead_id: (s.total, s.explanation) for s in LeadScore.objects.all()}
    for lead in (hot_lead, cold):
        score_lead(lead_id=lead.pk, as_of=now)
    single_scores = {s.lead_id: (s.total, s.explanation) for s in LeadScore.objects.all()}

    assert result.scored == 2
    assert result.became_mql == 1
    assert bulk_scores == single_scores


# --- a lead's account changes ------------------------------------------------------


@pytest.fixture
def announced(db):
    """The lead ids announced on leads_changed (what scoring rescores on commit)."""
    sent: list[list[int]] = []

    def record(sender, lead_ids, **kwargs):
        sent.append(sorted(lead_ids))

    leads_changed.connect(record, weak=False, dispatch_uid="test-announced")
    yield sent
    leads_changed.disconnect(dispatch_uid="test-announced")


def test_a_lead_is_rescored_when_its_account_grows(announced):
    """Fit counts the account's size (10 points from 200 employees): an account
    update announces its leads, and their new score has the points."""
    lead_services.upsert_account(domain="growing.io", name="Growing", employee_count=50)
    lead, _ = lead_services.upsert_lead(
        email="ana@growing.io", source=factories.source(), title="Analyst"
    )
    bystander = factories.make_lead("bo@elsewhere.io")
    score_lead(lead_id=lead.pk)
    assert LeadScore.objects.get(lead=lead).fit == 0
    announced.clear()

    lead_services.upsert_account(domain="growing.io", employee_count=50)  # nothing new
    assert announced == []
    lead_services.upsert_account(domain="growing.io", employee_count=500)
    assert announced == [[lead.pk]]

    rescore_leads(lead_ids=announced[0])
    assert LeadScore.objects.get(lead=lead).fit == 10
    assert not LeadScore.objects.filter(lead=bystander).exists()


def test_an_account_edited_in_the_admin_announces_its_leads(announced, client):
    account, _ = lead_services.upsert_account(
        domain="growing.io", name="Growing", employee_count=50
    )
    lead, _ = lead_services.upsert_lead(email="ana@growing.io", source=factories.source())
    announced.clear()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "x"))
    form = {
        "name": "Growing",
        "domain": "growing.io",
        "industry": "",
        "employee_count": "50",
        "annual_revenue": "",
        "country": "",
        "last_funding_date": "",
        "owner": "",
        # The other-domains inline, left empty.
        "other_domains-TOTAL_FORMS": "0",
        "other_domains-INITIAL_FORMS": "0",
    }
    url = reverse("admin:leads_account_change", args=[account.pk])

    assert client.post(url, form).status_code == 302  # saved unchanged
    assert announced == []
    assert client.post(url, {**form, "employee_count": "500"}).status_code == 302
    assert announced == [[lead.pk]]


# --- New events ---------------------------------------------------------------------------


def test_new_events_queue_their_leads_rescore_after_commit(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "scoring.tasks.rescore_engaged_leads.delay", lambda **kwargs: queued.append(kwargs)
    )
    lead, other = factories.make_lead("ana@events.io"), factories.make_lead("bo@events.io")
    events = [
        lead_services.ActivityEvent(
            lead_id=who.pk,
            kind="pricing_page_view",
            occurred_at=timezone.now(),
            source_system="web",
            external_id=f"e{n}",
        )
        for n, who in enumerate([other, lead, lead])
    ]

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.record_activities(events=events)
        assert queued == []  # not before the events are there to read

    assert queued == [{"lead_ids": sorted([lead.pk, other.pk])}]


@pytest.mark.parametrize("leads", [3, 25])  # one by one, and set-wise past 20
def test_rescoring_after_events_gives_the_set_wise_scores(db, leads):
    from scoring.services import rescore_after_events

    ids = []
    for n in range(leads):
        lead = factories.make_lead(f"lead{n}@events.io")
        for _ in range(n % 4):
            factories.make_activity(lead, "demo_request")
        factories.make_activity(lead, "content_download")
        ids.append(lead.pk)

    rescore_after_events(lead_ids=ids)
    after_events = dict(LeadScore.objects.values_list("lead_id", "total"))
    rescore_leads(lead_ids=ids)

    assert sorted(after_events) == sorted(ids)
    assert after_events == dict(LeadScore.objects.values_list("lead_id", "total"))
    assert len(set(after_events.values())) > 1
