"""?sdr= and ?owner= answer alike for an id that exists and one that does not:
a filter must not tell which user ids there are."""

import pytest

from leads.services import upsert_account
from tests import factories
from tests.routing.test_queue_pages import mql_for, seat

NOBODY = 987_654  # no user has this id


@pytest.fixture
def desk(sdr, other_sdr, demo_queue, inbound):
    seat([sdr, other_sdr], [demo_queue, inbound])


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/leads/", "owner"),
        ("/api/accounts/", "owner"),
        ("/api/assignments/", "sdr"),
        ("/api/memberships/", "sdr"),
    ],
)
def test_an_sdr_filtering_by_a_colleague_or_by_nobody_gets_the_same_answer(
    api_as, sdr, other_sdr, desk, path, name
):
    mql_for(other_sdr, 1)
    client = api_as(sdr)

    colleague = client.get(path, {name: other_sdr.pk})
    nobody = client.get(path, {name: NOBODY})

    assert (colleague.status_code, nobody.status_code) == (200, 200)
    assert (
        colleague.json()
        == nobody.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


@pytest.mark.parametrize(("path", "name"), [("/api/leads/", "owner"), ("/api/accounts/", "owner")])
def test_filtering_by_an_id_nobody_has_is_an_empty_list(api_as, marketing_ops, sdr, path, name):
    factories.make_lead("ada@acme.example", owner=sdr)
    upsert_account(domain="acme.example", name="Acme", owner=sdr)
    client = api_as(marketing_ops)

    mine = client.get(path, {name: sdr.pk})
    nobody = client.get(path, {name: NOBODY})

    assert (mine.status_code, mine.json()["count"]) == (200, 1)
    assert (nobody.status_code, nobody.json()["results"]) == (200, [])


def test_a_manager_filters_memberships_and_assignments_by_sdr(
    api_as, manager, sdr, other_sdr, desk
):
    theirs = mql_for(other_sdr, 1)
    client = api_as(manager)

    assignments = client.get("/api/assignments/", {"sdr": other_sdr.pk}).json()["results"]
    memberships = client.get("/api/memberships/", {"sdr": NOBODY}).json()["results"]

    assert [a["id"] for a in assignments] == [theirs.pk]
    assert memberships == []


@pytest.mark.parametrize("value", ["abc", "1.5", str(2**63)])
def test_an_id_that_is_not_one_is_refused_alike(api_as, marketing_ops, value):
    response = api_as(marketing_ops).get("/api/leads/", {"owner": value})

    assert response.status_code == 400
    assert list(response.json()) == ["owner"]


def test_the_queue_page_answers_alike_for_a_colleague_and_for_nobody(
    client_as, sdr, other_sdr, desk
):
    mql_for(sdr, 1)
    mql_for(other_sdr, 2)
    client = client_as(sdr)

    colleague = client.get("/queue/", {"sdr": other_sdr.pk})
    nobody = client.get("/queue/", {"sdr": NOBODY})

    assert (colleague.status_code, nobody.status_code) == (200, 200)
    assert list(colleague.context["rows"]) == list(nobody.context["rows"]) == []
    assert not nobody.context["filter"].errors


# --- ?lead=, ?account=, ?queue=: rows by id, never looked up -----------------------------


@pytest.mark.parametrize(
    ("path", "name", "of"),
    [
        ("/api/leads/", "account", "account"),
        ("/api/activities/", "lead", "lead"),
        ("/api/scores/", "lead", "lead"),
        ("/api/account-scores/", "account", "account"),
    ],
)
def test_a_colleague_s_lead_or_account_and_one_nobody_has_get_the_same_answer(
    api_as, sdr, other_sdr, desk, path, name, of
):
    theirs = mql_for(other_sdr, 1).lead
    hidden = theirs.pk if of == "lead" else theirs.account_id
    assert hidden is not None
    client = api_as(sdr)

    colleague = client.get(path, {name: hidden})
    nobody = client.get(path, {name: NOBODY})

    assert (colleague.status_code, nobody.status_code) == (200, 200)
    assert (
        colleague.json()
        == nobody.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


@pytest.mark.parametrize("path", ["/api/assignments/", "/api/memberships/"])
def test_a_queue_the_sdr_has_nothing_in_and_one_nobody_has_get_the_same_answer(
    api_as, sdr, other_sdr, demo_queue, inbound, path
):
    seat([other_sdr], [demo_queue])
    seat([sdr], [inbound])
    mql_for(other_sdr, 1)
    client = api_as(sdr)

    colleagues = client.get(path, {"queue": demo_queue.pk})
    nobody = client.get(path, {"queue": NOBODY})

    assert (colleagues.status_code, nobody.status_code) == (200, 200)
    assert colleagues.json()["results"] == nobody.json()["results"] == []


def test_ops_filter_leads_activities_and_assignments_by_the_ids_they_see(
    api_as, marketing_ops, sdr, desk
):
    mine = mql_for(sdr, 1)
    client = api_as(marketing_ops)

    by_account = client.get("/api/leads/", {"account": mine.lead.account_id}).json()
    by_lead = client.get("/api/activities/", {"lead": mine.lead_id}).json()
    by_queue = client.get("/api/assignments/", {"queue": mine.queue_id}).json()

    assert [row["id"] for row in by_account["results"]] == [mine.lead_id]
    assert {row["lead"] for row in by_lead["results"]} == {mine.lead_id}
    assert by_lead["count"] == 3
    assert [row["id"] for row in by_queue["results"]] == [mine.pk]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/leads/", "account"), ("/api/activities/", "lead"), ("/api/assignments/", "queue")],
)
def test_a_row_id_that_is_not_one_is_refused_naming_the_filter(api_as, marketing_ops, path, name):
    response = api_as(marketing_ops).get(path, {name: "abc"})

    assert response.status_code == 400
    assert list(response.json()) == [name]
