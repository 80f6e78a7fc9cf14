"""The MQL definition page: the live version, stated in plain language.

The sentences are generated from the live version's settings and rules, so
the page says exactly what the scoring does; nobody maintains a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from scoring.engine import LAYER_ORDER
from scoring.models import Layer, ModelStatus, ScoringModel
from scoring.sentences import rule_sentence

__all__ = ["definition", "describe", "rule_sentence"]


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
