"""Rules as sentences a sales rep understands.

Generated from the rule itself, so the sentence says exactly what the scoring
does. A rule with a regular expression reads as the description ops wrote
for it when they saved it; only a rule saved before descriptions existed
shows its pattern.
"""

from __future__ import annotations

import json
from typing import Any

from scoring.fields import field_for
from scoring.models import FIT_LAYERS, Layer, Rule

NUMBER_PHRASES = {
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
}


def _quoted(value: Any) -> str:
    return f"“{value}”" if isinstance(value, str) else json.dumps(value)


def _points(points: int) -> str:
    return f"{points:+d} point{'s' if abs(points) != 1 else ''}"


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"


def _join(words: list[str], last: str = "or") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _day_count(days: int) -> str:
    return f"{days:,} day" if days == 1 else f"{days:,} days"


def age_phrase(low: int, high: int | None) -> str:
    """“was 30 to 90 days ago”: the age band of a date, in words."""
    if high is None:
        return f"was {_day_count(low)} ago or more" if low else "is today or earlier"
    if low == high:
        return f"was {_day_count(low)} ago" if low else "is today"
    if low == 0:
        return f"was in the last {_day_count(high)}"
    return f"was {low:,}\N{EN DASH}{high:,} days ago"


def condition_phrase(operator: str, value: Any) -> str:
    """“is at least 200”, “contains any of …”: what a condition asks of a value."""
    if operator == "equals":
        return f"is {_quoted(value)}"
    if operator == "in":
        return f"is one of {', '.join(_quoted(v) for v in value)}"
    if operator == "contains":
        return f"contains {_quoted(value)}"
    if operator == "contains_any":
        return f"contains any of {', '.join(_quoted(v) for v in value)}"
    if operator == "starts_with":
        return f"starts with {_join([_quoted(v) for v in value])}"
    if operator == "regex":
        return f"matches the pattern {_quoted(value)}"
    if operator in NUMBER_PHRASES:
        return f"{NUMBER_PHRASES[operator]} {value}"
    if operator == "between":
        return f"is between {value[0]} and {value[1]}"
    if operator == "is_set":
        return "is set"
    if operator == "is_true":
        return "is true"
    if operator == "within_days":
        return f"is within the last {_days(value)}"
    if operator == "age_days":
        return age_phrase(value[0], value[1])
    return f"{operator} {_quoted(value)}"


def _description(rule: Rule) -> str:
    return (rule.description or "").strip()


def _field_condition(rule: Rule) -> str:
    field = field_for(rule.field)
    label = field.label if field is not None else rule.field
    if rule.operator == "regex" and _description(rule):
        what = _description(rule)
    else:
        what = condition_phrase(rule.operator, rule.value)
    return f"{label[:1].upper()}{label[1:]} {what}"


def _activities(rule: Rule, *, each: bool) -> str:
    kinds = [kind.replace("_", " ") for kind in rule.activity_kinds or []]
    what = _join(kinds) if kinds else "activity"
    text = f"{'Each' if each else 'Any'} {what}"
    described = _description(rule)
    conditions = rule.property_conditions or []
    if described:
        # The description stands for every pattern of the rule.
        text += f" {described}"
        conditions = [c for c in conditions if c["operator"] != "regex"]
    elif rule.url_pattern:
        text += f" whose URL matches {_quoted(rule.url_pattern)}"
    phrases = [f"{c['key']} {condition_phrase(c['operator'], c.get('value'))}" for c in conditions]
    if phrases:
        text += f" where {_join(phrases, 'and')}"
    return f"{text} in the last {_days(rule.window_days)}"


def rule_sentence(rule: Rule) -> str:
    """One rule as a sentence, e.g. “Each demo request in the last 90 days:
    +30 points, at most 20, halving every 30 days”."""
    if rule.layer == Layer.DISQUALIFIER:
        if rule.field:
            return _field_condition(rule)
        return _activities(rule, each=False)
    if rule.layer in FIT_LAYERS:
        return f"{_field_condition(rule)}: {_points(rule.points)}"
    text = f"{_activities(rule, each=True)}: {_points(rule.points)}"
    if rule.cap is not None:
        text += f", at most {rule.cap}" if rule.points >= 0 else f", at most {rule.cap} off"
    if rule.half_life_days:
        text += f", halving every {_days(rule.half_life_days)}"
    return text
