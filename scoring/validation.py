"""Checks that refuse a bad rule when it is saved, never at scoring time."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from scoring.fields import FIELDS, FieldType, field_for
from scoring.patterns import (
    MAX_PHRASE_LENGTH,
    MAX_PHRASES,
    PatternError,
    compile_pattern,
    compile_phrases,
)

PHRASE_OPS = {"contains_any", "starts_with"}
TEXT_OPS = {"equals", "in", "contains", *PHRASE_OPS, "regex", "is_set"}
NUMBER_OPS = {"gt", "gte", "lt", "lte", "between", "is_set"}
OPERATORS_BY_TYPE: dict[FieldType, set[str]] = {
    FieldType.TEXT: TEXT_OPS,
    FieldType.NUMBER: NUMBER_OPS,
    FieldType.BOOLEAN: {"is_true", "is_set"},
    FieldType.DATE: {"within_days", "is_set"},
    FieldType.DATETIME: {"within_days", "is_set"},
    FieldType.ANY: TEXT_OPS | NUMBER_OPS | {"is_true", "age_days"},
}
ACTIVITY_KIND = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def check_regex(pattern: Any, where: str) -> None:
    """The pattern runs in linear time and means the same on both scoring
    paths (scoring.patterns says how); otherwise a message on ``where``."""
    if not isinstance(pattern, str) or pattern == "":
        raise ValidationError({where: "Give a regular expression."})
    try:
        compile_pattern(pattern)
    except PatternError as error:
        raise ValidationError({where: error.message}) from None


def check_phrases(operator: str, value: Any) -> None:
    """A list of words and phrases: each one trimmed, none empty, within limits."""
    example = '["VP", "head of", "director"]'
    if not isinstance(value, list) or not value:
        raise ValidationError(
            {"value": f"'{operator}' needs a list of words or phrases, e.g. {example}."}
        )
    if len(value) > MAX_PHRASES:
        raise ValidationError({"value": f"Give at most {MAX_PHRASES} words or phrases."})
    for n, phrase in enumerate(value, start=1):
        if not isinstance(phrase, str) or not phrase.strip():
            raise ValidationError({"value": f"Phrase {n} is empty; give a word or phrase."})
        if phrase != phrase.strip():
            raise ValidationError({"value": f"Phrase {n} starts or ends with a space; trim it."})
        if len(phrase) > MAX_PHRASE_LENGTH:
            raise ValidationError(
                {"value": f"Phrase {n} is longer than {MAX_PHRASE_LENGTH} characters."}
            )
    try:
        compile_phrases(operator, tuple(value))
    except PatternError as error:
        raise ValidationError({"value": error.message}) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_operator_value(
    operator: str, value: Any, type_: FieldType, where: str, label: str
) -> None:
    """The operator fits the field's type, and the value fits the operator."""
    if operator not in OPERATORS_BY_TYPE[type_]:
        allowed = ", ".join(sorted(OPERATORS_BY_TYPE[type_]))
        raise ValidationError(
            {
                where: f"'{operator}' does not apply to {label} "
                f"({type_.value}); use one of: {allowed}."
            }
        )
    if operator in ("equals", "contains") and not isinstance(value, str | int | float):
        raise ValidationError({"value": f"'{operator}' needs a text value, e.g. \"VP\"."})
    if operator == "in" and (not isinstance(value, list) or not value):
        raise ValidationError({"value": '\'in\' needs a list of values, e.g. ["CEO", "CTO"].'})
    if operator in PHRASE_OPS:
        check_phrases(operator, value)
    if operator == "regex":
        check_regex(value, "value")
    if operator in ("gt", "gte", "lt", "lte") and not _is_number(value):
        raise ValidationError({"value": f"'{operator}' needs a number, e.g. 200."})
    if operator == "between" and not (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
        and value[0] <= value[1]
    ):
        raise ValidationError({"value": "'between' needs [low, high] numbers, e.g. [10, 50]."})
    if operator == "within_days" and not (
        isinstance(value, int) and not isinstance(value, bool) and value > 0
    ):
        raise ValidationError({"value": "'within_days' needs a whole number of days, e.g. 90."})
    if operator == "age_days":
        check_age_days(value, label)


