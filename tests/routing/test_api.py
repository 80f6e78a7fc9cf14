"""The routing API: queues, memberships and assignments, and the SDR's
actions on an assignment through the same services as the pages."""

import pytest

from leads.models import LeadSource, Stage
from routing.models import AssignmentStatus, Queue, SLAPolicy
from routing.services import accept_mql, route_mql
from tests.routing.test_queue_pages import mql_for, seat, set_due


@pytest.fixture
def desk(sdr, other_sdr, demo_queue, inbound):
    seat([sdr, other_sdr], [demo_queue, inbound])


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


# --- Queues and memberships ---------------------------------------------------------------


def test_queues_are_listed_in_the_order_they_are_tried(api_as, sdr):
    response = api_as(sdr).get("/api/queues/")

    assert response.status_code == 200
    demo, inbound = response.json()["results"]
    assert (demo["name"], demo["activity_kinds"], demo["fallback_name"]) == (
        "Demo requests",
        ["demo_request"],
        "Inbound MQLs",
    )
    assert (demo["sla_policy"]["first_touch_minutes"], demo["sla_policy"]["calendar"]) == (
        120,
        "Working week (UTC)",
    )
    assert (inbound["name"], inbound["sla_policy"]["calendar"]) == ("Inbound MQLs", None)


def test_integrations_do_not_read_queues(integration_client):
    assert integration_client.get("/api/queues/").status_code == 403


@pytest.mark.parametrize("extra", [0, 5])
def test_the_queue_list_costs_the_same_queries_for_few_or_many(
    api_as, marketing_ops, extra, django_assert_num_queries
):
    policy = SLAPolicy.objects.first()
    for n in range(extra):
        queue = Queue.objects.create(name=f"Region {n}", sla_policy=policy, priority=200 + n)
        queue.sources.set(LeadSource.objects.filter(slug__in=["webinar", "partner"]))
    client = api_as(marketing_ops)

    # permissions (user's, groups'), count, queues with policy, calendar and fallback,
    # their sources
    with django_assert_num_queries(5):
        response = client.get("/api/queues/")

    assert response.json()["count"] == 2 + extra


def test_an_sdr_sees_only_their_own_memberships(api_as, sdr, other_sdr, desk):
    response = api_as(sdr).get("/api/memberships/")

    assert {(m["queue_name"], m["sdr_username"]) for m in response.json()["results"]} == {
        ("Demo requests", "sam.sdr"),
        ("Inbound MQLs", "sam.sdr"),
    }


def test_a_manager_sees_every_membership_and_filters_them(
    api_as, manager, sdr, other_sdr, desk, inbound
):
    client = api_as(manager)

    assert client.get("/api/memberships/").json()["count"] == 4
    response = client.get("/api/memberships/", {"queue": inbound.pk, "sdr": other_sdr.pk})
    assert [(m["queue_name"], m["sdr_username"]) for m in response.json()["results"]] == [
        ("Inbound MQLs", "olivia.sdr")
    ]


@pytest.mark.parametrize("count", [1, 10])
def test_the_membership_list_costs_the_same_queries_for_1_or_10(
    api_as, manager, inbound, make_sdr, count, django_assert_num_queries
):
    for n in range(count):
        make_sdr(f"sdr{n}", queue=inbound)
    client = api_as(manager)

    # roles, permissions (user's, groups'), count, memberships with queue and SDR
    with django_assert_num_queries(5):
        response = client.get("/api/memberships/")

    assert response.json()["count"] == count


# --- Assignments -------------------------------------------------------------------------


def test_an_sdr_sees_only_their_own_assignments(api_as, sdr, other_sdr, desk):
    mine = mql_for(sdr, 1)
    mql_for(other_sdr, 2)

    response = api_as(sdr).get("/api/assignments/")

    assert ids(response) == [mine.pk]
    item = response.json()["results"][0]
    assert (
        item["lead_email"],
        item["lead_name"],
        item["status"],
        item["queue_name"],
        item["sdr_username"],
        item["score"],
        item["grade"],
        item["source"],
    ) == (
        "ada1@acme1.example",
        "Ada1 Lovelace",
        "open",
        "Demo requests",
        "sam.sdr",
        "77.50",
        "B",
        "inbound_form",
    )
    assert item["why"]["chosen_because"] == "account owner"


def test_another_sdrs_assignment_is_not_found(api_as, sdr, other_sdr, desk):
    theirs = mql_for(other_sdr)

    assert api_as(sdr).get(f"/api/assignments/{theirs.pk}/").status_code == 404


def test_a_manager_sees_every_assignment_most_urgent_first(api_as, manager, sdr, other_sdr, desk):
    later = set_due(mql_for(sdr, 1), minutes=90)
    sooner = set_due(mql_for(other_sdr, 2), minutes=30)

    assert ids(api_as(manager).get("/api/assignments/")) == [sooner.pk, later.pk]


