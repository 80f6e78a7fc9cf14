import pytest
from django.core.exceptions import ValidationError

from scoring.models import Rule
from scoring.selectors import live_model


def rule(**fields) -> Rule:
    defaults = {"name": "r", "layer": "demographic", "points": 10}
    return Rule(model=live_model(), **{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"field": "shoe_size", "operator": "equals", "value": "9"},
            "field",
            "Unknown field 'shoe_size'",
        ),
        (
            {"field": "title", "operator": "regex", "value": "(unclosed"},
            "value",
            "Not a valid regular expression",
        ),
        (
            {"field": "title", "operator": "regex", "value": r"\bvp\b"},
            "value",
            r"\b is not supported",
        ),
        (
            {"field": "title", "operator": "gte", "value": 5},
            "operator",
            "'gte' does not apply to job title (text)",
        ),
        (
            {"field": "account.employee_count", "operator": "gte", "value": "many"},
            "value",
            "'gte' needs a number",
        ),
        (
            {"field": "account.employee_count", "operator": "between", "value": [50, 10]},
            "value",
            "'between' needs [low, high] numbers",
        ),
        ({"field": "title", "operator": "in", "value": "CEO"}, "value", "'in' needs a list"),
        (
            {"layer": "engagement", "activity_kinds": ["Demo Request"]},
            "activity_kinds",
            "Give a list of activity kinds",
        ),
        (
            {"layer": "engagement", "activity_kinds": ["page_view"], "url_pattern": "[bad"},
            "url_pattern",
            "Not a valid regular expression",
        ),
        (
            {
                "layer": "engagement",
                "activity_kinds": ["page_view"],
                "property_conditions": [{"key": "n", "operator": "gte", "value": "x"}],
            },
            "property_conditions",
            "Condition 1: 'gte' needs a number",
        ),
    ],
)
def test_invalid_rules_are_refused_when_saved_with_a_clear_message(db, fields, field, message):
    with pytest.raises(ValidationError) as refused:
        rule(**fields).full_clean()

    assert message in " ".join(refused.value.message_dict[field])


def test_a_valid_rule_passes(db):
    rule(field="attributes.total_visits", operator="gte", value=5).full_clean()
    rule(
        layer="engagement", activity_kinds=["content_download"], cap=15, half_life_days=30
    ).full_clean()
