"""The mapping format: which CSV column goes where, and how its text is read.

A mapping is a JSON object::

    {
      "description": "What the file is; anything a later reader should know.",
      "source": {"column": "Lead Source", "default": "inbound_form"},
      "identifier": {"column": "Prospect ID", "field": "external_id"},
      "placeholders": ["Select"],
      "outcome": {"column": "Status", "true": ["Won"], "false": ["Lost"], "open": ["Open"]},
      "columns": {
        "Country": {"field": "country", "placeholders": ["-", "N/A"]},
        "Created": {"field": "originated_at", "format": "%d/%m/%Y"},
        "TotalVisits": {"attribute": "total_visits", "type": "number"},
        "Do Not Call": {"attribute": "do_not_call", "type": "boolean"}
      }
    }

``source`` is the slug of one lead source for the whole file, or a column
whose values name a source per row (its slug or its name, in any case), with
the source for rows where it is empty. ``identifier`` names the column that
says who the lead is (``email``, or ``external_id`` for files without
emails); re-imports match on it. Without one, each lead is identified by the
file's name and its line. Every other column goes to a lead profile field
(its type comes from the field), to ``originated_at`` (the date the lead was
created or first contacted in the system it came from), or to a custom
attribute in ``Lead.attributes`` (type ``text``, ``number``, ``boolean`` or
``date``). ``case`` (``lower`` or ``upper``) normalises text; ``format`` (as
strftime writes it) reads dates that are not ISO 8601. A cell that is empty,
or equal to one of the ``placeholders`` of the file or of its column
(ignoring case), is empty. ``outcome`` is optional: a column whose values say
whether the lead converted (``true``), did not (``false``), or has no outcome
yet (``open``, such as an open stage).
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
ATTRIBUTE_TYPES = ("text", "number", "boolean", "date")
DATE_FIELDS = ("originated_at",)
CASES = ("lower", "upper")
# The outcome has a section of its own (with its own true/false values), so
# it cannot also be mapped as a plain column.
COLUMN_FIELDS = (
    *(name for name in LEAD_PROFILE_FIELDS if name != "known_outcome"),
    *DATE_FIELDS,
)
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_TOP_KEYS = {"description", "source", "identifier", "placeholders", "outcome", "columns"}
_COLUMN_KEYS = {"field", "attribute", "type", "case", "placeholders", "format"}

Kind = Literal["text", "number", "boolean", "date"]


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
    placeholders: frozenset[str] = frozenset()  # case-folded, on top of the file's
    date_format: str | None = None  # strptime format; None reads ISO 8601

    @property
    def target(self) -> str:
        return self.field or f"attributes.{self.attribute}"


@dataclass(frozen=True)
class OutcomeRule:
    column: str
    true_values: frozenset[str]  # case-folded
    false_values: frozenset[str]
    open_values: frozenset[str] = frozenset()  # no outcome yet: not a bad row


@dataclass(frozen=True)
class Mapping:
    source: str  # the slug for the whole file, or for rows whose source cell is empty
    identifier_column: str | None  # None: leads are identified by file name and line
    identifier_field: Literal["email", "external_id"]
    columns: tuple[ColumnRule, ...]
    placeholders: frozenset[str]  # case-folded
    outcome: OutcomeRule | None = None
    description: str = ""
    source_column: str | None = None

    @property
    def required_columns(self) -> list[str]:
        """Every column the file must have, in mapping order."""
        names = [self.identifier_column] if self.identifier_column else []
        names += [rule.column for rule in self.columns]
        if self.outcome:
            names.append(self.outcome.column)
        if self.source_column:
            names.append(self.source_column)
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
    source, source_column = _parse_source(raw.get("source"), problems)
    identifier_column, identifier_field = _parse_identifier(raw.get("identifier"), problems)
    placeholders = _parse_values(raw.get("placeholders", []), "placeholders", problems)
    outcome = _parse_outcome(raw.get("outcome"), problems)
    columns = _parse_columns(raw.get("columns"), problems)

    used = [identifier_column or "", *(rule.column for rule in columns)]
    if outcome:
        used.append(outcome.column)
    if source_column:
        used.append(source_column)
    problems += [
        f"column {name!r} is mapped more than once" for name in sorted(_repeated(used)) if name
    ]
    if identifier_column is None and not columns and not problems:
        problems.append(
            "columns: a file without an identifier column needs at least one mapped column"
        )
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
        source_column=source_column,
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


def _parse_source(raw: Any, problems: list[str]) -> tuple[str, str | None]:
    if isinstance(raw, str) and raw.strip():
        return raw.strip(), None
    if isinstance(raw, dict):
        problems += [
            f"source: unknown key {key!r}" for key in sorted(set(raw) - {"column", "default"})
        ]
        column = _column_name(raw.get("column"), "source.column", problems)
        default = raw.get("default")
        if not isinstance(default, str) or not default.strip():
            problems.append(
                "source.default: give the slug of the lead source for rows whose "
                f"{column or 'source'} cell is empty, such as 'inbound_form'"
            )
            default = ""
        return default.strip(), column
    problems.append(
        "source: give the slug of a lead source, such as 'inbound_form', or "
        '{"column": "Lead Source", "default": "inbound_form"} for a source per row'
    )
    return "", None


def _parse_identifier(raw: Any, problems: list[str]) -> tuple[str | None, str]:
    if raw is None:
        return None, "external_id"
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
        f"outcome: unknown key {key!r}"
        for key in sorted(set(raw) - {"column", "true", "false", "open"})
    ]
    column = _column_name(raw.get("column"), "outcome.column", problems)
    true_values = _parse_values(raw.get("true"), "outcome.true", problems, required=True)
    false_values = _parse_values(raw.get("false"), "outcome.false", problems, required=True)
    open_values = _parse_values(raw.get("open", []), "outcome.open", problems)
    for one, other, names in (
        (true_values, false_values, "true and false"),
        (true_values, open_values, "true and open"),
        (false_values, open_values, "false and open"),
    ):
        if one & other:
            problems.append(f"outcome: {', '.join(sorted(one & other))} is both {names}")
    return OutcomeRule(
        column=column, true_values=true_values, false_values=false_values, open_values=open_values
    )


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
    placeholders = _parse_values(spec.get("placeholders", []), f"{where}.placeholders", problems)
    date_format = spec.get("format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        problems.append(f"{where}.format: {date_format!r} is not a date format such as '%d/%m/%Y'")
        date_format = None
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
        kind: Kind = {"BooleanField": "boolean", "DateTimeField": "date"}.get(
            model_field.get_internal_type(), "text"
        )  # type: ignore[assignment]
        if spec.get("type", kind) != kind:
            problems.append(f"{where}.type: the field {field} holds {kind}, not {spec['type']!r}")
        if case and kind != "text":
            problems.append(f"{where}.case: only text can change case")
        if date_format and kind != "date":
            problems.append(f"{where}.format: only dates have a format")
        return ColumnRule(
            column=column,
            kind=kind,
            field=field,
            case=case,
            max_length=getattr(model_field, "max_length", None),
            placeholders=placeholders,
            date_format=date_format,
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
    if date_format and kind != "date":
        problems.append(f"{where}.format: only dates have a format")
    return ColumnRule(
        column=column,
        kind=kind,
        attribute=attribute,
        case=case,
        placeholders=placeholders,
        date_format=date_format,
    )


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
