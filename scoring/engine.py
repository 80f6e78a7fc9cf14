"""The scoring engine, one lead at a time, in Python.

This is the reference: the set-wise SQL path (scoring.bulk) must give the
same numbers for every lead, and a property test holds them to it.

Arithmetic rules that make the two paths agree to the last digit:
- every term is computed in integer hundredths of a point ("cents");
- a decayed term is floor(points * 100 * 0.5 ** (age_seconds / half_life_seconds) + 0.5),
  with the same IEEE operations in both paths, so it is the same integer;
- sums, caps, floors and ceilings are then integer arithmetic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from scoring.fields import ATTRIBUTE_PREFIX, FieldType, field_for
from scoring.models import Layer, Operator, Rule, ScoringModel
from scoring.patterns import Searchable, TextMatch, compile_phrases, runnable_pattern

SECONDS_PER_DAY = 86400.0
TEXT_OPERATORS = {
    Operator.EQUALS,
    Operator.IN,
    Operator.CONTAINS,
    Operator.CONTAINS_ANY,
    Operator.STARTS_WITH,
    Operator.REGEX,
}
# Operators whose match is compiled once with the rule (scoring.patterns):
# RE2 here, its PostgreSQL twin in scoring.bulk.
PATTERN_OPERATORS = {Operator.CONTAINS_ANY, Operator.STARTS_WITH, Operator.REGEX}
# A date held in an attribute: its calendar day as written (YYYY-MM-DD, alone
# or followed by a time), read the same way by scoring.bulk.
ATTRIBUTE_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:\Z|T)")
NUMBER_OPERATORS = {Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN}


@dataclass(frozen=True)
class Condition:
    """One test of a value: a lead field, an attribute or an activity property."""

    field: str
    type: FieldType
    operator: str
    value: Any
    pattern: TextMatch | None = None

    @classmethod
    def build(cls, field_name: str, type_: FieldType, operator: str, value: Any) -> Condition:
        pattern: TextMatch | None = None
        if operator == Operator.REGEX:
            pattern = runnable_pattern(value)
        elif operator in (Operator.CONTAINS_ANY, Operator.STARTS_WITH):
            pattern = compile_phrases(operator, tuple(value))
        return cls(field_name, type_, operator, value, pattern)


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    layer: str
    points: int
    condition: Condition | None = None
    activity_kinds: tuple[str, ...] = ()
    url_pattern: Searchable | None = None
    url_pattern_text: str = ""  # as ops wrote it; scoring.bulk writes it for PostgreSQL
    property_conditions: tuple[Condition, ...] = ()
    window_days: int = 90
    cap: int | None = None
    half_life_days: int | None = None

    @property
    def matches_activities(self) -> bool:
        return self.condition is None


@dataclass(frozen=True)
class CompiledModel:
    id: int
    version: int
    threshold: int
    min_fit: int
    min_engagement: int
    grade_bands: tuple[int, int, int]
    fit_bounds: tuple[int, int]
    engagement_bounds: tuple[int, int]
    total_bounds: tuple[int, int]
    eligible_source_ids: frozenset[int]
    rules: tuple[CompiledRule, ...]

    @property
    def max_window_days(self) -> int:
        return max((r.window_days for r in self.rules if r.matches_activities), default=0)


LAYER_ORDER: dict[str, int] = {
    Layer.DEMOGRAPHIC: 0,
    Layer.FIRMOGRAPHIC: 1,
    Layer.ENGAGEMENT: 2,
    Layer.DISQUALIFIER: 3,
}


def compile_rule(rule: Rule) -> CompiledRule:
    """A rule in the form the engine runs. Assumes the rule was validated."""
    common: dict[str, Any] = {
        "id": rule.pk,
        "name": rule.name,
        "layer": rule.layer,
        "points": rule.points,
    }
    if rule.layer == Layer.DISQUALIFIER:
        common["points"] = 0  # a disqualifier blocks; it does not score
    if rule.field:
        field = field_for(rule.field)
        assert field is not None, f"rule {rule.pk} names an unknown field"
        return CompiledRule(
            **common, condition=Condition.build(rule.field, field.type, rule.operator, rule.value)
        )
    return CompiledRule(
        **common,
        activity_kinds=tuple(rule.activity_kinds or ()),
        url_pattern=runnable_pattern(rule.url_pattern) if rule.url_pattern else None,
        url_pattern_text=rule.url_pattern,
        property_conditions=tuple(
            Condition.build(c["key"], FieldType.ANY, c["operator"], c.get("value"))
            for c in rule.property_conditions or ()
        ),
        window_days=rule.window_days,
        cap=rule.cap,
        half_life_days=rule.half_life_days or None,
    )


def compile_model(model: ScoringModel) -> CompiledModel:
    """Loads a version's rules once; the result scores any number of leads."""
    rules = sorted(model.rules.all(), key=lambda r: (LAYER_ORDER[r.layer], r.position, r.pk))
    return CompiledModel(
        id=model.pk,
        version=model.version,
        threshold=model.threshold,
        min_fit=model.min_fit,
        min_engagement=model.min_engagement,
        grade_bands=(model.grade_a_min, model.grade_b_min, model.grade_c_min),
        fit_bounds=(model.fit_floor, model.fit_ceiling),
        engagement_bounds=(model.engagement_floor, model.engagement_ceiling),
        total_bounds=(model.total_floor, model.total_ceiling),
        eligible_source_ids=frozenset(model.eligible_sources.values_list("pk", flat=True)),
        rules=tuple(compile_rule(r) for r in rules),
    )


