"""As ops edit a rule row, it reads as a sentence with how many current leads
it matches, counted in PostgreSQL from what is in the row's inputs."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from scoring import services
from scoring.models import Layer, Rule
from scoring.selectors import common_values, live_model, rule_match_count
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


def test_the_data_offers_its_most_common_values_for_a_country_rule(client_as, marketing_ops, draft):
    for country, leads in [("Germany", 3), ("France", 2), ("Spain", 1), ("", 4)]:
        for _ in range(leads):
            factories.make_lead(country=country)
    client = client_as(marketing_ops)
    page = client.get(reverse("admin:scoring_scoringmodel_change", args=[draft.pk]))
    data = change_form_data(page)
    form = next(
        f
        for inline in page.context["inline_admin_formsets"]
        for f in inline.formset.forms
        if f.instance.name == "Senior title"
    )
    data[form.add_prefix("field")] = "country"
    data[form.add_prefix("operator")] = "in"
    data[form.add_prefix("value")] = ""  # nothing given yet: the picks help to give it

    response = client.post(
        live_url(draft),
        {**data, "layer": "demographic"},
        headers={"HX-Request": "true", "HX-Trigger-Name": form.add_prefix("operator")},
    )

    html = response.content.decode()
    assert "Give the value this rule compares with." in html
    picks = re.findall(r'data-value="([^"]+)" title="([^"]+)"', html)
    assert picks == [("Germany", "3 leads"), ("France", "2 leads"), ("Spain", "1 lead")]


def test_free_text_fields_offer_no_picks(db):
    factories.make_lead(title="VP Sales")

    assert common_values(field="title") == []
    assert common_values(field="source") == [("inbound_form", 1)]


def test_without_postgresql_the_engine_counts_the_same_leads(db, monkeypatch):
    """The embedded default (SQLite) counts lead by lead with the engine."""
    factories.make_lead(title="Head of Sales", country="Germany")
    factories.make_lead(title="Director, Finance", country="France")
    factories.make_lead(title="Sales rep", country="Germany")
    factories.make_activity(factories.make_lead(), "demo_request")
    rules = [
        Rule(
            layer=Layer.DEMOGRAPHIC,
            name="Heads",
            field="title",
            operator="contains_any",
            value=["Head of", "Director"],
            points=10,
        ),
        Rule(layer=Layer.DEMOGRAPHIC, name="DE", field="country", operator="in", value=["germany"]),
        Rule(layer=Layer.ENGAGEMENT, name="Demo", activity_kinds=["demo_request"], points=30),
    ]
    in_sql = [rule_match_count(rule=rule) for rule in rules]

    monkeypatch.setattr(connection, "vendor", "sqlite")
    in_python = [rule_match_count(rule=rule) for rule in rules]

    assert in_python == in_sql == [2, 2, 1]
