"""The demo as `make run` serves it (config.demo): ready at once, through the
product's own services."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from config.demo import seed_demo
from leads import demo
from leads.models import Account, Lead, Stage, StageChange
from routing.models import Assignment, AssignmentStatus, Membership, Queue
from scoring.models import LeadScore, MQLSnapshot

# The demo `make run` loads: smaller ones have too few MQLs to fill both queues.
LEADS = demo.DEFAULT_LEADS


@pytest.fixture
def seeded(db):
    return seed_demo(leads=LEADS)


def test_every_lead_is_scored_at_seed_time(seeded):
    assert LeadScore.objects.count() == Lead.objects.count() == LEADS
    mqls = Lead.objects.filter(stage=Stage.MQL)
    assert mqls.count() == seeded.mqls > 0
    # Each through the lifecycle service, with its snapshot, as scoring makes them.
    assert MQLSnapshot.objects.count() == seeded.mqls
    assert StageChange.objects.filter(to_stage=Stage.MQL).count() == seeded.mqls


def test_every_demo_sdr_has_open_mqls_in_their_queue(seeded):
    open_by_sdr = dict(
        Assignment.objects.filter(status=AssignmentStatus.OPEN)
        .values_list("sdr__username")
        .annotate(n=Count("pk"))
    )

    assert set(open_by_sdr) == {"sam.sdr", "olivia.sdr"}
    assert min(open_by_sdr.values()) >= 1
    # Every MQL went somewhere: to an SDR, or waiting in a queue.
    assert Assignment.objects.count() == seeded.mqls


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
    return sorted(
        Assignment.objects.values_list("lead__email", "sdr__username", "queue__name", "status")
    )


def test_the_same_seed_gives_the_same_routing(db):
    first = seed_demo(leads=LEADS)
    routed = _routing()
    Lead.objects.all().delete()  # takes assignments and scores with it
    Account.objects.all().delete()
    User.objects.filter(username__in=[u.username for u in demo.DEMO_USERS]).delete()

    second = seed_demo(leads=LEADS)

    assert second.mqls == first.mqls
    assert _routing() == routed


def test_seeding_again_changes_nothing(seeded):
    before = (LeadScore.objects.count(), Assignment.objects.count())

    again = seed_demo(leads=LEADS)

    assert again.data.loaded is False
    assert (LeadScore.objects.count(), Assignment.objects.count()) == before


def test_the_command_says_how_many_mqls_were_routed_and_how_many_wait(db):
    out = StringIO()
    call_command("seed_demo", leads=LEADS, stdout=out)

    waiting = Assignment.objects.filter(~Q(status=AssignmentStatus.OPEN)).count()
    assert f"every lead scored, {Assignment.objects.count()} MQLs routed" in out.getvalue()
    assert f"({waiting} waiting for a free SDR)" in out.getvalue()
