"""The MQL definition page: the live version, stated in plain language.

The sentences are generated from the live version's settings and rules, so
the page says exactly what the scoring does; nobody maintains a copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from scoring.engine import LAYER_ORDER
from scoring.fields import field_for
from scoring.models import FIT_LAYERS, Layer, ModelStatus, Rule, ScoringModel

NUMBER_PHRASES = {
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
}


@dataclass(frozen=True)
class RuleSentence:
    name: str
    sentence: str


@dataclass(frozen=True)
class Definition:
    model: ScoringModel
    summary: str
    demographic: list[RuleSentence]
    firmographic: list[RuleSentence]
    engagement: list[RuleSentence]
    disqualifiers: list[RuleSentence]
    grades: list[str]
    bounds: str


def _quoted(value: Any) -> str:
    return f"“{value}”" if isinstance(value, str) else json.dumps(value)


def _points(points: int) -> str:
    return f"{points:+d} point{'s' if abs(points) != 1 else ''}"


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"


def _join(words: list[str], last: str = "or") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def condition_phrase(operator: str, value: Any) -> str:
    """“is at least 200”, “matches the pattern …”: what a condition asks of a value."""
    if operator == "equals":
        return f"is {_quoted(value)}"
    if operator == "in":
        return f"is one of {', '.join(_quoted(v) for v in value)}"
    if operator == "contains":
        return f"contains {_quoted(value)}"
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
    return f"{operator} {_quoted(value)}"


def _field_condition(rule: Rule) -> str:
    field = field_for(rule.field)
    label = field.label if field is not None else rule.field
    return f"{label[:1].upper()}{label[1:]} {condition_phrase(rule.operator, rule.value)}"


def _activities(rule: Rule, *, each: bool) -> str:
    kinds = [kind.replace("_", " ") for kind in rule.activity_kinds or []]
    what = _join(kinds) if kinds else "activity"
    text = f"{'Each' if each else 'Any'} {what}"
    if rule.url_pattern:
        text += f" whose URL matches {_quoted(rule.url_pattern)}"
    conditions = [
        f"{c['key']} {condition_phrase(c['operator'], c.get('value'))}"
        for c in rule.property_conditions or []
    ]
    if conditions:
        text += f" where {_join(conditions, 'and')}"
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


def summary_sentence(model: ScoringModel, source_names: Iterable[str]) -> str:
    names = list(source_names)
    sources = (
        f"it comes from one of: {', '.join(names)}"
        if names
        else "it comes from an eligible source (none is eligible at the moment)"
    )
    return (
        f"A lead becomes an MQL when its fit score is at least {model.min_fit}, its "
        f"engagement score at least {model.min_engagement}, and its total at least "
        f"{model.threshold}, it is not disqualified, and {sources}."
    )


def describe(model: ScoringModel) -> Definition:
    """The whole definition of a version (its rules and sources prefetched)."""
    rules = sorted(model.rules.all(), key=lambda r: (LAYER_ORDER[r.layer], r.position, r.pk))
    by_layer: dict[str, list[RuleSentence]] = {layer: [] for layer in Layer.values}
    for rule in rules:
        by_layer[rule.layer].append(RuleSentence(rule.name, rule_sentence(rule)))
    grades = [
        f"{letter}: fit at least {minimum}"
        for letter, minimum in zip(
            "ABC", (model.grade_a_min, model.grade_b_min, model.grade_c_min), strict=True
        )
    ]
    grades.append(f"D: fit below {model.grade_c_min}")
    bounds = (
        f"Fit counts from {model.fit_floor} to {model.fit_ceiling} points, engagement "
        f"from {model.engagement_floor} to {model.engagement_ceiling}, and the total from "
        f"{model.total_floor} to {model.total_ceiling}."
    )
    return Definition(
        model=model,
        summary=summary_sentence(model, (s.name for s in model.eligible_sources.all())),
        demographic=by_layer[Layer.DEMOGRAPHIC],
        firmographic=by_layer[Layer.FIRMOGRAPHIC],
        engagement=by_layer[Layer.ENGAGEMENT],
        disqualifiers=by_layer[Layer.DISQUALIFIER],
        grades=grades,
        bounds=bounds,
    )


def _live_version() -> ScoringModel | None:
    return (
        ScoringModel.objects.filter(status=ModelStatus.PUBLISHED)
        .select_related("approved_by", "published_by")
        .prefetch_related("rules", "eligible_sources")
        .first()
    )


@login_required
def definition(request):
    """What an MQL is right now, for every role: read-only, from the live version."""
    model = _live_version()
    return render(
        request,
        "scoring/definition.html",
        {"definition": describe(model) if model is not None else None},
    )
