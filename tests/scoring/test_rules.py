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


DESCRIBED = "names a senior role"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"field": "title", "operator": "regex", "value": "vp(?= sales)"},
            "value",
            "This pattern uses a look-ahead, which cannot be run in linear time; match the "
            "text itself, or use a character class such as [^a-z].",
        ),
        (
            {"field": "title", "operator": "regex", "value": "(?<!a)vp"},
            "value",
            "This pattern uses a look-behind, which cannot be run in linear time; match the "
            "text itself, or use a character class such as [^a-z].",
        ),
        (
            {
                "layer": "engagement",
                "activity_kinds": ["page_view"],
                "url_pattern": r"/(jobs)/\1",
                "description": "on a jobs page",
            },
            "url_pattern",
            "This pattern uses a back-reference (\\1), which cannot be run in linear time; "
            "write out the text it repeats instead.",
        ),
        (
            {"field": "title", "operator": "regex", "value": "(?i)vp"},
            "value",
            "This pattern sets a flag such as (?i); patterns are always case-insensitive, so "
            "leave it out.",
        ),
        (
            {"field": "title", "operator": "regex", "value": "[[:alpha:]]+"},
            "value",
            "Classes such as [[:alpha:]] are not supported; write the characters out, e.g. [a-z].",
        ),
        (
            {"field": "title", "operator": "regex", "value": "a{1,300}"},
            "value",
            "Repeat counts go up to 255.",
        ),
        (
            {"field": "title", "operator": "regex", "value": "^(chief|vp)"},
            "description",
            "Say in words what the pattern matches, as the definition page will show it, "
            "e.g. “names a senior role: chief, VP, head…”.",
        ),
        (
            {"layer": "engagement", "activity_kinds": ["page_view"], "url_pattern": "/careers"},
            "description",
            "Say in words what the pattern matches, as the definition page will show it, "
            "e.g. “names a senior role: chief, VP, head…”.",
        ),
        (
            {"field": "title", "operator": "contains_any", "value": "VP"},
            "value",
            '\'contains_any\' needs a list of words or phrases, e.g. ["VP", "head of", '
            '"director"].',
        ),
        (
            {"field": "title", "operator": "starts_with", "value": ["VP", "  "]},
            "value",
            "Phrase 2 is empty; give a word or phrase.",
        ),
        (
            {"field": "title", "operator": "contains_any", "value": ["head of "]},
            "value",
            "Phrase 1 starts or ends with a space; trim it.",
        ),
        (
            {"field": "title", "operator": "contains_any", "value": ["x" * 101]},
            "value",
            "Phrase 1 is longer than 100 characters.",
        ),
        (
            {"field": "title", "operator": "contains_any", "value": [f"w{n}" for n in range(51)]},
            "value",
            "Give at most 50 words or phrases.",
        ),
        (
            {"field": "account.employee_count", "operator": "contains_any", "value": ["1"]},
            "operator",
            "'contains_any' does not apply to employee count (number)",
        ),
    ],
)
def test_patterns_and_phrases_are_refused_with_what_to_do_instead(db, fields, field, message):
    with pytest.raises(ValidationError) as refused:
        rule(**fields).full_clean()

    assert refused.value.message_dict[field][0].startswith(message)


def test_patterns_and_phrases_that_run_in_linear_time_pass(db):
    rule(
        field="title", operator="contains_any", value=["VP", "C++", "(ops)", "général"]
    ).full_clean()
    rule(field="attributes.role", operator="starts_with", value=["head of"]).full_clean()
    rule(field="title", operator="regex", value="(a+)+$", description=DESCRIBED).full_clean()
    rule(
        layer="engagement",
        activity_kinds=["page_view"],
        url_pattern=r"/(careers|jobs)(/|$)",
        description="on a careers page",
    ).full_clean()
