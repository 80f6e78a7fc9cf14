"""The SLA page's daily rollup: the page reads it for passed deadlines and
must show exactly what counting every assignment shows."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from routing.models import Assignment, AssignmentStatus, SLAChangedDay, SLADay, SLAFirstTouch
from routing.reports.filters import SLAFilters
from routing.reports.queries import (
    SLAReport,
    breaches_by_queue,
    breaches_by_sdr,
    breaches_per_day,
    open_by_age,
    rollup_split,
    sla_report,
    sla_summary,
    waiting_reasons,
)
from routing.services import log_touch, watch_sla_clocks
from routing.services.sla_rollup import refresh_sla_rollup
from tests import factories

URL = "/manager/sla/"


def counted_from_assignments(filters: SLAFilters, now) -> SLAReport:
    """The page's numbers counted from every assignment, as before the rollup."""
    return SLAReport(
        summary=sla_summary(filters, now=now),
        by_sdr=breaches_by_sdr(filters, now=now),
        by_queue=breaches_by_queue(filters, now=now),
        breaches_per_day=breaches_per_day(filters, now=now),
        open_by_age=open_by_age(filters, now=now),
        waiting_reasons=waiting_reasons(filters),
    )


def random_assignments(rng: random.Random, count: int, *, queues, sdrs, now, earliest=None) -> None:
    """Deadlines from 40 days ago (or ``earliest``) to 2 days ahead, each in
    some state: open or closed, touched on time or late (whole minutes after
    assignment), marked breached or not; and a few waiting for an SDR."""
    earliest = earliest or now - timedelta(days=40)
    span = int((now + timedelta(days=2) - earliest).total_seconds() // 60)
    statuses = [
        AssignmentStatus.OPEN,
        AssignmentStatus.ACCEPTED,
        AssignmentStatus.REJECTED,
        AssignmentStatus.RECYCLED,
        AssignmentStatus.REASSIGNED,
    ]
    for _ in range(count):
        due = earliest + timedelta(minutes=rng.randint(0, span))
        assigned = due - timedelta(hours=rng.choice([2, 24]))
        touched = breached = None
        if rng.random() < 0.6:
            touched = assigned + timedelta(minutes=rng.randint(0, 36 * 60))
            if touched > now:
                touched = None
        if (touched is None or touched > due) and due <= now and rng.random() < 0.7:
            breached = due + timedelta(minutes=5)
        status = AssignmentStatus.OPEN if due > now else rng.choice(statuses)
        assignment = Assignment.objects.create(
            lead=factories.make_lead(),
            queue=rng.choice(queues),
            sdr=rng.choice(sdrs),
            status=status,
            assigned_at=assigned,
            due_at=due,
            first_touch_at=touched,
            breached_at=breached,
        )
        Assignment.objects.filter(pk=assignment.pk).update(created_at=assigned)
    for _ in range(count // 10):
        Assignment.objects.create(
            lead=factories.make_lead(),
            queue=rng.choice(queues),
            status=AssignmentStatus.WAITING,
            waiting_reason="Nobody in it can take it: no members.",
        )


@pytest.fixture
def history(inbound, demo_queue, sdr, other_sdr, make_sdr):
    now = timezone.now()
    queues, sdrs = [inbound, demo_queue], [sdr, other_sdr, make_sdr("noor")]
    random_assignments(random.Random(4), 160, queues=queues, sdrs=sdrs, now=now)
    return {"queues": queues, "sdrs": sdrs, "now": now}


def periods(history) -> list[SLAFilters]:
    today = timezone.localdate()
    inbound, demo = history["queues"]
    return [
        SLAFilters(start=today - timedelta(days=29)),  # the default
        SLAFilters(start=today - timedelta(days=39), end=today - timedelta(days=10)),
        SLAFilters(start=today - timedelta(days=5), end=today + timedelta(days=1)),
        SLAFilters(start=today, end=today),
        SLAFilters(start=today - timedelta(days=29), queue=demo),
        SLAFilters(start=today - timedelta(days=29), sdr=history["sdrs"][0]),
        SLAFilters(start=today - timedelta(days=20), queue=inbound, sdr=history["sdrs"][1]),
    ]


def test_the_page_reads_the_rollup_and_shows_what_every_assignment_shows(history):
    refresh_sla_rollup()
    now = timezone.now()
    assert rollup_split(now=now) is not None

    for filters in periods(history):
        assert sla_report(filters, now=now) == counted_from_assignments(filters, now), filters


def test_changes_after_the_refresh_count_at_once_or_at_the_next_pass(history, sdr):
    refreshed = refresh_sla_rollup().as_of
    # After the refresh: new MQLs (their deadlines come after it, as they
    # always do), one already due, and late first touches of older ones.
    rng = random.Random(7)
    random_assignments(
        rng,
        20,
        queues=history["queues"],
        sdrs=history["sdrs"],
        now=timezone.now(),
        earliest=refreshed,
    )
    Assignment.objects.create(
        lead=factories.make_lead(),
        queue=history["queues"][0],
        sdr=sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=refreshed,
        due_at=refreshed + timedelta(microseconds=1),
    )
    overdue = list(
        Assignment.objects.filter(
            sdr=sdr,
            status=AssignmentStatus.OPEN,
            first_touch_at__isnull=True,
            due_at__lt=timezone.now() - timedelta(days=1),
        )
    )
    assert overdue, "the random history has overdue open MQLs of Sam's"
    for assignment in overdue:
        log_touch(assignment=assignment, by=sdr, kind="call")
    assert SLAChangedDay.objects.exists()

    watch_sla_clocks()  # the next pass recounts the marked days
    now = timezone.now()

    assert not SLAChangedDay.objects.exists()
    for filters in periods(history):
        assert sla_report(filters, now=now) == counted_from_assignments(filters, now), filters


def test_refreshing_again_with_nothing_new_changes_nothing(history):
    watch_sla_clocks()
    before = (
        sorted(
            SLADay.objects.values_list(
                "day", "queue", "sdr", "due", "breached", "touched_late", "touched"
            )
        ),
        sorted(SLAFirstTouch.objects.values_list("day", "queue", "sdr", "minutes", "touches")),
    )

    watch_sla_clocks()
    refresh_sla_rollup()

    assert (
        sorted(
            SLADay.objects.values_list(
                "day", "queue", "sdr", "due", "breached", "touched_late", "touched"
            )
        ),
        sorted(SLAFirstTouch.objects.values_list("day", "queue", "sdr", "minutes", "touches")),
    ) == before
    assert before[0] and before[1]


def test_the_median_is_exact_to_the_minute(inbound, sdr):
    now = timezone.now()
    for seconds in (10 * 60 + 29, 20 * 60 + 31):  # 10.48 and 20.52 minutes
        due = now - timedelta(days=3)
        Assignment.objects.create(
            lead=factories.make_lead(),
            queue=inbound,
            sdr=sdr,
            status=AssignmentStatus.ACCEPTED,
            assigned_at=due,
            due_at=due + timedelta(hours=1),
            first_touch_at=due + timedelta(seconds=seconds),
        )
    refresh_sla_rollup()

    report = sla_report(
        SLAFilters(start=timezone.localdate() - timedelta(days=29)), now=timezone.now()
    )

    # Counted as 10 and 21 whole minutes (half a minute rounds up).
    assert report.summary.median_first_touch == timedelta(minutes=15.5)
    assert report.summary.median_first_touch_text == "16 min"


def test_in_another_time_zone_the_page_counts_from_the_assignments(history, settings):
    refresh_sla_rollup()
    settings.TIME_ZONE = "America/New_York"
    now = timezone.now()

    assert rollup_split(now=now) is None
    filters = SLAFilters(start=timezone.localdate() - timedelta(days=29))
    assert sla_report(filters, now=now) == counted_from_assignments(filters, now)

    refresh_sla_rollup()  # the next pass counts every day again, in the new zone
    assert rollup_split(now=timezone.now()) is not None
    assert sla_report(filters, now=timezone.now()) == counted_from_assignments(
        filters, timezone.now()
    )


def test_a_now_before_the_last_refresh_counts_from_the_assignments(history):
    refresh_sla_rollup()

    assert rollup_split(now=timezone.now() - timedelta(minutes=5)) is None


@pytest.mark.parametrize("count", [1, 20])
def test_the_page_on_the_rollup_runs_the_same_queries_for_one_or_many(
    client_as, manager, inbound, sdr, django_assert_num_queries, count
):
    now = timezone.now()
    for i in range(count):
        due = now - timedelta(days=1 + i % 5)
        Assignment.objects.create(
            lead=factories.make_lead(),
            queue=inbound,
            sdr=sdr,
            status=AssignmentStatus.ACCEPTED,
            assigned_at=due,
            due_at=due + timedelta(hours=1),
            first_touch_at=due + timedelta(minutes=i),
        )
    refresh_sla_rollup()
    client = client_as(manager)

    # Session, user, roles; any assignment?; the rollup's state; the tables
    # and the chart in one; the SDRs' and queues' names; open by age; waiting
    # reasons; the queue and SDR choices of the filters.
    with django_assert_num_queries(13):  # 12 + the unread notices in the navigation
        response = client.get(URL)

    assert response.status_code == 200
    assert response.context["report"].summary.due == count


def test_the_first_refresh_counts_every_day_and_later_ones_only_today(inbound, sdr):
    now = timezone.now()
    due = now - timedelta(days=200)
    Assignment.objects.create(
        lead=factories.make_lead(),
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.REASSIGNED,
        assigned_at=due,
        due_at=due + timedelta(hours=1),
        breached_at=due,
    )

    first = refresh_sla_rollup()
    later = refresh_sla_rollup()

    assert [(days.first, days.last) for days in first.ranges] == [(None, timezone.localdate())]
    assert [(days.first, days.last) for days in later.ranges] == [
        (timezone.localdate(), timezone.localdate())
    ]
    assert list(SLADay.objects.values_list("day", "due", "breached")) == [
        (timezone.localdate(due + timedelta(hours=1)), 1, 1)
    ]


def test_a_late_touch_marks_its_day_and_an_on_time_one_does_not(inbound, sdr):
    now = timezone.now()
    late = Assignment.objects.create(
        lead=factories.make_lead(),
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=now,
        due_at=now - timedelta(days=2),
    )
    on_time = Assignment.objects.create(
        lead=factories.make_lead(),
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=now,
        due_at=now + timedelta(hours=2),
    )

    log_touch(assignment=late, by=sdr, kind="email")
    log_touch(assignment=on_time, by=sdr, kind="email")
    log_touch(assignment=late, by=sdr, kind="call")  # not a first touch: no new mark

    assert list(SLAChangedDay.objects.values_list("day", "version")) == [
        (timezone.localdate(late.due_at), 1)
    ]
