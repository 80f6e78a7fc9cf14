"""The MQL definition page: the live version in plain language, for every role."""

import pytest
from django.urls import reverse

from scoring import services
from scoring.models import Layer, Rule
from scoring.selectors import live_model
from scoring.views import rule_sentence

URL = reverse("scoring:definition")
ELIGIBLE = "API, Content, Inbound form, Partner, Webinar, Website"


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={URL}"


@pytest.mark.parametrize("role", ["sdr", "manager", "marketing_ops"])
def test_every_role_reads_the_live_definition(db, client_as, request, role):
    response = client_as(request.getfixturevalue(role)).get(URL)

    assert response.status_code == 200
    assert response.context["definition"].summary == (
        "A lead becomes an MQL when its fit score is at least 10, its engagement score at "
        "least 20, and its total at least 75, it is not disqualified, and it comes from one "
        f"of: {ELIGIBLE}."
    )


def test_each_rule_reads_as_a_sentence(client_as, sdr):
    definition = client_as(sdr).get(URL).context["definition"]

    def sentences(rules):
        return [(r.name, r.sentence) for r in rules]

    assert sentences(definition.demographic) == [
        (
            "Senior title",
            "Job title names a senior role (chief, a C-level such as CEO or CTO, VP, SVP, "
            "EVP, vice president, head, director, founder, owner or president): +15 points",
        ),
        (
            "Student email",
            "Email domain is a school's or university's (it ends in .edu, .ac.xx or "
            ".edu.xx): -50 points",
        ),
    ]
    assert sentences(definition.firmographic) == [
        ("Company of 200 employees or more", "Employee count is at least 200: +10 points"),
        ("Company of fewer than 10 employees", "Employee count is less than 10: -30 points"),
    ]
    assert sentences(definition.engagement) == [
        ("Demo request", "Each demo request in the last 90 days: +30 points"),
        (
            "Pricing page visit",
            "Each pricing page view in the last 90 days: +20 points, at most 20",
        ),
        (
            "Content download",
            "Each content download in the last 90 days: +5 points, "
            "at most 15, halving every 30 days",
        ),
    ]
    assert sentences(definition.disqualifiers) == [
        ("Do not contact", "Do not contact is true"),
        (
            "Job seeker (careers pages)",
            "Any page view on a careers or jobs page in the last 30 days",
        ),
    ]
    assert definition.grades == [
        "A: fit at least 30",
        "B: fit at least 15",
        "C: fit at least 0",
        "D: fit below 0",
    ]


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        (
            {"field": "country", "operator": "in", "value": ["Germany", "France"], "points": 5},
            "Country is one of “Germany”, “France”: +5 points",
        ),
        (
            {
                "field": "account.annual_revenue",
                "operator": "between",
                "value": [1, 5],
                "points": 1,
            },
            "Annual revenue is between 1 and 5: +1 point",
        ),
        (
            {"field": "attributes.plan", "operator": "equals", "value": "team", "points": 3},
            "Imported column 'plan' is “team”: +3 points",
        ),
        (
            {
                "field": "attributes.signed_up",
                "operator": "age_days",
                "value": [30, 1500],
                "points": 5,
            },
            "Imported column 'signed_up' was 30\u20131,500 days ago: +5 points",
        ),
        (
            {
                "field": "attributes.signed_up",
                "operator": "age_days",
                "value": [1, None],
                "points": -5,
            },
            "Imported column 'signed_up' was 1 day ago or more: -5 points",
        ),
        (
            {
                "layer": Layer.ENGAGEMENT,
                "url_pattern": "/pricing",
                "window_days": 1,
                "points": 2,
                "property_conditions": [{"key": "plan", "operator": "equals", "value": "team"}],
            },
            "Each activity whose URL matches “/pricing” where plan is “team” in the last day: "
            "+2 points",
        ),
        (
            {
                "layer": Layer.ENGAGEMENT,
                "activity_kinds": ["email_bounce", "unsubscribe"],
                "points": -10,
                "cap": 20,
                "half_life_days": 1,
            },
            "Each email bounce or unsubscribe in the last 90 days: -10 points, at most 20 off, "
            "halving every day",
        ),
    ],
)
def test_rule_sentences_cover_lists_ranges_attributes_urls_and_penalties(db, fields, sentence):
    rule = Rule(model=live_model(), name="r", **{"layer": Layer.DEMOGRAPHIC, **fields})

    assert rule_sentence(rule) == sentence


