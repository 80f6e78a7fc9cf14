"""The SDR's and the manager's day: My leads, availability, the team's load
and reassigning MQLs. MQLs are made through the services (see
test_queue_pages.mql_for)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.errors import ConflictError, DomainError
from handoff.models import AuditEntry, Notice
from leads.models import Stage
from routing.models import Assignment, AssignmentStatus, Membership
from routing.services import accept_mql, reassign_mqls, route_mql, set_availability
from tests.routing.test_queue_pages import mql_for, qualified_lead, seat


@pytest.fixture
def desk(sdr, other_sdr, demo_queue, inbound):
    seat([sdr, other_sdr], [demo_queue, inbound])


# --- Availability --------------------------------------------------------------------


def test_an_away_sdr_gets_no_new_mql_and_gets_them_again_once_back(desk, sdr, other_sdr):
    set_availability(sdr=sdr, away_until=timezone.now() + timedelta(days=2), by=sdr)
    for n in range(3):
        assert mql_for_anyone(n).sdr == other_sdr

    set_availability(sdr=sdr, away_until=None, by=sdr)
    Membership.objects.filter(sdr=other_sdr).update(capacity=0)

    assert mql_for_anyone(9).sdr == sdr
    assert AuditEntry.objects.filter(action="away").count() == 2  # one per queue
    assert AuditEntry.objects.filter(action="back").count() == 2


def mql_for_anyone(n: int) -> Assignment:
    lead = qualified_lead(first_name=f"Ann{n}", last_name="Bee", email=f"ann{n}@co{n}.example")
    return route_mql(lead_id=lead.pk)


def test_away_must_end_ahead_and_only_the_sdr_or_a_manager_may_set_it(
    desk, sdr, other_sdr, manager
):
    with pytest.raises(DomainError, match="still ahead") as error:
        set_availability(sdr=sdr, away_until=timezone.now() - timedelta(hours=1), by=sdr)
    assert error.value.field == "until"
    with pytest.raises(DomainError, match="Only the SDR or a sales manager"):
        set_availability(sdr=sdr, away_until=timezone.now() + timedelta(days=1), by=other_sdr)

    assert set_availability(sdr=sdr, away_until=timezone.now() + timedelta(days=1), by=manager) == 2


def test_the_availability_page_marks_the_sdr_away_and_back(desk, sdr, client_as):
    client = client_as(sdr)
    until = (timezone.localtime() + timedelta(days=3)).replace(second=0, microsecond=0)

    response = client.post(
        reverse("routing:availability"),
        {"action": "away", "until": until.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert f"You are away until {until:%Y-%m-%d %H:%M}" in response.content.decode()
    assert set(Membership.objects.filter(sdr=sdr).values_list("away_until", flat=True)) == {until}

    response = client.post(reverse("routing:availability"), {"action": "back"}, follow=True)
    assert "Welcome back" in response.content.decode()
    assert "You are available" in response.content.decode()


def test_the_availability_page_says_what_is_wrong_with_the_moment(desk, sdr, client_as):
    client = client_as(sdr)
    response = client.post(reverse("routing:availability"), {"action": "away", "until": ""})
    assert response.status_code == 400
    assert "Say until when you are away." in response.content.decode()
    past = timezone.localtime() - timedelta(days=1)
    response = client.post(
        reverse("routing:availability"),
        {"action": "away", "until": past.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert "Give a moment still ahead" in response.content.decode()


# --- My leads --------------------------------------------------------------------------


def test_my_leads_lists_the_sdrs_leads_at_every_stage_and_searches_them(
    desk, sdr, other_sdr, client_as
):
    accepted = mql_for(sdr, 1, first_name="Grace", last_name="Hopper")
    accept_mql(assignment=accepted, by=sdr)
    mql_for(sdr, 2, first_name="Alan", last_name="Turing")
    mql_for(other_sdr, 3, first_name="Edsger", last_name="Dijkstra")
    client = client_as(sdr)

    response = client.get(reverse("routing:my-leads"))
    leads = response.context["leads"]
    assert [lead.full_name for lead in leads] == ["Alan Turing", "Grace Hopper"]
    assert [lead.stage for lead in leads] == [Stage.MQL, Stage.SAL]
    html = response.content.decode()
    assert "2 leads." in html
    assert reverse("feedback:qualify_sql", args=[accepted.lead_id]) in html

    response = client.get(reverse("routing:my-leads"), {"q": "hopper"})
    assert [lead.full_name for lead in response.context["leads"]] == ["Grace Hopper"]
    assert "1 lead matches this search." in response.content.decode()
    response = client.get(reverse("routing:my-leads"), {"stage": "sal"})
    assert [lead.full_name for lead in response.context["leads"]] == ["Grace Hopper"]
    response = client.get(reverse("routing:my-leads"), {"q": "dijkstra"})
    assert "None of your leads matches this search." in response.content.decode()


def test_my_leads_says_what_it_will_hold_when_empty(desk, sdr, client_as):
    html = client_as(sdr).get(reverse("routing:my-leads")).content.decode()
    assert "You own no leads yet." in html


@pytest.mark.parametrize("n", [1, 4])
def test_my_leads_costs_the_same_queries_for_one_lead_or_many(
    desk, sdr, client_as, django_assert_num_queries, n
):
    for i in range(n):
        mql_for(sdr, i)
    client = client_as(sdr)
    # session, user, groups (role), count, page of leads, unread notices (navigation)
    with django_assert_num_queries(6):
        response = client.get(reverse("routing:my-leads"))
    assert len(response.context["leads"]) == n


# --- Reassigning ------------------------------------------------------------------------


def test_a_manager_reassigns_an_mql_with_a_reason_and_both_sdrs_are_told(
    desk, sdr, other_sdr, manager
):
    old = mql_for(sdr, 1)

    (new,) = reassign_mqls(
        assignment_ids=[old.pk], to=other_sdr, reason="Sam is off sick", by=manager
    )

    old.refresh_from_db()
    assert old.status == AssignmentStatus.REASSIGNED
    assert (new.sdr, new.status, new.reassigned_from) == (other_sdr, "open", old)
    assert new.lead.owner == other_sdr
    assert new.due_at > timezone.now()
    entry = AuditEntry.objects.get(action="reassigned")
    assert (entry.actor, entry.note) == (manager, "Sam is off sick")
    assert (
        Notice.objects.filter(user=sdr, kind="reassigned")
        .get()
        .text.endswith("was reassigned: Sam is off sick.")
    )
    assert Notice.objects.filter(user=other_sdr, kind="assigned").exists()
    assert Membership.objects.get(sdr=sdr, queue=old.queue).open_count == 0
    assert Membership.objects.get(sdr=other_sdr, queue=old.queue).open_count == 1


def test_reassigning_refuses_without_a_reason_to_an_away_sdr_or_twice(
    desk, sdr, other_sdr, manager
):
    old = mql_for(sdr, 1)
    with pytest.raises(DomainError, match="Say why") as error:
        reassign_mqls(assignment_ids=[old.pk], to=other_sdr, reason=" ", by=manager)
    assert error.value.field == "reason"
    with pytest.raises(DomainError, match="Only a sales manager"):
        reassign_mqls(assignment_ids=[old.pk], to=other_sdr, reason="x", by=sdr)

    set_availability(sdr=other_sdr, away_until=timezone.now() + timedelta(days=1), by=other_sdr)
    with pytest.raises(DomainError, match="is away until"):
        reassign_mqls(assignment_ids=[old.pk], to=other_sdr, reason="x", by=manager)
    set_availability(sdr=other_sdr, away_until=None, by=other_sdr)

    reassign_mqls(assignment_ids=[old.pk], to=other_sdr, reason="x", by=manager)
    with pytest.raises(ConflictError, match="already reassigned"):
        reassign_mqls(assignment_ids=[old.pk], to=sdr, reason="x", by=manager)


def test_the_team_page_shows_each_sdrs_load_and_absence(desk, sdr, other_sdr, manager, client_as):
    mql_for(sdr, 1)
    overdue = mql_for(sdr, 2)
    Assignment.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    until = timezone.now() + timedelta(days=1)
    set_availability(sdr=other_sdr, away_until=until, by=other_sdr)

    response = client_as(manager).get(reverse("team:load"))

    loads = {load.sdr.username: load for load in response.context["loads"]}
    assert (loads["sam.sdr"].open_mqls, loads["sam.sdr"].overdue) == (2, 1)
    assert loads["sam.sdr"].capacity == 100  # 50 in each of two queues
    assert loads["sam.sdr"].away_until is None
    assert loads["olivia.sdr"].away_until == until
    assert f"Away until {timezone.localtime(until):%Y-%m-%d %H:%M}" in response.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_the_team_page_costs_the_same_queries_for_few_mqls_or_many(
    desk, sdr, manager, client_as, django_assert_num_queries, n
):
    for i in range(n):
        mql_for(sdr, i)
    client = client_as(manager)
    # session, user, roles, loads (3), the SDR, count, page, the SDRs to choose
    # from, unread notices (navigation)
    with django_assert_num_queries(11):
        response = client.get(reverse("team:load"), {"sdr": sdr.pk})
    assert len(response.context["rows"]) == n


def test_a_manager_moves_a_whole_queue_from_the_team_page(desk, sdr, other_sdr, manager, client_as):
    for i in range(3):
        mql_for(sdr, i)

    response = client_as(manager).post(
        reverse("team:reassign", args=[sdr.pk]),
        {"all": "1", "to": other_sdr.pk, "reason": "Off sick today"},
        follow=True,
    )

    assert "Reassigned 3 MQLs to Olivia Park; they were told." in response.content.decode()
    assert Assignment.objects.filter(sdr=other_sdr, status="open").count() == 3
    assert not Assignment.objects.filter(sdr=sdr, status="open").exists()


def test_the_team_page_shows_a_refusal_on_its_field(desk, sdr, other_sdr, manager, client_as):
    a = mql_for(sdr, 1)
    response = client_as(manager).post(
        reverse("team:reassign", args=[sdr.pk]),
        {"assignments": [a.pk], "to": other_sdr.pk, "reason": ""},
    )
    assert response.status_code == 400
    assert "Say why these MQLs are reassigned." in response.content.decode()
    assert Assignment.objects.get(pk=a.pk).status == AssignmentStatus.OPEN


def test_a_manager_reassigns_one_mql_from_its_lead_page(desk, sdr, other_sdr, manager, client_as):
    a = mql_for(sdr, 1)
    client = client_as(manager)

    html = client.get(reverse("routing:lead", args=[a.pk])).content.decode()
    assert "Reassign this MQL" in html
    assert reverse("team:reassign", args=[sdr.pk]) in html
    response = client.post(
        reverse("team:reassign", args=[sdr.pk]),
        {"assignments": [a.pk], "to": other_sdr.pk, "reason": "Olivia knows this account"},
        follow=True,
    )

    assert "Reassigned 1 MQL to Olivia Park" in response.content.decode()
    assert Assignment.objects.get(reassigned_from=a).sdr == other_sdr
    # The SDR sees no such form on their own lead page.
    new = Assignment.objects.get(reassigned_from=a)
    assert (
        "Reassign this MQL"
        not in client_as(other_sdr).get(reverse("routing:lead", args=[new.pk])).content.decode()
    )
