"""The rule editor's form: values typed as people say them, never as JSON.

"VP, head of, director" for contains any of / starts with / is one of;
"10 and 50" for between; "30 and 90" or "365 or more" (days) for the age of a
date; a number for the comparisons and "within the last N days"; plain text
for equals, contains and the advanced pattern. Activity kinds are checkboxes
with their labels. The form turns what was typed into the value the rule
stores, and says what is wrong with it in words.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from leads.models import ActivityKind
from scoring.models import Operator, Rule

LIST_OPERATORS = (Operator.IN, Operator.CONTAINS_ANY, Operator.STARTS_WITH)
NUMBER_OPERATORS = (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE)
NO_VALUE_OPERATORS = (Operator.IS_SET, Operator.IS_TRUE, "")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
VALUE_HELP = (
    "As you would say it: words and phrases separated by commas (VP, head of, director) for "
    "'contains any of', 'starts with' and 'is one of'; '10 and 50' for between; '30 and 90' or "
    "'365 or more' (days old) for the age of a date; a number for ≥, ≤ and 'within the last N "
    "days'; nothing for 'is set' and 'is true'."
)


class PlainValueField(forms.CharField):
    """Shows a stored value as people write it: lists joined by commas."""

    def prepare_value(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            if len(value) == 2 and all(isinstance(v, int | float) for v in value):
                return f"{value[0]} and {value[1]}"
            if len(value) == 2 and isinstance(value[0], int) and value[1] is None:
                return f"{value[0]} or more"  # an age of at least so many days
            return ", ".join(str(v) for v in value)
        return str(value)


def _number(text: str, what: str) -> int | float:
    if not NUMBER.fullmatch(text):
        raise forms.ValidationError(f"{text!r} is not a number; give {what}.")
    return float(text) if "." in text else int(text)


def _days(text: str) -> int:
    days = _number(text, "a whole number of days such as 30")
    if not isinstance(days, int) or days < 0:
        raise forms.ValidationError(f"{text!r} is not a whole number of days, such as 30.")
    return days


def _age_band(text: str) -> list[int | None]:
    """ "30 and 90" → [30, 90]; "365 or more" → [365, None] (days old)."""
    older = re.fullmatch(r"(.+?)\s*(?:or more|\+)", text)
    if older:
        return [_days(older.group(1).strip()), None]
    parts = [p.strip() for p in re.split(r"\s+and\s+|,|\s+-\s+", text) if p.strip()]
    if len(parts) != 2:
        raise forms.ValidationError("Give two ages in days, such as '30 and 90', or '365 or more'.")
    return [_days(part) for part in parts]


def parse_value(operator: str, text: str) -> Any:
    """The stored value for what was typed under ``operator``; ValidationError in words."""
    text = text.strip()
    if operator in NO_VALUE_OPERATORS:
        if text:
            raise forms.ValidationError("This operator takes no value: leave the box empty.")
        return None
    if not text:
        raise forms.ValidationError("Give the value this rule compares with.")
    if operator in LIST_OPERATORS:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise forms.ValidationError("Give at least one word or phrase.")
        return items
    if operator == Operator.BETWEEN:
        parts = [p.strip() for p in re.split(r"\s+and\s+|,|\s+-\s+", text) if p.strip()]
        if len(parts) != 2:
            raise forms.ValidationError("Give two numbers, such as '10 and 50'.")
        return [_number(part, "two numbers such as '10 and 50'") for part in parts]
    if operator == Operator.AGE_DAYS:
        return _age_band(text)
    if operator in NUMBER_OPERATORS:
        return _number(text, "a number such as 500")
    if operator == Operator.WITHIN_DAYS:
        days = _number(text, "a number of days such as 30")
        if not isinstance(days, int) or days < 1:
            raise forms.ValidationError("Give a whole number of days, such as 30.")
        return days
    return text  # equals, contains, regex: the text itself


class RuleForm(forms.ModelForm):
    value = PlainValueField(required=False, help_text=VALUE_HELP)
    activity_kinds = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=ActivityKind.choices,
        help_text="The activities this rule counts.",
    )

    class Meta:
        model = Rule
        # The inline of each layer chooses which of these it shows.
        fields = [
            "position",
            "name",
            "field",
            "operator",
            "value",
            "description",
            "points",
            "activity_kinds",
            "url_pattern",
            "property_conditions",
            "window_days",
            "cap",
            "half_life_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "activity_kinds" in self.fields:
            # Kinds sent by integrations that the product has no label for yet.
            known = {value for value, _ in ActivityKind.choices}
            extra = [kind for kind in (self.instance.activity_kinds or []) if kind not in known]
            self.fields["activity_kinds"].choices = [
                *ActivityKind.choices,
                *((kind, kind.replace("_", " ").capitalize()) for kind in extra),
            ]

    def clean_value(self) -> Any:
        operator = self.cleaned_data.get("operator") or ""
        return parse_value(operator, self.cleaned_data.get("value") or "")
