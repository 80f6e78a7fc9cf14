"""The mapping format: which CSV column goes where, and how its text is read.

A mapping is a JSON object::

    {
      "description": "What the file is; anything a later reader should know.",
      "source": "inbound_form",
      "identifier": {"column": "Prospect ID", "field": "external_id"},
      "placeholders": ["Select"],
      "outcome": {"column": "Converted", "true": ["1"], "false": ["0"]},
      "columns": {
        "Country": {"field": "country"},
        "Lead Source": {"field": "source_detail", "case": "lower"},
        "TotalVisits": {"attribute": "total_visits", "type": "number"},
        "Do Not Call": {"attribute": "do_not_call", "type": "boolean"}
      }
    }

``identifier`` names the column that says who the lead is (``email``, or
``external_id`` for files without emails); re-imports match on it. Every other
column goes to a lead profile field (its type comes from the field) or to a
custom attribute in ``Lead.attributes`` (type ``text``, ``number`` or
``boolean``). ``case`` (``lower`` or ``upper``) normalises text. A cell that is
empty, or equal to one of the ``placeholders`` (ignoring case), is empty.
``outcome`` is optional: a column whose values say whether the lead converted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from handoff.errors import DomainError
from leads.models import Lead
from leads.services import LEAD_PROFILE_FIELDS

SHIPPED_MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"

IDENTIFIER_FIELDS = ("email", "external_id")
ATTRIBUTE_TYPES = ("text", "number", "boolean")
CASES = ("lower", "upper")
# The outcome has a section of its own (with its own true/false values), so
# it cannot also be mapped as a plain column.
COLUMN_FIELDS = tuple(name for name in LEAD_PROFILE_FIELDS if name != "known_outcome")
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_TOP_KEYS = {"description", "source", "identifier", "placeholders", "outcome", "columns"}
_COLUMN_KEYS = {"field", "attribute", "type", "case"}

Kind = Literal["text", "number", "boolean"]


class MappingError(DomainError):
    """A mapping that cannot be used; ``problems`` lists each thing that is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("The mapping is not valid: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ColumnRule:
    """Where one column goes: exactly one of ``field`` or ``attribute`` is set."""

    column: str
    kind: Kind
    field: str | None = None
    attribute: str | None = None
    case: str | None = None
    max_length: int | None = None

    @property
    def target(self) -> str:
        return self.field or f"attributes.{self.attribute}"


@dataclass(frozen=True)
class OutcomeRule:
    column: str
    true_values: frozenset[str]  # case-folded
    false_values: frozenset[str]


@dataclass(frozen=True)
class Mapping:
    source: str
    identifier_column: str
    identifier_field: Literal["email", "external_id"]
    columns: tuple[ColumnRule, ...]
    placeholders: frozenset[str]  # case-folded
    outcome: OutcomeRule | None = None
    description: str = ""

    @property
    def required_columns(self) -> list[str]:
        """Every column the file must have, in mapping order."""
        names = [self.identifier_column, *(rule.column for rule in self.columns)]
        if self.outcome:
            names.append(self.outcome.column)
        return names


def parse_mapping(raw: Any) -> Mapping:
    """Validate a decoded JSON mapping and return it typed.

    Raises MappingError listing every problem found (not just the first), each
    naming the key it is about, so one round of fixes is enough.
    """
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise MappingError(["the mapping must be a JSON object"])
    problems += [f"unknown key {key!r}" for key in sorted(set(raw) - _TOP_KEYS)]

    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append("description must be text")
        description = ""
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append("source: give the slug of a lead source, such as 'inbound_form'")
        source = ""

    identifier_column, identifier_field = _parse_identifier(raw.get("identifier"), problems)
    placeholders = _parse_values(raw.get("placeholders", []), "placeholders", problems)
    outcome = _parse_outcome(raw.get("outcome"), problems)
    columns = _parse_columns(raw.get("columns"), problems)

    used = [identifier_column, *(rule.column for rule in columns)]
    if outcome:
        used.append(outcome.column)
    problems += [
        f"column {name!r} is mapped more than once" for name in sorted(_repeated(used)) if name
    ]
    targets = [rule.target for rule in columns]
    problems += [
        f"{target} is the target of more than one column" for target in sorted(_repeated(targets))
    ]
    if problems:
        raise MappingError(problems)
    return Mapping(
        source=source.strip(),
        identifier_column=identifier_column,
        identifier_field=identifier_field,  # type: ignore[arg-type]
        columns=tuple(columns),
        placeholders=placeholders,
        outcome=outcome,
        description=description,
    )


def load_mapping(text: str | bytes) -> Mapping:
    """Parse a mapping from its JSON text."""
    try:
        raw = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MappingError([f"not valid JSON ({error})"]) from None
    return parse_mapping(raw)


def shipped_mappings() -> dict[str, dict[str, Any]]:
    """The mappings that ship with Handoff, by name (file name without .json)."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SHIPPED_MAPPINGS_DIR.glob("*.json"))
    }


def _parse_identifier(raw: Any, problems: list[str]) -> tuple[str, str]:
    if not isinstance(raw, dict):
        problems.append(
            "identifier: give the column that identifies the lead, as "
            '{"column": "Email", "field": "email"} or {"column": "ID", "field": "external_id"}'
        )
        return "", ""
    problems += [
        f"identifier: unknown key {key!r}" for key in sorted(set(raw) - {"column", "field"})
    ]
    column = _column_name(raw.get("column"), "identifier.column", problems)
    field = raw.get("field")
    if field not in IDENTIFIER_FIELDS:
        problems.append(f"identifier.field: {field!r} is not one of email, external_id")
    return column, field if isinstance(field, str) else ""


def _parse_outcome(raw: Any, problems: list[str]) -> OutcomeRule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append('outcome: give {"column": ..., "true": [...], "false": [...]}')
        return None
    problems += [
        f"outcome: unknown key {key!r}" for key in sorted(set(raw) - {"column", "true", "false"})
    ]
    column = _column_name(raw.get("column"), "outcome.column", problems)
    true_values = _parse_values(raw.get("true"), "outcome.true", problems, required=True)
    false_values = _parse_values(raw.get("false"), "outcome.false", problems, required=True)
    if true_values & false_values:
        problems.append(
            f"outcome: {', '.join(sorted(true_values & false_values))} is both true and false"
        )
    return OutcomeRule(column=column, true_values=true_values, false_values=false_values)


def _parse_columns(raw: Any, problems: list[str]) -> list[ColumnRule]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append('columns: give an object such as {"Country": {"field": "country"}}')
        return []
    rules = []
    for column, spec in raw.items():
        where = f"columns.{column}"
        if not column.strip():
            problems.append("columns: a column name is empty")
            continue
        if not isinstance(spec, dict):
            problems.append(f'{where}: give {{"field": ...}} or {{"attribute": ..., "type": ...}}')
            continue
        problems += [f"{where}: unknown key {key!r}" for key in sorted(set(spec) - _COLUMN_KEYS)]
        rule = _parse_column(column.strip(), spec, where, problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _parse_column(column: str, spec: dict, where: str, problems: list[str]) -> ColumnRule | None:
    field, attribute = spec.get("field"), spec.get("attribute")
    case = spec.get("case")
    if case is not None and case not in CASES:
        problems.append(f"{where}.case: {case!r} is not one of {', '.join(CASES)}")
        case = None
    if (field is None) == (attribute is None):
        problems.append(f"{where}: give either a field or an attribute (exactly one)")
        return None
    if field is not None:
        if field in IDENTIFIER_FIELDS:
            problems.append(
                f"{where}: {field} can only be the identifier; map this column to an attribute"
            )
            return None
        if field == "known_outcome":
            problems.append(f"{where}: known_outcome is set by the 'outcome' section")
            return None
        if field not in COLUMN_FIELDS:
            problems.append(
                f"{where}.field: {field!r} is not a lead field; use one of "
                f"{', '.join(COLUMN_FIELDS)}, or an attribute"
            )
            return None
        model_field = Lead._meta.get_field(field)
        kind: Kind = "boolean" if model_field.get_internal_type() == "BooleanField" else "text"
        if spec.get("type", kind) != kind:
            problems.append(f"{where}.type: the field {field} holds {kind}, not {spec['type']!r}")
        if case and kind != "text":
            problems.append(f"{where}.case: only text can change case")
        return ColumnRule(
            column=column,
            kind=kind,
            field=field,
            case=case,
            max_length=getattr(model_field, "max_length", None),
        )
    if not isinstance(attribute, str) or not ATTRIBUTE_NAME.match(attribute):
        problems.append(
            f"{where}.attribute: {attribute!r} is not a snake_case name "
            "(lower-case letters, digits and underscores, starting with a letter)"
        )
        return None
    kind = spec.get("type", "text")
    if kind not in ATTRIBUTE_TYPES:
        problems.append(f"{where}.type: {kind!r} is not one of {', '.join(ATTRIBUTE_TYPES)}")
        return None
    if case and kind != "text":
        problems.append(f"{where}.case: only text can change case")
    return ColumnRule(column=column, kind=kind, attribute=attribute, case=case)


def _column_name(raw: Any, where: str, problems: list[str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where}: give the column's name as it is in the header")
        return ""
    return raw.strip()


def _parse_values(
    raw: Any, where: str, problems: list[str], *, required: bool = False
) -> frozenset[str]:
    if raw is None and not required:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(v, str | int) for v in raw):
        problems.append(f"{where}: give a list of values")
        return frozenset()
    values = frozenset(str(v).strip().casefold() for v in raw)
    if required and not values:
        problems.append(f"{where}: give at least one value")
    if "" in values:
        problems.append(f"{where}: an empty value always means 'empty'; leave it out")
    return values - {""}


def _repeated(items: list[str]) -> set[str]:
    return {item for item, count in Counter(items).items() if count > 1}