def _is_days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_age_days(value: Any, label: str) -> None:
    """[youngest, oldest] in whole days; oldest may be null (no upper bound)."""
    example = "e.g. [30, 90] for 30 to 90 days old, or [365, null] for a year or older"
    if not (isinstance(value, list) and len(value) == 2):
        raise ValidationError(
            {"value": f"'age_days' on {label} needs [youngest, oldest], {example}."}
        )
    low, high = value
    if not _is_days(low):
        raise ValidationError(
            {"value": f"The youngest age for {label} must be a whole number of days, 0 or more."}
        )
    if high is not None and not _is_days(high):
        raise ValidationError(
            {"value": f"The oldest age for {label} must be a whole number of days, or null."}
        )
    if high is not None and high < low:
        raise ValidationError(
            {"value": f"The oldest age for {label} ({high} days) is below the youngest ({low})."}
        )


def validate_rule(rule) -> None:
    """Raises ValidationError naming the field of the rule that is wrong."""
    activity_based = rule.layer == "engagement" or (
        rule.layer == "disqualifier" and bool(rule.activity_kinds)
    )
    if not activity_based:
        if not rule.field:
            raise ValidationError({"field": "Name the field this rule tests."})
        field = field_for(rule.field)
        if field is None:
            known = ", ".join(sorted(FIELDS))
            raise ValidationError(
                {
                    "field": f"Unknown field '{rule.field}'. Use one of {known}, "
                    "or attributes.<name> for an imported column."
                }
            )
        if not rule.operator:
            raise ValidationError({"operator": "Choose an operator."})
        check_operator_value(rule.operator, rule.value, field.type, "operator", field.label)
        check_description(rule)
        return
    if rule.field:
        raise ValidationError(
            {"field": "An activity rule matches activities; leave the field empty."}
        )
    kinds = rule.activity_kinds
    if not isinstance(kinds, list) or not all(
        isinstance(k, str) and ACTIVITY_KIND.match(k) for k in kinds
    ):
        raise ValidationError(
            {"activity_kinds": 'Give a list of activity kinds such as ["demo_request"].'}
        )
    if rule.layer == "engagement" and not kinds and not rule.url_pattern:
        raise ValidationError(
            {"activity_kinds": "Say which activities count: kinds, a URL pattern, or both."}
        )
    if rule.url_pattern:
        check_regex(rule.url_pattern, "url_pattern")
    conditions = rule.property_conditions
    if not isinstance(conditions, list):
        raise ValidationError({"property_conditions": "Give a list of conditions."})
    for n, cond in enumerate(conditions, start=1):
        if not isinstance(cond, dict) or not cond.get("key") or not cond.get("operator"):
            raise ValidationError(
                {"property_conditions": f"Condition {n} needs a key and an operator."}
            )
        try:
            check_operator_value(
                cond["operator"],
                cond.get("value"),
                FieldType.ANY,
                "property_conditions",
                f"property '{cond['key']}'",
            )
        except ValidationError as error:
            messages = "; ".join(error.messages)
            raise ValidationError({"property_conditions": f"Condition {n}: {messages}"}) from None
    if rule.window_days < 1:
        raise ValidationError({"window_days": "The look-back window is at least one day."})
    check_description(rule)


def uses_pattern(rule) -> bool:
    """Whether the rule holds a regular expression ops wrote (the advanced
    operator on its field or a property, or a URL pattern)."""
    conditions = rule.property_conditions if isinstance(rule.property_conditions, list) else []
    return (
        (bool(rule.field) and rule.operator == "regex")
        or bool(rule.url_pattern)
        or any(isinstance(c, dict) and c.get("operator") == "regex" for c in conditions)
    )


def check_description(rule) -> None:
    """A rule with a pattern says in words what it matches: that is what
    the definition page shows, not the pattern."""
    if uses_pattern(rule) and not (rule.description or "").strip():
        raise ValidationError(
            {
                "description": "Say in words what the pattern matches, as the definition "
                "page will show it, e.g. “names a senior role: chief, VP, head…”."
            }
        )
