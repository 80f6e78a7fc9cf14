"""Accept, reject, recycle and log a touch from the lead page, with htmx and
without JavaScript. Each posts to a view that calls the routing services."""

import pytest

from leads.models import Stage
from routing.models import AssignmentStatus, Touch
from routing.services import accept_mql
from tests.routing.test_queue_pages import mql_for, seat


@pytest.fixture
def desk(sdr, other_sdr, demo_queue, inbound):
    seat([sdr, other_sdr], [demo_queue, inbound])


HTMX = {"HX-Request": "true", "HX-Target": "mql-panel"}

ACTIONS = [
    (
        "accept",
        {"note": "Booked a call"},
        AssignmentStatus.ACCEPTED,
        Stage.SAL,
        "is a sales accepted lead (SAL) now and has left your queue.",
    ),
    (
        "reject",
        {"reason": "not_a_fit", "note": "Agency, not a buyer"},
        AssignmentStatus.REJECTED,
        Stage.DISQUALIFIED,
        "Rejected: Ada1 Lovelace has left your queue.",
    ),
    (
        "reject",
        {"reason": "bad_timing", "note": ""},
        AssignmentStatus.REJECTED,
        Stage.NURTURE,
        "Rejected: Ada1 Lovelace has left your queue.",
    ),
    (
        "recycle",
        {"note": "Next quarter"},
        AssignmentStatus.RECYCLED,
        Stage.RECYCLED,
        "Recycled: Ada1 Lovelace is back with marketing and has left your queue.",
    ),
    (
        "touch",
        {"kind": "call", "note": "Voicemail"},
        AssignmentStatus.OPEN,
        Stage.MQL,
        "Logged: the call with Ada1 Lovelace.",
    ),
]


@pytest.fixture
def assignment(sdr, desk):
    return mql_for(sdr)