def test_the_page_follows_the_version_that_goes_live(client_as, marketing_ops, manager, sdr):
    draft = services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")
    services.update_model_settings(model=draft, by=marketing_ops, threshold=90)
    services.submit_model(model=draft, by=marketing_ops)
    services.approve_model(model=draft, by=manager)
    services.publish_model(model=draft, by=marketing_ops)

    response = client_as(sdr).get(URL)

    assert response.context["definition"].model == draft
    assert "and its total at least 90," in response.context["definition"].summary
    assert f"Version {draft.version}, “Stricter”" in response.content.decode()


def test_without_a_live_version_the_page_says_so(client_as, sdr):
    live_model().delete()

    response = client_as(sdr).get(URL)

    assert response.context["definition"] is None
    assert "No scoring model is live yet" in response.content.decode()


def test_the_navigation_links_to_the_definition_for_every_role(client_as, sdr):
    html = client_as(sdr).get(reverse("home")).content.decode()

    assert f'<a href="{URL}">MQL definition</a>' in html


@pytest.mark.parametrize("extra_rules", [0, 4])
def test_definition_query_count_does_not_grow_with_rules(
    client_as, sdr, django_assert_num_queries, extra_rules
):
    live = live_model()
    Rule.objects.bulk_create(
        Rule(
            model=live,
            layer=Layer.DEMOGRAPHIC,
            name=f"Country {n}",
            field="country",
            operator="equals",
            value=f"Country {n}",
            points=1,
        )
        for n in range(extra_rules)
    )
    client = client_as(sdr)

    with django_assert_num_queries(7):  # 6 + the unread notices in the navigation
        response = client.get(URL)

    assert len(response.context["definition"].demographic) == 2 + extra_rules


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        (
            {"field": "title", "operator": "contains_any", "value": ["VP", "Chief", "Head of"]},
            "Job title contains any of “VP”, “Chief”, “Head of”: +15 points",
        ),
        (
            {"field": "title", "operator": "starts_with", "value": ["Head of", "Director"]},
            "Job title starts with “Head of” or “Director”: +15 points",
        ),
        (
            {
                "field": "title",
                "operator": "regex",
                "value": "^(chief|c[a-z]o)$",
                "description": "names a C-level role (chief, CEO, CTO…)",
            },
            "Job title names a C-level role (chief, CEO, CTO…): +15 points",
        ),
        (
            {"field": "title", "operator": "regex", "value": "^vp"},
            "Job title matches the pattern “^vp”: +15 points",
        ),
        (
            {
                "layer": Layer.ENGAGEMENT,
                "activity_kinds": ["page_view"],
                "url_pattern": "/pricing(/|$)",
                "description": "on the pricing page",
                "property_conditions": [{"key": "plan", "operator": "equals", "value": "team"}],
                "window_days": 30,
            },
            "Each page view on the pricing page where plan is “team” in the last 30 days: "
            "+15 points",
        ),
    ],
)
def test_words_phrases_and_described_patterns_read_as_sentences(db, fields, sentence):
    rule = Rule(
        model=live_model(), name="r", **{"layer": Layer.DEMOGRAPHIC, "points": 15, **fields}
    )

    assert rule_sentence(rule) == sentence


def test_the_page_shows_a_phrase_rule_as_a_sentence(client_as, sdr):
    Rule.objects.create(
        model=live_model(),
        layer=Layer.DEMOGRAPHIC,
        name="Leaders",
        field="title",
        operator="contains_any",
        value=["Head of", "Director"],
        points=10,
        position=9,
    )

    html = client_as(sdr).get(URL).content.decode()

    assert (
        "<li><strong>Leaders.</strong> Job title contains any of “Head of”, “Director”: "
        "+10 points</li>"
    ) in html
