from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from handoff.models import Notice
from routing.models import Assignment, AssignmentStatus, SLAPolicy
from routing.services import log_touch, route_mql, watch_sla_clocks


@pytest.fixture
def managed_inbound(inbound, manager):
    manager.email = "max@example.com"
    manager.save()
    inbound.manager = manager
    inbound.save()
    return inbound


@pytest.fixture
def assignment(managed_inbound, make_sdr, make_mql):
    make_sdr("sam", queue=managed_inbound)
    assignment = route_mql(lead_id=make_mql().pk)  # plain 24 hours, reminder at 75 %
    # Sam was told of the new MQL; these tests are about what the clock tells.
    Notice.objects.filter(kind="assigned").delete()
    return assignment


def test_the_sdr_is_reminded_once_when_75_percent_of_the_time_has_passed(assignment):
    assert watch_sla_clocks(now=timezone.now() + timedelta(hours=17))["reminded"] == 0
    later = timezone.now() + timedelta(hours=19)

    first = watch_sla_clocks(now=later)
    second = watch_sla_clocks(now=later)

    assert (first["reminded"], second["reminded"]) == (1, 0)
    assert list(Notice.objects.values_list("user__username", "kind")) == [("sam", "reminder")]


def test_a_breach_is_marked_and_told_to_the_sdr_and_manager_once(assignment):
    later = timezone.now() + timedelta(hours=25)

    first = watch_sla_clocks(now=later)
    second = watch_sla_clocks(now=later + timedelta(minutes=1))

    assignment.refresh_from_db()
    assert (first["breached"], second["breached"]) == (1, 0)
    assert assignment.breached_at == later
    assert sorted(
        Notice.objects.filter(kind__in=["breach", "escalation"]).values_list(
            "user__username", "kind"
        )
    ) == [("max.manager", "escalation"), ("sam", "breach")]


def test_breach_emails_go_out_after_commit(
    assignment, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        watch_sla_clocks(now=timezone.now() + timedelta(hours=25))

    assert sorted(m.to[0] for m in mail.outbox) == ["max@example.com", "sam@example.com"]
    assert mail.outbox[0].subject.startswith("[Handoff] SLA breached: ")


def test_a_touched_mql_never_breaches(assignment):
    log_touch(assignment=assignment, by=assignment.sdr, kind="call")

    counts = watch_sla_clocks(now=timezone.now() + timedelta(days=3))

    assert (counts["reminded"], counts["breached"]) == (0, 0)


def test_after_the_grace_period_a_breached_mql_is_reassigned(assignment, make_sdr):
    SLAPolicy.objects.filter(queues=assignment.queue).update(reassign_after_minutes=60)
    make_sdr("olivia", queue=assignment.queue)
    breach = timezone.now() + timedelta(hours=25)
    watch_sla_clocks(now=breach)

    watch_sla_clocks(now=breach + timedelta(minutes=30))
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.OPEN
    counts = watch_sla_clocks(now=breach + timedelta(minutes=61))

    assert counts["reassigned"] == 1
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.REASSIGNED
    new = Assignment.objects.get(lead=assignment.lead, status=AssignmentStatus.OPEN)
    assert new.sdr.username == "olivia"
    assert new.reassigned_from == assignment
    assert new.why["skipped"][0]["reason"] == "had it before"


def test_the_watcher_routes_mqls_whose_message_was_lost(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    lead = make_mql()  # became an MQL, but no routing task ever ran

    counts = watch_sla_clocks(now=timezone.now() + timedelta(minutes=1))

    assert counts["routed"] == 1
    assert Assignment.objects.get(lead=lead).sdr.username == "sam"