# --- conditions -----------------------------------------------------------------


def _as_number(value: Any, type_: FieldType) -> Decimal | None:
    if type_ == FieldType.ANY:
        # Only JSON numbers count, read exactly as PostgreSQL reads their JSON text.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if value is None:
        return None
    return Decimal(value)


def _as_text(value: Any, type_: FieldType) -> str | None:
    if type_ == FieldType.ANY:
        return value if isinstance(value, str) and value != "" else None
    return value or None


def condition_holds(cond: Condition, value: Any, as_of: datetime) -> bool:
    """Whether one value meets a condition. A value that is not set never
    matches (except that ``is_set`` is false for it)."""
    op = cond.operator
    if op == Operator.IS_SET:
        return value is not None and value != ""
    if op == Operator.IS_TRUE:
        return value is True
    if op in TEXT_OPERATORS:
        text = _as_text(value, cond.type)
        if text is None:
            return False
        lowered = text.lower()
        if op == Operator.EQUALS:
            return lowered == str(cond.value).lower()
        if op == Operator.IN:
            return lowered in {str(v).lower() for v in cond.value}
        if op == Operator.CONTAINS:
            return str(cond.value).lower() in lowered
        assert cond.pattern is not None  # built with the condition (PATTERN_OPERATORS)
        return cond.pattern.search(text) is not None
    if op in NUMBER_OPERATORS:
        number = _as_number(value, cond.type)
        if number is None:
            return False
        if op == Operator.BETWEEN:
            low, high = (Decimal(str(v)) for v in cond.value)
            return low <= number <= high
        target = Decimal(str(cond.value))
        comparisons: dict[str, bool] = {
            Operator.GT: number > target,
            Operator.GTE: number >= target,
            Operator.LT: number < target,
            Operator.LTE: number <= target,
        }
        return comparisons[op]
    if op == Operator.WITHIN_DAYS:
        if value is None:
            return False
        since = as_of - timedelta(days=int(cond.value))
        if isinstance(value, datetime):
            return value >= since
        assert isinstance(value, date)
        return value >= since.astimezone(UTC).date()
    if op == Operator.AGE_DAYS:
        day = attribute_date(value)
        if day is None:
            return False
        low, high = cond.value
        age = (as_of.astimezone(UTC).date() - day).days
        return low <= age and (high is None or age <= high)
    raise ValueError(f"unknown operator {op!r}")


def attribute_date(value: Any) -> date | None:
    """The day an attribute's ISO date text names; None for anything else
    (not text, not a date, no such day), so a bad date never matches."""
    if not isinstance(value, str):
        return None
    found = ATTRIBUTE_DATE.match(value)
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


