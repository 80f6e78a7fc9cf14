"""The read API for lead scores and account (ABM) scores."""

from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import Account, Lead
from scoring.models import AccountScore, LeadScore
from scoring.selectors import live_model
from scoring.services import score_accounts
from tests import factories


def scored_lead(*, total: str = "50", grade: str = "B", qualifies: bool = False, **fields) -> Lead:
    lead = factories.make_lead(**fields)
    LeadScore.objects.create(
        lead=lead,
        model=live_model(),
        fit=Decimal("20"),
        engagement=Decimal(total) - 20,
        total=Decimal(total),
        grade=grade,
        disqualified=False,
        qualifies=qualifies,
        explanation=[{"rule": "Senior title", "points": 20}],
        scored_at=timezone.now(),
    )
    return lead


def company(domain: str) -> Account:
    return Account.objects.create(name=domain, domain=domain, employee_count=500)


# --- who may ask ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/scores/", "/api/account-scores/"])
def test_anonymous_requests_get_no_scores(db, api_client, url):
    scored_lead()

    response = api_client.get(url)

    assert response.status_code in (401, 403)
    assert "results" not in response.json()


@pytest.mark.parametrize("url", ["/api/scores/", "/api/account-scores/"])
def test_a_user_without_a_role_gets_403(db, api_as, django_user_model, url):
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password")

    assert api_as(nobody).get(url).status_code == 403


def test_an_sdr_sees_only_the_scores_of_leads_they_own(db, api_as, sdr, other_sdr):
    mine = scored_lead(owner=sdr)
    theirs = scored_lead(owner=other_sdr)
    client = api_as(sdr)

    listed = client.get("/api/scores/").json()["results"]

    assert [row["lead"] for row in listed] == [mine.pk]
    assert client.get(f"/api/scores/{mine.pk}/").status_code == 200
    assert client.get(f"/api/scores/{theirs.pk}/").status_code == 404


def test_a_score_reads_with_its_version_and_explanation(db, integration_client):
    lead = scored_lead(total="80", grade="A", qualifies=True)

    body = integration_client.get(f"/api/scores/{lead.pk}/").json()

    score = LeadScore.objects.get(lead=lead)
    assert body == {
        "lead": lead.pk,
        "model": live_model().pk,
        "model_version": 1,
        "fit": "20.00",
        "engagement": "60.00",
        "total": "80.00",
        "grade": "A",
        "disqualified": False,
        "qualifies": True,
        "explanation": [{"rule": "Senior title", "points": 20}],
        "scored_at": score.scored_at.isoformat().replace("+00:00", "Z"),
    }


def test_scores_filter_by_qualifies_grade_lead_and_model(db, api_as, marketing_ops):
    hot = scored_lead(total="80", grade="A", qualifies=True)
    warm = scored_lead(total="40", grade="B")
    cold = scored_lead(total="10", grade="D")
    client = api_as(marketing_ops)

    def leads(query: dict) -> list[int]:
        return [row["lead"] for row in client.get("/api/scores/", query).json()["results"]]

    assert leads({"qualifies": "true"}) == [hot.pk]
    assert leads({"grade": ["B", "D"]}) == [cold.pk, warm.pk]  # newest lead first
    assert leads({"lead": warm.pk}) == [warm.pk]
    assert leads({"model": live_model().pk}) == [cold.pk, warm.pk, hot.pk]
    assert leads({"model_version": 2}) == []


# --- account scores -------------------------------------------------------------------


def test_an_sdr_sees_the_account_scores_of_accounts_with_their_leads(db, api_as, sdr, other_sdr):
    acme, globex = company("acme.com"), company("globex.com")
    scored_lead(owner=sdr, account=acme)
    scored_lead(owner=other_sdr, account=globex)
    score_accounts(account_ids=[acme.pk, globex.pk])
    client = api_as(sdr)

    listed = client.get("/api/account-scores/").json()["results"]

    assert [row["account"] for row in listed] == [acme.pk]
    assert client.get(f"/api/account-scores/{globex.pk}/").status_code == 404


def test_account_scores_show_and_filter_the_mqa_flag(db, api_as, manager):
    acme, globex = company("acme.com"), company("globex.com")
    scored_lead(account=acme, title="CEO", total="60")  # engagement 40
    scored_lead(account=acme, title="Head of IT", total="50")  # engagement 30
    scored_lead(account=globex, title="CEO", total="60")
    score_accounts(account_ids=[acme.pk, globex.pk])
    client = api_as(manager)

    qualified = client.get("/api/account-scores/", {"qualified": "true"}).json()["results"]
    not_qualified = client.get("/api/account-scores/", {"qualified": "false"}).json()["results"]

    assert [row["account"] for row in qualified] == [acme.pk]
    assert [row["account"] for row in not_qualified] == [globex.pk]
    row = qualified[0]
    assert {
        k: row[k]
        for k in [
            "account_name",
            "account_domain",
            "model_version",
            "fit",
            "engagement",
            "total",
            "engaged_contacts",
            "coverage",
            "roles_filled",
            "disqualified",
            "qualified",
        ]
    } == {
        "account_name": "acme.com",
        "account_domain": "acme.com",
        "model_version": 1,
        "fit": "10.00",
        "engagement": "70.00",
        "total": "80.00",
        "engaged_contacts": 2,
        "coverage": 75,
        "roles_filled": ["Decision maker", "Champion", "Technical evaluator"],
        "disqualified": False,
        "qualified": True,
    }


# --- query counts ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 25])
def test_score_list_makes_the_same_number_of_queries_whatever_the_page_size(
    db, api_as, marketing_ops, django_assert_num_queries, count
):
    for _ in range(count):
        scored_lead()
    client = api_as(marketing_ops)

    # user and group permissions (2) + the user's roles (1) + count (1) + page (1)
    with django_assert_num_queries(5):
        response = client.get("/api/scores/")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 25])
def test_an_sdr_score_list_makes_the_same_number_of_queries_whatever_the_page_size(
    db, api_as, sdr, django_assert_num_queries, count
):
    for _ in range(count):
        scored_lead(owner=sdr)
    client = api_as(sdr)

    with django_assert_num_queries(5):
        response = client.get("/api/scores/")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 25])
def test_account_score_list_makes_the_same_number_of_queries_whatever_the_page_size(
    db, api_as, marketing_ops, django_assert_num_queries, count
):
    accounts = [company(f"company{n}.com") for n in range(count)]
    for account in accounts:
        scored_lead(account=account)
    score_accounts(account_ids=[a.pk for a in accounts])
    client = api_as(marketing_ops)

    with django_assert_num_queries(5):
        response = client.get("/api/account-scores/")
    assert len(response.json()["results"]) == count
    assert AccountScore.objects.count() == count
