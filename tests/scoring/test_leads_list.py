"""The admin's leads list shows what people look for: score, grade, stage and
owner, with filters on them, in a number of queries that does not grow with
the leads; and the admin says it is Handoff's."""

import pytest
from django.urls import reverse

from scoring.services.scores import score_lead
from tests import factories

LIST_URL = "admin:leads_lead_changelist"


def scored_lead(**fields):
    lead = factories.make_lead(**fields)
    score_lead(lead_id=lead.pk)
    return lead


def columns(response) -> list[str]:
    # The first header is the select-all box of the bulk actions.
    return [str(header["text"]) for header in response.context["result_headers"]][1:]


def test_the_leads_list_has_score_grade_stage_and_owner(client_as, marketing_ops):
    scored_lead(title="VP Marketing", owner=marketing_ops)

    response = client_as(marketing_ops).get(reverse(LIST_URL))

    assert columns(response) == [
        "lead",
        "Full name",
        "company name",
        "score",
        "grade",
        "stage",
        "owner",
        "source",
        "created at",
    ]
    filters = [spec.title for spec in response.context["cl"].filter_specs]
    assert filters[:4] == ["grade", "stage", "owner", "source"]


def test_the_grade_filter_finds_leads_by_grade_and_the_unscored(client_as, marketing_ops):
    scored = scored_lead(title="VP Marketing")
    unscored = factories.make_lead()
    grade = scored.score.grade
    client = client_as(marketing_ops)

    by_grade = client.get(reverse(LIST_URL), {"grade": grade}).context["cl"].result_list
    not_scored = client.get(reverse(LIST_URL), {"grade": "none"}).context["cl"].result_list

    assert list(by_grade) == [scored]
    assert list(not_scored) == [unscored]


@pytest.mark.parametrize("leads", [1, 4])
def test_the_leads_list_query_count_does_not_grow_with_leads(
    client_as, marketing_ops, django_assert_num_queries, leads
):
    for _ in range(leads):
        scored_lead(owner=marketing_ops)
    client = client_as(marketing_ops)

    with django_assert_num_queries(11):
        response = client.get(reverse(LIST_URL))

    assert len(response.context["cl"].result_list) == leads


def test_the_admin_is_branded_handoff(client_as, marketing_ops):
    response = client_as(marketing_ops).get(reverse("admin:index"))

    assert response.context["site_header"] == "Handoff"
    assert response.context["site_title"] == "Handoff admin"
    assert response.context["title"] == "Leads, scoring, routing and feedback"