@pytest.mark.parametrize(("action", "data", "status", "stage", "done"), ACTIONS)
def test_each_action_with_htmx_answers_the_updated_panel(
    client_as, sdr, assignment, action, data, status, stage, done
):
    response = client_as(sdr).post(f"/queue/{assignment.pk}/{action}/", data, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="mql-panel"')
    assert "<html" not in html
    assert done in html
    assignment.refresh_from_db()
    assignment.lead.refresh_from_db()
    assert (assignment.status, assignment.lead.stage) == (status, stage)
    assert assignment.first_touch_at is not None


@pytest.mark.parametrize(("action", "data", "status", "stage", "done"), ACTIONS)
def test_each_action_without_javascript_redirects_to_the_lead_page(
    client_as, sdr, assignment, action, data, status, stage, done
):
    client = client_as(sdr)

    response = client.post(f"/queue/{assignment.pk}/{action}/", data)

    assert (response.status_code, response["Location"]) == (302, f"/queue/{assignment.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert done in page
    assignment.refresh_from_db()
    assert assignment.status == status


@pytest.mark.parametrize(
    ("action", "stage"),
    [("accept", Stage.SAL), ("reject", Stage.NURTURE), ("recycle", Stage.RECYCLED)],
)
def test_a_decided_mql_leaves_the_queue_and_shows_in_the_stage_history(
    client_as, sdr, assignment, action, stage
):
    client = client_as(sdr)
    client.post(f"/queue/{assignment.pk}/{action}/", {"reason": "no_budget"})

    assert client.get("/queue/").context["rows"] == []
    history = client.get(f"/queue/{assignment.pk}/").context["stage_changes"]
    assert [(c.from_stage, c.to_stage, c.changed_by) for c in history] == [
        (Stage.MQL, stage, sdr),
        (Stage.LEAD, Stage.MQL, None),
    ]


def test_a_logged_call_stays_in_the_queue_and_is_listed(client_as, sdr, assignment):
    client = client_as(sdr)

    html = client.post(
        f"/queue/{assignment.pk}/touch/", {"kind": "call", "note": "Voicemail"}, headers=HTMX
    ).content.decode()

    assert "<strong>Call</strong>" in html
    assert '<div class="note">Voicemail</div>' in html
    assert len(client.get("/queue/").context["rows"]) == 1


def test_the_rejection_reason_is_listed_with_its_touch(client_as, sdr, assignment):
    html = (
        client_as(sdr)
        .post(
            f"/queue/{assignment.pk}/reject/",
            {"reason": "competitor", "note": "Works at a rival"},
            headers=HTMX,
        )
        .content.decode()
    )

    assert "<strong>Rejected</strong>: Competitor" in html
    assert "Rejected: Competitor (Works at a rival)" in html  # the stage change's reason


def test_reject_without_a_reason_shows_the_error_with_htmx(client_as, sdr, assignment):
    response = client_as(sdr).post(
        f"/queue/{assignment.pk}/reject/", {"reason": "", "note": ""}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a reason for rejecting this MQL." in html
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN
    assert Touch.objects.count() == 0


def test_reject_without_a_reason_shows_the_error_without_javascript(client_as, sdr, assignment):
    response = client_as(sdr).post(f"/queue/{assignment.pk}/reject/", {"note": "hm"})

    assert response.status_code == 400
    form = response.context["reject_form"]
    assert form.errors == {"reason": ["Choose a reason for rejecting this MQL."]}
    assert form["note"].value() == "hm"  # what was typed is kept
    assert "Choose a reason for rejecting this MQL." in response.content.decode()


def test_other_needs_a_note(client_as, sdr, assignment):
    response = client_as(sdr).post(f"/queue/{assignment.pk}/reject/", {"reason": "other"})

    assert response.context["reject_form"].errors == {
        "note": ["Say why in the note when the reason is 'Other'."]
    }


def test_an_unknown_reason_is_refused_by_the_form(client_as, sdr, assignment):
    response = client_as(sdr).post(f"/queue/{assignment.pk}/reject/", {"reason": "bored"})

    assert response.status_code == 400
    assert list(response.context["reject_form"].errors) == ["reason"]


def test_a_stale_second_action_shows_the_conflict_with_htmx(client_as, sdr, assignment):
    accept_mql(assignment=assignment, by=sdr)  # in another tab, a moment earlier

    response = client_as(sdr).post(
        f"/queue/{assignment.pk}/reject/", {"reason": "no_budget"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="error" role="alert">This MQL was already accepted; nothing was changed.</p>'
    ) in html
    assignment.lead.refresh_from_db()
    assert assignment.lead.stage == Stage.SAL


def test_a_stale_second_action_shows_the_conflict_without_javascript(client_as, sdr, assignment):
    accept_mql(assignment=assignment, by=sdr)

    response = client_as(sdr).post(f"/queue/{assignment.pk}/recycle/", {"note": ""})

    assert response.status_code == 409
    assert "This MQL was already accepted; nothing was changed." in response.content.decode()


def test_another_sdr_cannot_find_it_to_act(client_as, other_sdr, assignment):
    response = client_as(other_sdr).post(f"/queue/{assignment.pk}/accept/", {})

    assert response.status_code == 404
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN


def test_a_manager_may_look_but_not_act(client_as, manager, assignment):
    response = client_as(manager).post(f"/queue/{assignment.pk}/accept/", {})

    assert response.status_code == 403
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN


def test_actions_are_posts(client_as, sdr, assignment):
    assert client_as(sdr).get(f"/queue/{assignment.pk}/accept/").status_code == 405


def test_an_unknown_action_is_not_found(client_as, sdr, assignment):
    assert client_as(sdr).post(f"/queue/{assignment.pk}/escalate/", {}).status_code == 404


def test_after_accepting_the_sdr_is_offered_to_record_the_sql(
    client_as, sdr, other_sdr, demo_queue
):
    seat([sdr], [demo_queue])
    assignment = mql_for(sdr)
    client = client_as(sdr)
    page = f"/queue/{assignment.pk}/"
    assert "Qualify as SQL" not in client.get(page).text

    client.post(f"/queue/{assignment.pk}/accept/", {"note": ""})

    assert f'href="/feedback/leads/{assignment.lead_id}/sql/"' in client.get(page).text