# --- activities -------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFacts:
    kind: str
    url: str
    properties: Mapping[str, Any]
    occurred_at: datetime


def activity_matches(rule: CompiledRule, activity: ActivityFacts, as_of: datetime) -> bool:
    if activity.occurred_at < as_of - timedelta(days=rule.window_days):
        return False
    if rule.activity_kinds and activity.kind not in rule.activity_kinds:
        return False
    if rule.url_pattern is not None and rule.url_pattern.search(activity.url) is None:
        return False
    return all(
        condition_holds(c, activity.properties.get(c.field), as_of)
        for c in rule.property_conditions
    )


def decayed_cents(points: int, age_seconds: float, half_life_days: int | None) -> int:
    """One activity's points in hundredths, halved every half-life of its age."""
    if not half_life_days:
        return points * 100
    factor = 0.5 ** (age_seconds / (half_life_days * SECONDS_PER_DAY))
    return math.floor(points * 100.0 * factor + 0.5)


def capped(cents: int, points: int, cap: int | None) -> int:
    if cap is None:
        return cents
    return min(cents, cap * 100) if points >= 0 else max(cents, -cap * 100)


# --- the score ----------------------------------------------------------------------


@dataclass
class ScoreResult:
    fit_cents: int
    engagement_cents: int
    total_cents: int
    grade: str
    disqualified: bool
    qualifies: bool
    explanation: list[dict[str, Any]] = field(default_factory=list)
    # Fit enough but not engaged enough: marketing nurtures it (see fit_only).
    fit_only: bool = False

    @property
    def fit(self) -> Decimal:
        return Decimal(self.fit_cents).scaleb(-2)

    @property
    def engagement(self) -> Decimal:
        return Decimal(self.engagement_cents).scaleb(-2)

    @property
    def total(self) -> Decimal:
        return Decimal(self.total_cents).scaleb(-2)


def explanation_entry(
    rule_id: int | None,
    name: str,
    layer: str,
    *,
    count: int,
    before: int,
    after_decay: int,
    points: int,
    disqualifies: bool = False,
) -> dict[str, Any]:
    """One line of "why": amounts in points (two decimals at most)."""
    return {
        "rule_id": rule_id,
        "rule": name,
        "layer": layer,
        "count": count,
        "points_before": before / 100,
        "points_after_decay": after_decay / 100,
        "points": points / 100,
        "disqualifies": disqualifies,
    }


