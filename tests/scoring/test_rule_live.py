"""As ops edit a rule row, it reads as a sentence with how many current leads
it matches, counted in PostgreSQL from what is in the row's inputs."""

import pytest
from django.urls import reverse

from scoring import services
from scoring.models import Layer, Rule
from scoring.selectors import live_model, rule_match_count
from tests import factories
from tests.admin_forms import change_form_data


@pytest.fixture
def draft(marketing_ops):
    return services.clone_model(source=live_model(), by=marketing_ops, name="Live")


def live_url(draft) -> str:
    return reverse("admin:scoring_scoringmodel_rule_live", args=[draft.pk])


def test_a_rule_counts_the_leads_it_matches_now(db):
    factories.make_lead(title="Head of Sales")
    factories.make_lead(title="Director, Finance")
    factories.make_lead(title="Sales rep")
    factories.make_lead(title="Headhunter")
    rule = Rule(
        layer=Layer.DEMOGRAPHIC,
        name="Heads",
        field="title",
        operator="contains_any",
        value=["Head of", "Director"],
        points=10,
    )

    assert rule_match_count(rule=rule) == 2


def test_an_engagement_rule_counts_leads_with_a_matching_activity(db):
    lead = factories.make_lead()
    factories.make_activity(lead, "demo_request")
    factories.make_activity(lead, "demo_request")
    factories.make_activity(factories.make_lead(), "page_view")
    rule = Rule(layer=Layer.ENGAGEMENT, name="Demo", activity_kinds=["demo_request"], points=30)

    assert rule_match_count(rule=rule) == 1


def test_the_row_being_edited_reads_as_a_sentence_with_its_count(client_as, marketing_ops, draft):
    factories.make_lead(title="Head of Sales")
    client = client_as(marketing_ops)
    page = client.get(reverse("admin:scoring_scoringmodel_change", args=[draft.pk]))
    data = change_form_data(page)
    form = next(
        f
        for inline in page.context["inline_admin_formsets"]
        for f in inline.formset.forms
        if f.instance.name == "Senior title"
    )
    data[form.add_prefix("operator")] = "contains_any"
    data[form.add_prefix("value")] = "Head of, Director"
    data[form.add_prefix("points")] = "10"

    response = client.post(
        live_url(draft),
        {**data, "layer": "demographic"},
        headers={"HX-Request": "true", "HX-Trigger-Name": form.add_prefix("value")},
    )

    assert response.content.decode() == (
        '<span class="rule-sentence">Job title contains any of “Head of”, “Director”: '
        '+10 points</span> <span class="rule-matches">matches 1 lead now</span>'
    )


def test_a_row_with_a_bad_value_says_what_is_wrong(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(reverse("admin:scoring_scoringmodel_change", args=[draft.pk]))
    data = change_form_data(page)
    form = next(
        f
        for inline in page.context["inline_admin_formsets"]
        for f in inline.formset.forms
        if f.instance.name == "Company of 200 employees or more"
    )
    data[form.add_prefix("value")] = "many"

    response = client.post(
        live_url(draft),
        {**data, "layer": "firmographic"},
        headers={"HX-Trigger-Name": form.add_prefix("value")},
    )

    assert response.content.decode() == (
        '<span class="rule-problem">&#x27;many&#x27; is not a number; give a number such as '
        "500.</span>"
    )


def test_a_saved_rule_shows_its_count_when_the_page_opens(client_as, sdr, marketing_ops, draft):
    rule = draft.rules.get(name="Senior title")

    response = client_as(marketing_ops).post(live_url(draft), {"rule": rule.pk})

    assert response.status_code == 200
    assert 'class="rule-matches">matches 0 leads now' in response.content.decode()
