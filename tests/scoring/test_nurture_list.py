"""Marketing ops' nurture list: fit-only leads, filtered by source and fit
grade, on a page and as a CSV export."""

import csv
import io

import pytest

from handoff.models import AuditEntry
from leads import services as lead_services
from leads.models import Lead, LeadSource, Stage
from scoring.services import score_lead
from tests import factories

URL = "/nurture/"
CSV_URL = "/nurture.csv"


def nurtured(
    email: str, *, source: str = "inbound_form", title: str = "VP Sales", **fields
) -> Lead:
    """A lead at a 500-person company, scored: fit only, so it goes to nurture."""
    lead_services.upsert_account(domain="bigco.com", name="BigCo", employee_count=500)
    lead, _ = lead_services.upsert_lead(
        email=email, source=factories.source(source), title=title, **fields
    )
    score_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.stage == Stage.NURTURE
    return lead


@pytest.fixture
def nurture_leads(db):
    return {
        "ann": nurtured("ann@bigco.com", first_name="Ann"),  # fit 25: grade B
        "bob": nurtured("bob@bigco.com", source="webinar", first_name="Bob"),  # B
        "cat": nurtured("cat@bigco.com", source="webinar", title="Engineer", first_name="Cat"),
    }


def test_the_list_shows_the_nurtured_leads_filtered_by_source_and_grade(
    client_as, marketing_ops, nurture_leads
):
    assert [lead.score.grade for lead in nurture_leads.values()] == ["B", "B", "C"]
    webinar = LeadSource.objects.get(slug="webinar")
    client = client_as(marketing_ops)

    everyone = client.get(URL)
    by_source = client.get(URL, {"source": webinar.pk})
    by_both = client.get(URL, {"source": webinar.pk, "grade": "C"})

    assert [lead.first_name for lead in everyone.context["leads"]] == ["Cat", "Bob", "Ann"]
    assert "3 leads in nurture." in everyone.content.decode()
    assert [lead.first_name for lead in by_source.context["leads"]] == ["Cat", "Bob"]
    assert [lead.first_name for lead in by_both.context["leads"]] == ["Cat"]
    html = by_both.content.decode()
    assert "1 lead in nurture matches these filters." in html
    assert "Fit only: fit ≥ 10 but engagement below 20 (model v1)" in html
    assert f'href="/nurture.csv?source={webinar.pk}&amp;grade=C"' in html


def test_the_list_says_when_nothing_is_in_nurture_or_nothing_matches(client_as, marketing_ops, db):
    client = client_as(marketing_ops)

    assert "No lead is in nurture yet." in client.get(URL).content.decode()
    nurtured("ann@bigco.com")
    assert "No lead in nurture matches these filters." in (
        client.get(URL, {"grade": "A"}).content.decode()
    )


def test_a_bad_filter_is_refused(client_as, marketing_ops, db):
    client = client_as(marketing_ops)

    assert client.get(URL, {"grade": "Z"}).status_code == 400
    assert client.get(CSV_URL, {"source": "nope"}).status_code == 400


@pytest.mark.parametrize("count", [1, 6])
def test_the_list_costs_the_same_queries_for_one_lead_or_many(
    client_as, marketing_ops, db, django_assert_num_queries, count
):
    for n in range(count):
        nurtured(f"p{n}@bigco.com")
    client = client_as(marketing_ops)

    # session, user, roles, sources (form), count, page, unread notices
    with django_assert_num_queries(7):
        response = client.get(URL)

    assert len(response.context["leads"]) == count


def test_the_csv_export_is_exact_follows_the_filters_and_neutralises_formulas(
    client_as, marketing_ops, nurture_leads
):
    webinar = LeadSource.objects.get(slug="webinar")
    Lead.objects.filter(pk=nurture_leads["bob"].pk).update(last_name='=HYPERLINK("x")')

    response = client_as(marketing_ops).get(CSV_URL, {"source": webinar.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="nurture-webinar-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "lead_id",
        "email",
        "first_name",
        "last_name",
        "title",
        "company",
        "country",
        "source",
        "grade",
        "fit",
        "engagement",
        "total",
        "do_not_contact",
        "nurtured_at",
        "reason",
    ]
    assert [row[:13] for row in rows[1:]] == [
        [str(nurture_leads["cat"].pk), "cat@bigco.com", "Cat", "", "Engineer", "BigCo", "",
         "Webinar", "C", "10.00", "0.00", "10.00", "no"],
        [str(nurture_leads["bob"].pk), "bob@bigco.com", "Bob", "'=HYPERLINK(\"x\")", "VP Sales",
         "BigCo", "", "Webinar", "B", "25.00", "0.00", "25.00", "no"],
    ]  # fmt: skip
    assert {row[14] for row in rows[1:]} == {
        "Fit only: fit ≥ 10 but engagement below 20 (model v1); nurtured until it engages"
    }
    entry = AuditEntry.objects.get(action="exported nurture list")
    assert (entry.actor, entry.note) == (marketing_ops, "2 leads")
    assert entry.changes == {"source": [None, "Webinar"], "grade": [None, "any"]}