def test_assignments_filter_by_status_queue_sdr_and_overdue(
    api_as, manager, sdr, other_sdr, desk, demo_queue, inbound
):
    late = set_due(mql_for(sdr, 1), minutes=-5)
    accepted = mql_for(sdr, 2)
    accept_mql(assignment=accepted, by=sdr)
    theirs = set_due(mql_for(other_sdr, 3), minutes=60)
    client = api_as(manager)

    assert ids(client.get("/api/assignments/", {"status": "accepted"})) == [accepted.pk]
    assert ids(client.get("/api/assignments/", {"sdr": other_sdr.pk})) == [theirs.pk]
    assert ids(client.get("/api/assignments/", {"overdue": "true"})) == [late.pk]
    assert set(ids(client.get("/api/assignments/", {"overdue": "false"}))) == {
        accepted.pk,
        theirs.pk,
    }
    assert set(ids(client.get("/api/assignments/", {"queue": demo_queue.pk}))) == {
        late.pk,
        accepted.pk,
        theirs.pk,
    }
    assert ids(client.get("/api/assignments/", {"queue": inbound.pk})) == []


@pytest.mark.parametrize("count", [1, 10])
def test_the_assignment_list_costs_the_same_queries_for_1_or_10(
    api_as, sdr, desk, count, django_assert_num_queries
):
    for n in range(count):
        mql_for(sdr, n)
    client = api_as(sdr)

    # roles, permissions (user's, groups'), count, assignments with lead, source,
    # account, score, queue and SDR
    with django_assert_num_queries(5):
        response = client.get("/api/assignments/", {"status": "open"})

    assert response.json()["count"] == count


# --- Actions -----------------------------------------------------------------------------


@pytest.fixture
def assignment(sdr, desk):
    return mql_for(sdr)


@pytest.mark.parametrize(
    ("action", "data", "status", "stage"),
    [
        ("accept", {"note": "Booked"}, AssignmentStatus.ACCEPTED, Stage.SAL),
        ("reject", {"reason": "competitor"}, AssignmentStatus.REJECTED, Stage.DISQUALIFIED),
        (
            "reject",
            {"reason": "other", "note": "Wants a reseller"},
            AssignmentStatus.REJECTED,
            Stage.NURTURE,
        ),
        ("recycle", {}, AssignmentStatus.RECYCLED, Stage.RECYCLED),
        ("touch", {"kind": "email", "note": "Sent the deck"}, AssignmentStatus.OPEN, Stage.MQL),
    ],
)
def test_the_assigned_sdr_acts_through_the_api(
    api_as, sdr, assignment, action, data, status, stage
):
    response = api_as(sdr).post(f"/api/assignments/{assignment.pk}/{action}/", data, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["lead_stage"]) == (status, stage)
    assert body["first_touch_at"] is not None


def test_reject_needs_a_reason(api_as, sdr, assignment):
    response = api_as(sdr).post(f"/api/assignments/{assignment.pk}/reject/", {}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"reason": ["Choose a reason for rejecting this MQL."]},
    )


def test_other_needs_a_note(api_as, sdr, assignment):
    response = api_as(sdr).post(
        f"/api/assignments/{assignment.pk}/reject/", {"reason": "other"}, format="json"
    )

    assert (response.status_code, response.json()) == (
        400,
        {"note": ["Say why in the note when the reason is 'Other'."]},
    )


def test_a_touch_is_a_call_or_an_email(api_as, sdr, assignment):
    response = api_as(sdr).post(
        f"/api/assignments/{assignment.pk}/touch/", {"kind": "fax"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["kind"]


def test_a_stale_action_is_a_conflict(api_as, sdr, assignment):
    accept_mql(assignment=assignment, by=sdr)

    response = api_as(sdr).post(f"/api/assignments/{assignment.pk}/recycle/", {}, format="json")

    assert (response.status_code, response.json()) == (
        409,
        {"detail": "This MQL was already accepted; nothing was changed."},
    )


def test_another_sdr_cannot_act_on_it(api_as, other_sdr, assignment):
    response = api_as(other_sdr).post(
        f"/api/assignments/{assignment.pk}/accept/", {}, format="json"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["manager", "marketing_ops", "integration_user"])
def test_people_who_see_it_but_are_not_its_sdr_get_403(api_as, request, assignment, role):
    response = api_as(request.getfixturevalue(role)).post(
        f"/api/assignments/{assignment.pk}/accept/", {}, format="json"
    )

    assert response.status_code == 403
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN


def test_anonymous_callers_are_asked_to_authenticate(api_client, assignment):
    response = api_client.post(f"/api/assignments/{assignment.pk}/accept/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_overdue_is_reported_per_assignment(api_as, sdr, assignment):
    set_due(assignment, minutes=-1)

    item = api_as(sdr).get(f"/api/assignments/{assignment.pk}/").json()

    assert item["overdue"] is True


def test_an_sdr_reads_the_lead_of_an_mql_routed_to_them_and_no_other(
    api_as, make_sdr, make_mql, inbound
):
    sam = make_sdr("sam.routed", queue=inbound)
    olivia = make_sdr("olivia.routed", queue=inbound)
    routed = {route_mql(lead_id=make_mql().pk) for _ in range(2)}
    by_sdr = {a.sdr: a.lead_id for a in routed}
    assert set(by_sdr) == {sam, olivia}

    client = api_as(sam)

    assert client.get(f"/api/leads/{by_sdr[sam]}/").json()["owner"] == sam.pk
    assert client.get(f"/api/leads/{by_sdr[olivia]}/").status_code == 404
    assert [lead["id"] for lead in client.get("/api/leads/").json()["results"]] == [by_sdr[sam]]
