import random

import pytest
from django.utils import timezone

from feedback.models import Recalibration
from feedback.recalibration import run_recalibration, start_recalibration
from leads.models import Lead
from routing.models import Assignment, AssignmentStatus, Queue
from scoring.models import Layer, ModelStatus, MQLSnapshot
from scoring.selectors import live_model
from tests import factories


def history(n: int, seed: int = 11) -> None:
    """Imported leads: 'pro' plan buyers convert far more; the post-contact tag
    gives the answer away and must be ignored."""
    rng = random.Random(seed)
    source = factories.source()
    leads = []
    for i in range(n):
        pro = rng.random() < 0.4
        converted = rng.random() < (0.8 if pro else 0.15)
        leads.append(
            Lead(
                external_id=f"h{i}",
                source=source,
                known_outcome=converted,
                attributes={
                    "plan": "pro" if pro else "free",
                    "visits": rng.randint(0, 20),
                    "post_contact_tag": "won" if converted else "lost",
                },
            )
        )
    Lead.objects.bulk_create(leads)


def test_recalibrating_from_history_proposes_a_draft_with_learned_rules(marketing_ops):
    history(600)
    run = start_recalibration(source="history", outcome="known", by=marketing_ops)

    assert run_recalibration(run_id=run.pk) is True

    run.refresh_from_db()
    assert run.status == Recalibration.Status.PROPOSED
    draft = run.proposal
    assert draft.status == ModelStatus.DRAFT
    assert draft.based_on == live_model()
    learned = {r.name: r.points for r in draft.rules.filter(field__startswith="attributes.")}
    assert learned["plan is pro"] > 20
    assert not any("post_contact" in name for name in learned)
    assert draft.threshold == run.report["threshold"]
    assert run.report["auc_proposed"] > 0.7
    assert run.report["held_out"] == 180
    assert live_model().status == ModelStatus.PUBLISHED  # never published on its own


def test_too_little_evidence_is_refused_with_the_counts(marketing_ops):
    history(120)
    run = start_recalibration(source="history", outcome="known", by=marketing_ops)

    run_recalibration(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == Recalibration.Status.REFUSED
    assert run.message.startswith(
        "Recalibration needs at least 200 labelled hand-offs with at "
        "least 30 of each outcome; it has 120 ("
    )
    assert run.proposal is None


def test_a_run_is_done_once_however_often_it_is_delivered(marketing_ops):
    history(120)
    run = start_recalibration(source="history", outcome="known", by=marketing_ops)

    assert (run_recalibration(run_id=run.pk), run_recalibration(run_id=run.pk)) == (True, False)


@pytest.fixture
def handoffs(sdr):
    """300 MQL hand-offs: those with a demo request were mostly accepted, those
    with only content downloads mostly rejected."""
    rng = random.Random(5)
    model = live_model()
    rules = {r.name: r for r in model.rules.all()}
    queue = Queue.objects.get(name="Inbound MQLs")
    now = timezone.now()
    for i in range(300):
        lead = factories.make_lead(f"h{i}@corp{i}.com")
        demo = rng.random() < 0.5
        fired = [rules["Demo request"]] if demo else [rules["Content download"]]
        snapshot = MQLSnapshot.objects.create(
            lead=lead,
            model=model,
            fit=0,
            engagement=30,
            total=30,
            grade="C",
            explanation=[
                {"rule_id": r.pk, "rule": r.name, "layer": r.layer, "count": 1, "points": r.points}
                for r in fired
            ],
        )
        MQLSnapshot.objects.filter(pk=snapshot.pk).update(
            created_at=now - timezone.timedelta(days=300 - i)
        )
        accepted = rng.random() < (0.85 if demo else 0.2)
        Assignment.objects.create(
            lead=lead,
            queue=queue,
            sdr=sdr,
            closed_at=now,
            status=AssignmentStatus.ACCEPTED if accepted else AssignmentStatus.REJECTED,
        )


def test_recalibrating_from_handoffs_reweights_the_live_rules(handoffs, marketing_ops):
    run = start_recalibration(source="handoffs", outcome="accepted", by=marketing_ops)

    run_recalibration(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == Recalibration.Status.PROPOSED
    new = {r.name: r.points for r in run.proposal.rules.filter(layer=Layer.ENGAGEMENT)}
    assert new["Demo request"] > new["Content download"]
    by_rule = {line["rule"]: line for line in run.report["rules"]}
    assert by_rule["Demo request"]["old_points"] == 30
    assert run.report["rows"] == 300
    assert run.report["auc_live"] is not None


def test_marketing_ops_start_a_run_in_the_admin_and_read_its_proposal(client_as, marketing_ops):
    history(600)
    client = client_as(marketing_ops)

    response = client.post(
        "/admin/feedback/recalibration/start/",
        {"source": "history", "outcome": "accepted", "target_acceptance": "0.65"},
    )
    run = Recalibration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/feedback/recalibration/{run.pk}/change/"
    assert "Waiting for a worker" in client.get(response["Location"]).text

    run_recalibration(run_id=run.pk)  # what the worker does
    page = client.get(f"/admin/feedback/recalibration/{run.pk}/change/").text

    assert "plan is pro" in page
    assert f"Open the proposed draft v{Recalibration.objects.get().proposal.version}" in page


def test_an_sdr_cannot_start_a_recalibration(client_as, sdr):
    response = client_as(sdr).post(
        "/admin/feedback/recalibration/start/", {"source": "history", "outcome": "accepted"}
    )

    assert response.status_code == 302  # to the admin login: SDRs are not staff
    assert Recalibration.objects.count() == 0