def clamp(value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return max(low * 100, min(high * 100, value))


def bound_adjustment(
    raw: int, clamped: int, label: str, layer: str, bounds: tuple[int, int]
) -> dict[str, Any] | None:
    if raw == clamped:
        return None
    which = f"{label} ceiling ({bounds[1]})" if raw > clamped else f"{label} floor ({bounds[0]})"
    diff = clamped - raw
    return explanation_entry(
        None, which, layer, count=0, before=diff, after_decay=diff, points=diff
    )


def is_eligible(model: CompiledModel, *, source_id: int, touch_source_ids: Iterable[int]) -> bool:
    """Whether any of the lead's sources, its first or a later touch, may make
    it an MQL (scoring.bulk's ``eligible`` column says the same in SQL)."""
    eligible = model.eligible_source_ids
    return source_id in eligible or any(s in eligible for s in touch_source_ids)


def grade_for(fit_cents: int, bands: tuple[int, int, int]) -> str:
    for letter, minimum in zip("ABC", bands, strict=True):
        if fit_cents >= minimum * 100:
            return letter
    return "D"


def score(
    model: CompiledModel,
    *,
    values: Mapping[str, Any],
    attributes: Mapping[str, Any],
    source_id: int,
    activities: Iterable[ActivityFacts],
    as_of: datetime,
    touch_source_ids: Iterable[int] = (),
) -> ScoreResult:
    """Scores one lead from its field values, attributes and activities.

    The lead may qualify when its first source (``source_id``) or the source
    of any later touch (``touch_source_ids``) is eligible under the model."""
    activities = [
        a for a in activities if a.occurred_at >= as_of - timedelta(days=model.max_window_days)
    ]
    # A rule that names its kinds looks only at activities of those kinds:
    # scoring a lead with 200 events, matching each against each rule was
    # most of the engine's time.
    by_kind: dict[str, list[ActivityFacts]] = {}
    for activity in activities:
        by_kind.setdefault(activity.kind, []).append(activity)
    explanation: list[dict[str, Any]] = []
    fit_raw = engagement_raw = 0
    disqualified = False

    for rule in model.rules:
        if rule.condition is not None:
            cond = rule.condition
            if cond.field.startswith(ATTRIBUTE_PREFIX):
                value = attributes.get(cond.field.removeprefix(ATTRIBUTE_PREFIX))
            else:
                value = values.get(cond.field)
            if not condition_holds(cond, value, as_of):
                continue
            cents = rule.points * 100
            if rule.layer == Layer.DISQUALIFIER:
                disqualified = True
                explanation.append(
                    explanation_entry(
                        rule.id,
                        rule.name,
                        rule.layer,
                        count=1,
                        before=0,
                        after_decay=0,
                        points=0,
                        disqualifies=True,
                    )
                )
                continue
            fit_raw += cents
            explanation.append(
                explanation_entry(
                    rule.id,
                    rule.name,
                    rule.layer,
                    count=1,
                    before=cents,
                    after_decay=cents,
                    points=cents,
                )
            )
            continue

        count = 0
        decayed = 0
        candidates = (
            [a for kind in set(rule.activity_kinds) for a in by_kind.get(kind, ())]
            if rule.activity_kinds
            else activities
        )
        for activity in candidates:
            if not activity_matches(rule, activity, as_of):
                continue
            count += 1
            age = max(0.0, (as_of - activity.occurred_at).total_seconds())
            decayed += decayed_cents(rule.points, age, rule.half_life_days)
        if count == 0:
            continue
        if rule.layer == Layer.DISQUALIFIER:
            disqualified = True
            explanation.append(
                explanation_entry(
                    rule.id,
                    rule.name,
                    rule.layer,
                    count=count,
                    before=0,
                    after_decay=0,
                    points=0,
                    disqualifies=True,
                )
            )
            continue
        points = capped(decayed, rule.points, rule.cap)
        engagement_raw += points
        explanation.append(
            explanation_entry(
                rule.id,
                rule.name,
                rule.layer,
                count=count,
                before=count * rule.points * 100,
                after_decay=decayed,
                points=points,
            )
        )

    fit = clamp(fit_raw, model.fit_bounds)
    engagement = clamp(engagement_raw, model.engagement_bounds)
    total_raw = fit + engagement
    total = clamp(total_raw, model.total_bounds)
    for adjustment in (
        bound_adjustment(fit_raw, fit, "Fit", "fit", model.fit_bounds),
        bound_adjustment(
            engagement_raw, engagement, "Engagement", "engagement", model.engagement_bounds
        ),
        bound_adjustment(total_raw, total, "Total", "total", model.total_bounds),
    ):
        if adjustment is not None:
            explanation.append(adjustment)

    qualifies = (
        not disqualified
        and is_eligible(model, source_id=source_id, touch_source_ids=touch_source_ids)
        and fit >= model.min_fit * 100
        and engagement >= model.min_engagement * 100
        and total >= model.threshold * 100
    )
    return ScoreResult(
        fit_cents=fit,
        engagement_cents=engagement,
        total_cents=total,
        grade=grade_for(fit, model.grade_bands),
        disqualified=disqualified,
        qualifies=qualifies,
        explanation=explanation,
        fit_only=fit_only(
            model, fit_cents=fit, engagement_cents=engagement, disqualified=disqualified
        ),
    )


def fit_only(
    model: CompiledModel, *, fit_cents: int, engagement_cents: int, disqualified: bool
) -> bool:
    """A lead that passes fit but not engagement: never sales', marketing's to
    nurture until it engages. (bulk.py's ``fit_only`` column says the same.)"""
    return (
        not disqualified
        and fit_cents >= model.min_fit * 100
        and engagement_cents < model.min_engagement * 100
    )
