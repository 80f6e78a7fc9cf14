"""Turning one CSV row into the values of one lead, under a mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.domains import normalise_email
from leads.importing.mapping import ColumnRule, Mapping
from leads.importing.results import RowError
from leads.models import Lead

# Plain decimal numbers only: float() would also take "nan", "inf" and "1_000".
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
TRUE_WORDS = frozenset({"yes", "true", "1"})
FALSE_WORDS = frozenset({"no", "false", "0"})
EMAIL_MAX_LENGTH = Lead._meta.get_field("email").max_length
EXTERNAL_ID_MAX_LENGTH = Lead._meta.get_field("external_id").max_length
# A text attribute is a category or a short answer that rules compare: a longer
# one is a mistake in the file (or an attack on the lead's row), not data.
ATTRIBUTE_MAX_LENGTH = 1000
# PostgreSQL stores no NUL in text or jsonb: a row with one is refused here, not there.
NUL_PROBLEM = "contains a NUL character, which cannot be stored"


@dataclass(frozen=True)
class LeadValues:
    """A valid row: the identifier and the non-empty values it brings.

    Empty cells are left out, so that (as with upsert_lead) they never erase
    what is already known about a lead.
    """

    line: int
    key: str  # the identifier, normalised
    profile: dict[str, Any]
    attributes: dict[str, Any]


class RowConverter:
    """Reads rows of a file whose header is ``header`` (column name -> index)."""

    def __init__(self, mapping: Mapping, header: dict[str, int]):
        self.mapping = mapping
        self._key_index = header[mapping.identifier_column]
        # In the file's column order, so a row's problems read left to right
        # (a mapping stored as jsonb has lost its own key order).
        self._rules = sorted(
            ((rule, header[rule.column]) for rule in mapping.columns), key=lambda pair: pair[1]
        )
        self._outcome_index = header[mapping.outcome.column] if mapping.outcome else None

    def convert(self, line: int, cells: list[str]) -> tuple[LeadValues | None, list[RowError]]:
        """The row's values, or None and every problem found in it."""
        errors: list[RowError] = []
        key = self._identifier(line, cells[self._key_index], errors)
        profile: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for rule, index in self._rules:
            raw = cells[index]
            try:
                value = self._value(rule, raw)
            except ValueError as problem:
                errors.append(RowError(line, rule.column, str(problem)))
                continue
            if value is None:
                continue
            if rule.field:
                profile[rule.field] = value
            else:
                attributes[rule.attribute] = value  # type: ignore[index]
        if self._outcome_index is not None:
            try:
                outcome = self._outcome(cells[self._outcome_index])
            except ValueError as problem:
                errors.append(RowError(line, self.mapping.outcome.column, str(problem)))  # type: ignore[union-attr]
            else:
                if outcome is not None:
                    profile["known_outcome"] = outcome
        if errors or key is None:
            return None, errors
        return LeadValues(line=line, key=key, profile=profile, attributes=attributes), []

    def _is_empty(self, text: str) -> bool:
        return not text or text.casefold() in self.mapping.placeholders

    def _identifier(self, line: int, raw: str, errors: list[RowError]) -> str | None:
        column, field = self.mapping.identifier_column, self.mapping.identifier_field
        if "\x00" in raw:
            errors.append(RowError(line, column, NUL_PROBLEM))
            return None
        text = raw.strip()
        if self._is_empty(text):
            errors.append(RowError(line, column, f"empty, but every lead needs its {field}"))
            return None
        if field == "email":
            text = normalise_email(text)
            try:
                validate_email(text)
            except ValidationError:
                errors.append(RowError(line, column, f"{_quote(raw)} is not an email address"))
                return None
            limit = EMAIL_MAX_LENGTH
        else:
            limit = EXTERNAL_ID_MAX_LENGTH
        if len(text) > limit:
            errors.append(RowError(line, column, f"{len(text)} characters, at most {limit} fit"))
            return None
        return text

    def _value(self, rule: ColumnRule, raw: str) -> Any:
        if "\x00" in raw:
            raise ValueError(NUL_PROBLEM)
        text = raw.strip()
        if self._is_empty(text):
            return None
        if rule.kind == "number":
            if not NUMBER.fullmatch(text):
                raise ValueError(f"{_quote(text)} is not a number")
            # Whole numbers stay whole in JSON (12, not 12.0).
            return int(text) if INTEGER.fullmatch(text) else float(text)
        if rule.kind == "boolean":
            word = text.casefold()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError(f"{_quote(text)} is not yes/no, true/false or 1/0")
        if rule.case == "lower":
            text = text.lower()
        elif rule.case == "upper":
            text = text.upper()
        if rule.max_length is not None and len(text) > rule.max_length:
            raise ValueError(
                f"{len(text)} characters, but {rule.field} holds at most {rule.max_length}"
            )
        if rule.attribute and len(text) > ATTRIBUTE_MAX_LENGTH:
            raise ValueError(
                f"{len(text)} characters, but a text attribute holds at most {ATTRIBUTE_MAX_LENGTH}"
            )
        return text

    def _outcome(self, raw: str) -> bool | None:
        text = raw.strip()
        if self._is_empty(text):
            return None
        outcome = self.mapping.outcome
        assert outcome is not None
        if text.casefold() in outcome.true_values:
            return True
        if text.casefold() in outcome.false_values:
            return False
        raise ValueError(
            f"{_quote(text)} is not an outcome: true is {', '.join(sorted(outcome.true_values))}"
            f"; false is {', '.join(sorted(outcome.false_values))}"
        )


def _quote(text: str, limit: int = 60) -> str:
    """The value as it was, shortened: a bad cell may be megabytes long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
