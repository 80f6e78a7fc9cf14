from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from handoff.errors import DomainError
from handoff.models import AuditEntry
from leads.models import Stage
from leads.services import change_stage, upsert_account, upsert_lead
from scoring import services
from scoring.models import JobStatus, LeadScore, ModelStatus, RescoreChunk, ScoringModel
from scoring.selectors import live_model
from tests import factories


@pytest.fixture
def draft(marketing_ops):
    return services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")


@pytest.fixture
def approved(draft, marketing_ops, manager):
    services.submit_model(model=draft, by=marketing_ops)
    return services.approve_model(model=draft, by=manager)


@pytest.fixture
def no_broker(monkeypatch):
    """Chunk messages are recorded instead of sent: the tests run chunks themselves."""
    sent: list[int] = []
    monkeypatch.setattr(
        "scoring.tasks.rescore_chunk.delay", lambda *, chunk_id: sent.append(chunk_id)
    )
    return sent


def test_cloning_the_live_version_makes_a_draft_with_the_same_rules(draft):
    live = live_model()

    assert draft.status == ModelStatus.DRAFT
    assert draft.version == live.version + 1
    assert draft.based_on == live
    assert sorted(draft.rules.values_list("name", "points")) == sorted(
        live.rules.values_list("name", "points")
    )
    assert set(draft.eligible_sources.all()) == set(live.eligible_sources.all())


def test_the_definition_is_joint_a_manager_approves_what_marketing_submitted(
    draft, marketing_ops, manager
):
    services.submit_model(model=draft, by=marketing_ops)

    with pytest.raises(DomainError, match="Only a sales manager can approve"):
        services.approve_model(model=draft, by=marketing_ops)
    approved = services.approve_model(model=draft, by=manager)

    assert approved.status == ModelStatus.APPROVED
    assert approved.approved_by == manager


def test_a_draft_cannot_be_published_before_approval(draft, marketing_ops):
    with pytest.raises(DomainError, match="only a version that is approved can be published"):
        services.publish_model(model=draft, by=marketing_ops)


