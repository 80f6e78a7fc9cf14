"""Turning one CSV row into the values of one lead, under a mapping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

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
    source_id: int | None = None  # from the row's source column; None: the mapping's


class RowConverter:
    """Reads rows of a file whose header is ``header`` (column name -> index).

    ``sources`` lists the lead sources as (id, slug, name), for a source
    column, whose cells may give either, in any case; ``file_name`` identifies
    the leads of a file without an identifier column, with their line.
    """

    def __init__(
        self,
        mapping: Mapping,
        header: dict[str, int],
        *,
        sources: Sequence[tuple[int, str, str]] = (),
        file_name: str = "",
    ):
        self.mapping = mapping
        self._sources = {text.casefold(): pk for pk, slug, name in sources for text in (slug, name)}
        self._source_slugs = sorted(slug for _, slug, _ in sources)
        self._file_name = file_name
        self._key_index = header[mapping.identifier_column] if mapping.identifier_column else None
        self._source_index = header[mapping.source_column] if mapping.source_column else None
        # In the file's column order, so a row's problems read left to right
        # (a mapping stored as jsonb has lost its own key order).
        self._rules = sorted(
            ((rule, header[rule.column]) for rule in mapping.columns), key=lambda pair: pair[1]
        )
        self._outcome_index = header[mapping.outcome.column] if mapping.outcome else None

    def convert(self, line: int, cells: list[str]) -> tuple[LeadValues | None, list[RowError]]:
        """The row's values, or None and every problem found in it."""
        errors: list[RowError] = []
        if self._key_index is None:
            key: str | None = f"{self._file_name} line {line}"[-EXTERNAL_ID_MAX_LENGTH:]
        else:
            key = self._identifier(line, cells[self._key_index], errors)
        source_id = None
        if self._source_index is not None:
            try:
                source_id = self._source(cells[self._source_index])
            except ValueError as problem:
                errors.append(RowError(line, self.mapping.source_column or "", str(problem)))
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
        return (
            LeadValues(
                line=line, key=key, profile=profile, attributes=attributes, source_id=source_id
            ),
            [],
        )

    def _is_empty(self, text: str, rule: ColumnRule | None = None) -> bool:
        folded = text.casefold()
        return (
            not text
            or folded in self.mapping.placeholders
            or (rule is not None and folded in rule.placeholders)
        )

    def _source(self, raw: str) -> int | None:
        text = raw.strip()
        if self._is_empty(text):
            return None
        source_id = self._sources.get(text.casefold())
        if source_id is None:
            known = ", ".join(self._source_slugs)
            raise ValueError(f"{_quote(text)} is not a lead source: use one of {known}")
        return source_id

    def _identifier(self, line: int, raw: str, errors: list[RowError]) -> str | None:
        field = self.mapping.identifier_field
        column = self.mapping.identifier_column or ""
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
        if self._is_empty(text, rule):
            return None
        if rule.kind == "date":
            moment = _date(text, rule.date_format)
            if rule.field:
                return moment
            return (
                moment.date().isoformat()
                if moment.time() == datetime.min.time()
                else (moment.isoformat())
            )
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
        if text.casefold() in outcome.open_values:
            return None
        no_outcome = (
            f"; no outcome yet is {', '.join(sorted(outcome.open_values))}"
            if outcome.open_values
            else ""
        )
        raise ValueError(
            f"{_quote(text)} is not an outcome: true is {', '.join(sorted(outcome.true_values))}"
            f"; false is {', '.join(sorted(outcome.false_values))}{no_outcome}"
        )


def _date(text: str, date_format: str | None) -> datetime:
    """A cell as an aware datetime (midnight for a bare date, in the site's time zone)."""
    try:
        if date_format:
            moment = datetime.strptime(text, date_format)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        expected = f"as {date_format}" if date_format else "as YYYY-MM-DD (ISO 8601)"
        raise ValueError(f"{_quote(text)} is not a date written {expected}") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _quote(text: str, limit: int = 60) -> str:
    """The value as it was, shortened: a bad cell may be megabytes long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
