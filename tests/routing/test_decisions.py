import pytest

from handoff.errors import ConflictError, DomainError
from leads.models import Stage
from routing.models import AssignmentStatus, Touch
from routing.services import accept_mql, log_touch, recycle_mql, reject_mql, route_mql


@pytest.fixture
def assignment(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    return route_mql(lead_id=make_mql().pk)


def test_accepting_makes_the_lead_a_sal_and_counts_as_the_first_touch(assignment):
    accept_mql(assignment=assignment, by=assignment.sdr)

    assignment.refresh_from_db()
    assignment.lead.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACCEPTED
    assert assignment.first_touch_at is not None
    assert assignment.lead.stage == Stage.SAL
    change = assignment.lead.stage_changes.latest("changed_at")
    assert (change.from_stage, change.to_stage, change.changed_by) == ("mql", "sal", assignment.sdr)


@pytest.mark.parametrize(
    ("reason", "stage"),
    [
        ("competitor", Stage.DISQUALIFIED),
        ("student_or_job_seeker", Stage.DISQUALIFIED),
        ("bad_timing", Stage.NURTURE),
        ("no_budget", Stage.NURTURE),
    ],
)
def test_rejecting_disqualifies_or_nurtures_by_reason(assignment, reason, stage):
    reject_mql(assignment=assignment, by=assignment.sdr, reason=reason, note="checked LinkedIn")

    assignment.lead.refresh_from_db()
    assert assignment.lead.stage == stage
    touch = Touch.objects.get(assignment=assignment)
    assert (touch.kind, touch.reason, touch.note) == ("reject", reason, "checked LinkedIn")


def test_reject_requires_a_reason(assignment):
    with pytest.raises(DomainError, match="Choose a reason"):
        reject_mql(assignment=assignment, by=assignment.sdr, reason="")


def test_other_requires_a_note(assignment):
    with pytest.raises(DomainError, match="Say why in the note"):
        reject_mql(assignment=assignment, by=assignment.sdr, reason="other", note=" ")


def test_recycling_sends_the_lead_back_to_marketing(assignment):
    recycle_mql(assignment=assignment, by=assignment.sdr, note="next quarter")

    assignment.lead.refresh_from_db()
    assert assignment.lead.stage == Stage.RECYCLED


def test_the_second_of_two_actions_gets_a_clear_message(assignment):
    accept_mql(assignment=assignment, by=assignment.sdr)

    with pytest.raises(ConflictError, match="already accepted; nothing was changed"):
        reject_mql(assignment=assignment, by=assignment.sdr, reason="no_budget")
    assert assignment.lead.stage_changes.count() == 2  # lead → MQL → SAL, nothing more


def test_another_sdr_cannot_act_on_it(assignment, make_sdr):
    olivia = make_sdr("olivia")

    with pytest.raises(DomainError, match="not assigned to you"):
        accept_mql(assignment=assignment, by=olivia)


def test_a_logged_call_is_the_first_touch_and_keeps_the_mql_open(assignment):
    log_touch(assignment=assignment, by=assignment.sdr, kind="call", note="voicemail")
    first = type(assignment).objects.get(pk=assignment.pk).first_touch_at
    log_touch(assignment=assignment, by=assignment.sdr, kind="email")

    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN
    assert assignment.first_touch_at == first
    assert list(assignment.touches.values_list("kind", flat=True)) == ["email", "call"]
