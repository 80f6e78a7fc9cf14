"""The demo as `make run` serves it (config.demo): ready at once, through the
product's own services."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from config.demo import seed_demo
from config.demo_history import POOR_FIT_INDUSTRIES
from feedback.metrics import MetricFilters, dashboard_report
from feedback.models import Measure, Opportunity, Recalibration, SQLQualification, WeeklyCount
from feedback.recalibration import run_recalibration
from feedback.rollup import week_of
from handoff.models import AuditEntry, Delivery, Notice, NoticeKind
from leads import demo
from leads.models import Account, Lead, Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Membership, Queue, SLADay, Touch
from scoring.models import LeadScore, ModelStatus, MQLSnapshot, ScoringModel
from scoring.selectors import live_model

# The demo `make run` loads: smaller ones have too few MQLs to fill both queues.
LEADS = demo.DEFAULT_LEADS


@pytest.fixture(scope="module")
def seeded_at():
    return timezone.now()


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker, seeded_at):
    # Seeding takes tens of seconds: the tests that only look at the demo share
    # one, in a transaction rolled back after the module; each test's own
    # changes roll back to a savepoint inside it, as usual.
    with django_db_blocker.unblock(), transaction.atomic():
        seeded = seed_demo(leads=LEADS, now=seeded_at)
        # Check the seed's deferred foreign keys once, here: left pending,
        # every test's teardown (which checks them, then rolls back to its
        # savepoint) would check them all again, some 15 s a test.
        connection.check_constraints()
        yield seeded
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db):
    return _seeded_once


def test_every_lead_is_scored_at_seed_time(seeded):
    assert LeadScore.objects.count() == Lead.objects.count() == LEADS
    mqls = Lead.objects.filter(stage=Stage.MQL)
    assert mqls.count() == seeded.mqls > 0
    # Each through the lifecycle service, with its snapshot, as scoring makes
    # them: today's MQLs and those of the history.
    crossings = seeded.mqls + seeded.handed_off
    assert MQLSnapshot.objects.count() == crossings
    assert StageChange.objects.filter(to_stage=Stage.MQL).count() == crossings


def test_every_demo_sdr_has_open_mqls_in_their_queue(seeded):
    open_by_sdr = dict(
        Assignment.objects.filter(status=AssignmentStatus.OPEN)
        .values_list("sdr__username")
        .annotate(n=Count("pk"))
    )

    assert set(open_by_sdr) == {"sam.sdr", "olivia.sdr"}
    assert min(open_by_sdr.values()) >= 1
    # Every MQL of today went somewhere: to an SDR, or waiting in a queue.
    assert Assignment.objects.open().count() == seeded.mqls


def test_each_open_mql_shows_sdrs_the_score_sales_saw_at_hand_off(seeded):
    # The SDR's lead page shows the snapshot taken up to the assignment.
    open_mqls = Assignment.objects.filter(status=AssignmentStatus.OPEN)
    without = [
        a.lead_id
        for a in open_mqls
        if not MQLSnapshot.objects.filter(lead_id=a.lead_id, created_at__lte=a.created_at).exists()
    ]

    assert open_mqls.exists()
    assert without == []


def test_some_mqls_are_overdue_and_some_still_have_time(seeded):
    now = timezone.now()
    open_mqls = Assignment.objects.filter(status=AssignmentStatus.OPEN)

    assert open_mqls.filter(due_at__lt=now).exists()
    assert open_mqls.filter(due_at__gt=now).exists()


def test_one_mql_waits_visibly_because_its_queue_is_full(seeded):
    waiting = Assignment.objects.filter(status=AssignmentStatus.WAITING)

    assert seeded.waiting == waiting.count() == 1
    queue = waiting.get().queue
    assert waiting.get().waiting_reason.startswith(f"Nobody in {queue.name} can take it: ")
    members = Membership.objects.filter(queue=queue)
    assert [m.open_count >= m.capacity for m in members] == [True, True]


def test_sdrs_are_in_every_queue_and_a_manager_on_each(seeded):
    queues = Queue.objects.filter(is_active=True)
    members = {
        q.name: sorted(q.memberships.values_list("sdr__username", flat=True)) for q in queues
    }

    assert members == {q.name: ["olivia.sdr", "sam.sdr"] for q in queues}
    assert set(queues.values_list("manager__username", flat=True)) == {"max.manager"}


def _routing() -> list[tuple]:
    rows = Assignment.objects.values_list("lead__email", "sdr__username", "queue__name", "status")
    # A lead reassigned has two rows; a waiting one has no SDR.
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


def _unseed() -> None:
    """Empty the shared demo (rolled back after the test) to seed afresh."""
    Lead.objects.all().delete()  # takes assignments and scores with it
    Account.objects.all().delete()
    AuditEntry.objects.all().delete()  # it keeps the demo users from being deleted
    User.objects.filter(username__in=[u.username for u in demo.DEMO_USERS]).delete()


def test_the_same_seed_gives_the_same_routing(seeded, seeded_at):
    routed = _routing()
    _unseed()

    second = seed_demo(leads=LEADS, now=seeded_at)  # the same moment: the same present

    assert second.mqls == seeded.mqls
    assert _routing() == routed


def test_seeding_again_changes_nothing(seeded):
    before = (LeadScore.objects.count(), Assignment.objects.count())

    again = seed_demo(leads=LEADS)

    assert again.data.loaded is False
    assert (LeadScore.objects.count(), Assignment.objects.count()) == before


def test_the_command_says_how_many_mqls_were_routed_and_how_many_wait(seeded):
    _unseed()
    out = StringIO()
    call_command("seed_demo", leads=600, stdout=out)  # what it says, not how much: a small one

    waiting = Assignment.objects.filter(status=AssignmentStatus.WAITING).count()
    routed = Assignment.objects.open().count()
    assert f"every lead scored, {routed} MQLs routed" in out.getvalue()
    assert f"({waiting} waiting for a free SDR)" in out.getvalue()


# --- Twelve weeks of history (config.demo_history) -------------------------------------


def test_twelve_weeks_of_hand_offs_are_decided_through_the_services(seeded):
    now = timezone.now()
    decided = Assignment.objects.filter(
        status__in=[
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.REJECTED,
            AssignmentStatus.RECYCLED,
        ]
    )
    assert decided.count() == seeded.handed_off > 100
    first = decided.order_by("assigned_at").first().assigned_at
    assert timedelta(weeks=11) < now - first < timedelta(weeks=14)
    # Each decision is a touch by its SDR and a stage change, as an SDR's would be.
    assert Touch.objects.filter(kind=Touch.Kind.ACCEPT).count() == (
        decided.filter(status=AssignmentStatus.ACCEPTED).count()
    )
    assert set(decided.values_list("sdr__username", flat=True)) == {"sam.sdr", "olivia.sdr"}
    assert Assignment.objects.filter(status=AssignmentStatus.REASSIGNED).exists()
    assert decided.filter(first_touch_at__gt=F("due_at")).exists()  # some breached the SLA


def test_accepted_leads_go_on_to_sql_opportunities_won_and_lost(seeded):
    assert SQLQualification.objects.count() > 10
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert statuses == {"open", "won", "lost"}
    assert Lead.objects.filter(stage=Stage.WON).count() == (
        Opportunity.objects.filter(status="won").count()
    )


def test_the_dashboard_and_sla_rollups_are_built_at_seed(seeded):
    weeks = set(WeeklyCount.objects.filter(measure=Measure.ACCEPTED).values_list("week", flat=True))
    assert len(weeks) >= 11
    assert SLADay.objects.filter(breached__gt=0).exists()


def test_acceptance_sits_in_the_band_overall_and_one_source_drifts_below_half(seeded):
    decided = Assignment.objects.filter(
        status__in=[
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.REJECTED,
            AssignmentStatus.RECYCLED,
        ]
    )
    accepted = decided.filter(status=AssignmentStatus.ACCEPTED).count()
    assert 60 <= 100 * accepted / decided.count() <= 75
    recent = decided.filter(
        lead__source__slug="webinar", closed_at__gte=timezone.now() - timedelta(weeks=3, days=4)
    )
    assert recent.count() >= 3
    assert recent.filter(status=AssignmentStatus.ACCEPTED).count() < recent.count() / 2


def test_the_default_dashboard_alerts_on_the_drifting_source(seeded):
    now = timezone.now()
    this_week = week_of(now)
    twelve_weeks = MetricFilters(first_week=this_week - timedelta(weeks=11), last_week=this_week)

    alerts = {a.kind: a for a in dashboard_report(twelve_weeks, now=now).alerts}

    assert alerts["source-drift"].title.startswith("Webinar: under 50 % of MQLs accepted")


def test_a_new_version_waits_for_the_managers_approval(seeded):
    waiting = ScoringModel.objects.get(status=ModelStatus.SUBMITTED)
    assert waiting.submitted_by.username == "mo.ops"
    assert waiting.threshold == live_model().threshold + 5


def test_recalibrating_from_the_demos_hand_offs_proposes_the_industries_sdrs_turn_down(
    seeded,
):
    run = Recalibration.objects.create(
        source=Recalibration.Source.HANDOFFS,
        outcome=Recalibration.Outcome.ACCEPTED,
        target_acceptance=0.65,
        min_volume=0.05,
        max_rules=15,
    )

    run_recalibration(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == Recalibration.Status.PROPOSED, run.message
    assert run.proposal is not None
    penalised = {r["rule"] for r in run.report["rules"] if (r["new_points"] or 0) < 0}
    turned_down = {f"Industry is {name}" for name in POOR_FIT_INDUSTRIES}
    assert len(turned_down & penalised) >= 3, penalised


def test_the_past_is_not_news_only_todays_mqls_are_unread_notices(seeded):
    unread = Notice.objects.filter(read_at__isnull=True)
    assigned = unread.filter(kind=NoticeKind.ASSIGNED)
    assert assigned.count() == Assignment.objects.filter(status=AssignmentStatus.OPEN).count()
    # And the manager hears of the version waiting for approval.
    others = set(unread.exclude(kind=NoticeKind.ASSIGNED).values_list("kind", "user__username"))
    assert others == {(NoticeKind.APPROVAL, "max.manager")}
    assert not Notice.objects.filter(email=Delivery.PENDING, read_at__isnull=False).exists()


def test_the_queue_manager_is_set_through_the_audited_service(seeded):
    entries = AuditEntry.objects.filter(action="manager changed")
    assert entries.count() == Queue.objects.filter(is_active=True).count()