def test_publishing_archives_the_previous_version_and_rescores_every_lead(
    approved, marketing_ops, no_broker, django_capture_on_commit_callbacks
):
    previous = live_model()
    leads = [factories.make_lead() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        job = services.publish_model(model=approved, by=marketing_ops)
    for chunk_id in no_broker:
        services.run_rescore_chunk(chunk_id=chunk_id)

    previous.refresh_from_db()
    job.refresh_from_db()
    assert previous.status == ModelStatus.ARCHIVED
    assert live_model() == approved
    assert job.status == JobStatus.DONE
    assert (job.leads_total, job.leads_scored, job.chunks_done) == (3, 3, job.chunks_total)
    assert set(LeadScore.objects.values_list("lead_id", "model_id")) == {
        (lead.pk, approved.pk) for lead in leads
    }
    assert list(
        AuditEntry.objects.filter(object_id=str(approved.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["created", "submitted", "approved", "published"]


def test_a_chunk_delivered_twice_is_scored_once(
    approved, marketing_ops, no_broker, settings, django_capture_on_commit_callbacks
):
    settings.RESCORE_CHUNK_SIZE = 2
    for _ in range(5):
        factories.make_lead()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.publish_model(model=approved, by=marketing_ops)

    first = [services.run_rescore_chunk(chunk_id=c) for c in no_broker]
    again = [services.run_rescore_chunk(chunk_id=c) for c in no_broker]

    job.refresh_from_db()
    assert job.chunks_total == 3
    assert (first, again) == ([True] * 3, [False] * 3)
    assert (job.leads_scored, job.chunks_done, job.status) == (5, 3, JobStatus.DONE)


def test_publishing_again_cancels_the_old_rescore(
    approved, marketing_ops, manager, no_broker, django_capture_on_commit_callbacks
):
    factories.make_lead()
    with django_capture_on_commit_callbacks(execute=True):
        old_job = services.publish_model(model=approved, by=marketing_ops)
    newer = services.clone_model(source=approved, by=marketing_ops)
    services.submit_model(model=newer, by=marketing_ops)
    services.approve_model(model=newer, by=manager)
    services.publish_model(model=newer, by=marketing_ops)

    assert services.run_rescore_chunk(chunk_id=no_broker[0]) is False
    old_job.refresh_from_db()
    assert old_job.status == JobStatus.CANCELLED
    assert ScoringModel.objects.filter(status=ModelStatus.PUBLISHED).get() == newer


def test_the_sweep_rescores_leads_whose_events_arrived_after_their_score(db):
    lead = factories.make_lead()
    services.score_lead(lead_id=lead.pk, as_of=timezone.now() - timedelta(hours=2))
    # An event stored while the broker was down: no task ever scored it.
    activity = factories.make_activity(lead, "demo_request")
    activity.__class__.objects.filter(pk=activity.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )

    swept = services.sweep_unscored_leads()

    score = LeadScore.objects.get(lead=lead)
    assert swept["leads"] == 1
    assert score.engagement == 30
    assert services.sweep_unscored_leads()["leads"] == 0


def test_the_sweep_re_enqueues_chunks_left_pending(
    approved, marketing_ops, no_broker, django_capture_on_commit_callbacks
):
    factories.make_lead()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.publish_model(model=approved, by=marketing_ops)
    job.__class__.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    no_broker.clear()

    with django_capture_on_commit_callbacks(execute=True):  # sent once the sweep commits
        services.sweep_unscored_leads()

    assert no_broker == list(RescoreChunk.objects.filter(job=job).values_list("pk", flat=True))


def test_decay_rescores_only_leads_with_recent_activity(
    db, no_broker, django_capture_on_commit_callbacks
):
    active = factories.make_lead()
    factories.make_activity(
        active, "content_download", occurred_at=timezone.now() - timedelta(days=20)
    )
    idle = factories.make_lead()
    factories.make_activity(
        idle, "content_download", occurred_at=timezone.now() - timedelta(days=200)
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_decay_rescore()
    for chunk_id in no_broker:
        services.run_rescore_chunk(chunk_id=chunk_id)

    job.refresh_from_db()
    assert job.leads_total == 1
    assert list(LeadScore.objects.values_list("lead_id", flat=True)) == [active.pk]
    # 5 points, 20 days old, half-life 30 days: 5 x 0.5^(20/30) = 3.15
    assert LeadScore.objects.get().engagement == Decimal("3.15")


def test_an_mql_stays_an_mql_when_a_new_version_scores_it_lower(db):
    lead = factories.make_lead()
    change_stage(lead=lead, to_stage=Stage.MQL)
    services.score_lead(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_a_rescore_scores_each_account_once_when_the_job_closes(
    approved, marketing_ops, no_broker, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Contacts of one account spread over chunks; the account is scored once,
    after the last chunk, not after each chunk that holds one of them."""
    queued: list[list[int]] = []
    monkeypatch.setattr(
        "scoring.tasks.refresh_account_scores.delay",
        lambda *, account_ids: queued.append(account_ids),
    )
    settings.RESCORE_CHUNK_SIZE = 2
    acme, _ = upsert_account(domain="acme-chunks.io", name="Acme")
    globex, _ = upsert_account(domain="globex-chunks.io", name="Globex")
    for n, account in enumerate([acme, globex, acme, globex, acme]):
        upsert_lead(email=f"p{n}@{account.domain}", source=factories.source())
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_model(model=approved, by=marketing_ops)
    queued.clear()

    for chunk_id in no_broker[:-1]:
        with django_capture_on_commit_callbacks(execute=True):
            services.run_rescore_chunk(chunk_id=chunk_id)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        services.run_rescore_chunk(chunk_id=no_broker[-1])

    assert len(no_broker) == 3
    assert queued == [sorted([acme.pk, globex.pk])]


# --- a job writes only the scores that changed ------------------------------------


def _run_job(no_broker, capture, *, model=None) -> "services.RescoreJob":
    no_broker.clear()
    with capture(execute=True):
        job = services.start_rescore(model=model or live_model(), reason="manual")
    for chunk_id in no_broker:
        services.run_rescore_chunk(chunk_id=chunk_id)
    job.refresh_from_db()
    return job


def test_a_rescore_job_leaves_unchanged_scores_as_they_are(
    db, no_broker, django_capture_on_commit_callbacks
):
    steady, moved = factories.make_lead(), factories.make_lead()
    for lead in (steady, moved):
        factories.make_activity(
            lead, "demo_request", occurred_at=timezone.now() - timedelta(days=3)
        )
    first = _run_job(no_broker, django_capture_on_commit_callbacks)
    assert (first.leads_scored, first.scores_changed) == (2, 2)
    written_at = dict(LeadScore.objects.values_list("lead_id", "scored_at"))

    # One more demo request for one lead, stored without its rescore (as in a
    # broker outage): only that lead's score changes.
    factories.make_activity(moved, "demo_request")
    second = _run_job(no_broker, django_capture_on_commit_callbacks)

    assert (second.leads_scored, second.scores_changed) == (2, 1)
    steady_score, moved_score = (
        LeadScore.objects.get(lead=steady),
        LeadScore.objects.get(lead=moved),
    )
    assert steady_score.scored_at == written_at[steady.pk]
    assert (moved_score.scored_at, moved_score.engagement) == (second.as_of, 60)


def test_a_rescore_job_rewrites_an_explanation_whose_total_did_not_move(
    db, no_broker, django_capture_on_commit_callbacks
):
    """Pricing page visits: 20 points each, capped at 20. A second visit leaves
    the score at 20 but the explanation must count two visits, 40 before the cap."""
    lead = factories.make_lead()
    factories.make_activity(
        lead, "pricing_page_view", occurred_at=timezone.now() - timedelta(days=2)
    )
    _run_job(no_broker, django_capture_on_commit_callbacks)
    factories.make_activity(
        lead, "pricing_page_view", occurred_at=timezone.now() - timedelta(days=1)
    )

    job = _run_job(no_broker, django_capture_on_commit_callbacks)

    score = LeadScore.objects.get(lead=lead)
    assert job.scores_changed == 1
    assert score.engagement == 20
    [line] = [line for line in score.explanation if line["rule"] == "Pricing page visit"]
    assert (line["count"], line["points_before"], line["points"]) == (2, 40, 20)


def test_a_new_version_rewrites_every_score(
    approved, marketing_ops, no_broker, django_capture_on_commit_callbacks
):
    leads = [factories.make_lead() for _ in range(3)]
    _run_job(no_broker, django_capture_on_commit_callbacks)

    job = _run_job(no_broker, django_capture_on_commit_callbacks, model=approved)

    assert job.scores_changed == 3
    assert set(LeadScore.objects.filter(lead__in=leads).values_list("model_id", flat=True)) == {
        approved.pk
    }


def test_a_score_written_one_lead_at_a_time_is_written_again_by_the_next_job(
    db, no_broker, django_capture_on_commit_callbacks
):
    """Scored one at a time, a lead's row carries no fingerprint of what it was
    computed from: the next job cannot know it is unchanged, and writes it."""
    lead = factories.make_lead()
    _run_job(no_broker, django_capture_on_commit_callbacks)
    services.score_lead(lead_id=lead.pk)
    assert LeadScore.objects.get(lead=lead).basis is None

    job = _run_job(no_broker, django_capture_on_commit_callbacks)

    assert job.scores_changed == 1
    assert LeadScore.objects.get(lead=lead).basis is not None


def test_rescoring_named_leads_writes_them_even_when_unchanged(db):
    """The sweep rescores leads with an event newer than their score; an event
    no rule counts leaves the score as it was, and the lead must still not be
    found behind again."""
    lead = factories.make_lead()
    services.rescore_leads(lead_ids=[lead.pk], as_of=timezone.now() - timedelta(hours=2))
    activity = factories.make_activity(lead, "email_open")
    activity.__class__.objects.filter(pk=activity.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )

    assert services.sweep_unscored_leads()["leads"] == 1
    assert services.sweep_unscored_leads()["leads"] == 0


def test_an_unchanged_qualifying_lead_back_in_nurture_crosses_again(
    db, no_broker, django_capture_on_commit_callbacks
):
    """A job that leaves a score as it was still makes an MQL of a qualifying
    lead that can cross (here one a person put back in nurture)."""
    upsert_account(domain="bigco-again.com", name="BigCo", employee_count=500)
    lead, _ = upsert_lead(
        email="vp@bigco-again.com", source=factories.source(), title="VP Marketing"
    )
    for kind in ("demo_request", "pricing_page_view"):
        factories.make_activity(lead, kind, occurred_at=timezone.now() - timedelta(hours=2))
    _run_job(no_broker, django_capture_on_commit_callbacks)
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    change_stage(lead=lead, to_stage=Stage.NURTURE, reason="test: back to nurture")

    job = _run_job(no_broker, django_capture_on_commit_callbacks)

    lead.refresh_from_db()
    assert (job.scores_changed, job.became_mql, lead.stage) == (0, 1, Stage.MQL)
