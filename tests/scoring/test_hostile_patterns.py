"""A hostile rule pattern cannot stall a worker (issue 17, item 7).

``(a+)+$`` on 28 characters kept Python's backtracking engine busy for over
30 seconds, and every lead queued behind it waited. Saved through the admin
now, it is either refused or run by RE2, in time linear in the title: a lead
scored under it is scored in well under a second, on both scoring paths.
"""

import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from scoring import bulk, services
from scoring.engine import compile_rule, condition_holds
from scoring.models import Layer, Rule
from scoring.selectors import compiled_model, live_model
from scoring.services import score_one
from tests import factories
from tests.admin_forms import change_form_data

HOSTILE = "(a+)+$"
TITLE = "a" * 30 + "!"


@pytest.fixture
def draft(marketing_ops):
    return services.clone_model(source=live_model(), by=marketing_ops, name="Hostile")


def add_rule_in_the_admin(client, draft, pattern: str, description: str = "is made of a's"):
    url = reverse("admin:scoring_scoringmodel_change", args=[draft.pk])
    page = client.get(url)
    data = change_form_data(page)
    inline = next(
        i for i in page.context["inline_admin_formsets"] if i.opts.layer == Layer.DEMOGRAPHIC
    )
    prefix = inline.formset.prefix
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    data.update(
        {
            f"{prefix}-{n}-position": "9",
            f"{prefix}-{n}-name": "All a's",
            f"{prefix}-{n}-field": "title",
            f"{prefix}-{n}-operator": "regex",
            f"{prefix}-{n}-value": pattern,  # typed as it is, no JSON quotes
            f"{prefix}-{n}-description": description,
            f"{prefix}-{n}-points": "5",
        }
    )
    return client.post(url, data)


def test_a_backtracking_pattern_saved_in_the_admin_scores_a_lead_in_well_under_a_second(
    client_as, marketing_ops, draft
):
    response = add_rule_in_the_admin(client_as(marketing_ops), draft, HOSTILE)
    assert response.status_code == 302
    assert draft.rules.get(name="All a's").value == HOSTILE
    lead = factories.make_lead("hostile@example.com", title=TITLE)
    other = factories.make_lead("other@example.com", title="a" * 29 + "a")

    started = time.perf_counter()
    hostile = score_one(draft, lead, as_of=timezone.now())
    after_it = score_one(draft, other, as_of=timezone.now())
    python_seconds = time.perf_counter() - started

    query = bulk.scores_sql(
        compiled_model(draft),
        as_of=timezone.now(),
        lead_filter=bulk.Sql("{lead_id} IN (%s, %s)", [lead.pk, other.pk]),
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(query.text, query.params)
        from_sql = {row[0]: row[1] for row in cursor.fetchall()}
    sql_seconds = time.perf_counter() - started

    assert python_seconds < 1.0
    assert sql_seconds < 1.0
    assert [e["rule"] for e in hostile.explanation if e["rule"] == "All a's"] == []
    assert [e["rule"] for e in after_it.explanation if e["rule"] == "All a's"] == ["All a's"]
    assert (from_sql[lead.pk], from_sql[other.pk]) == (hostile.fit_cents, after_it.fit_cents)


def test_a_long_hostile_title_is_still_linear(db):
    """Ten thousand characters under the same pattern: still far from a second."""
    rule = Rule(
        model=live_model(),
        layer=Layer.DEMOGRAPHIC,
        name="a",
        field="title",
        operator="regex",
        value=HOSTILE,
        description="is made of a's",
        points=1,
    )
    rule.full_clean()
    condition = compile_rule(rule).condition
    started = time.perf_counter()
    held = condition_holds(condition, "a" * 10_000 + "!", timezone.now())

    assert (held, time.perf_counter() - started < 0.1) == (False, True)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "(?=(a+)+)b",
            "This pattern uses a look-ahead, which cannot be run in linear time; match the "
            "text itself, or use a character class such as [^a-z].",
        ),
        (
            r"(a+)\1",
            "This pattern uses a back-reference (\\1), which cannot be run in linear time; "
            "write out the text it repeats instead.",
        ),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_in_the_admin_naming_the_field(
    client_as, marketing_ops, draft, pattern, message
):
    response = add_rule_in_the_admin(client_as(marketing_ops), draft, pattern)

    assert response.status_code == 200
    inline = next(
        i for i in response.context["inline_admin_formsets"] if i.opts.layer == Layer.DEMOGRAPHIC
    )
    assert [f.errors for f in inline.formset.forms if f.errors] == [{"value": [message]}]
    assert not draft.rules.filter(name="All a's").exists()


def test_a_pattern_saved_before_the_check_matches_nothing_rather_than_stop_scoring(db):
    """A look-ahead saved when patterns were not yet checked: the version
    still scores every lead, the rule matching none, on both paths alike."""
    live = live_model()
    Rule.objects.create(
        model=live,
        layer=Layer.DEMOGRAPHIC,
        name="Old look-ahead",
        field="title",
        operator="regex",
        value="vp(?= sales)",
        points=50,
        position=9,
    )
    lead = factories.make_lead("old@example.com", title="VP Sales")

    python = score_one(live, lead, as_of=timezone.now())
    query = bulk.scores_sql(
        compiled_model(live),
        as_of=timezone.now(),
        lead_filter=bulk.Sql("{lead_id} = %s", [lead.pk]),
    )
    with connection.cursor() as cursor:
        cursor.execute(query.text, query.params)
        [row] = cursor.fetchall()

    assert "Old look-ahead" not in [e["rule"] for e in python.explanation]
    assert row[1] == python.fit_cents
