"""The import wizard's forms: a drop-down per column instead of a mapping JSON.

The wizard reads the file's first rows, suggests where each column goes from
its header name ("E-mail" -> email, "Company" -> company, "Lead Source" ->
source), and turns the choices back into the mapping format of
leads.importing.mapping, which the import, the saved mappings and
``import_leads --mapping`` share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from django import forms

from leads.importing.csvfile import CsvReader, detect_format
from leads.importing.mapping import ATTRIBUTE_NAME, COLUMN_FIELDS
from leads.models import ImportMapping, Lead, LeadSource

SAMPLE_ROWS = 5  # shown to ops
SCAN_ROWS = 500  # read for the values a column holds
MAX_VALUES = 12  # distinct values shown per column

ATTRIBUTE_TYPES = {"text": "text", "number": "number", "boolean": "yes/no", "date": "date"}
DATE_FORMATS = {
    "": "2025-01-31 (ISO)",
    "%d/%m/%Y": "31/01/2025",
    "%m/%d/%Y": "01/31/2025",
    "%d.%m.%Y": "31.01.2025",
    "%d-%m-%Y": "31-01-2025",
    "%d/%m/%Y %H:%M": "31/01/2025 14:30",
    "%m/%d/%Y %H:%M": "01/31/2025 14:30",
}


def _field_label(name: str) -> str:
    return str(Lead._meta.get_field(name).verbose_name).capitalize()


TARGETS: list[tuple[str, list[tuple[str, str]]]] = [
    ("", [("ignore", "Ignore this column")]),
    (
        "Who the lead is",
        [
            ("identifier:email", "Email (identifies the lead)"),
            ("identifier:external_id", "ID in the other system (identifies the lead)"),
        ],
    ),
    (
        "Lead field",
        [
            (f"field:{name}", _field_label(name))
            for name in COLUMN_FIELDS
            if name != "originated_at"
        ],
    ),
    (
        "Dates",
        [("field:originated_at", "Created / first contact date")],
    ),
    (
        "History",
        [("source", "Lead source (one per row)"), ("outcome", "Outcome (converted or not)")],
    ),
    (
        "Custom attribute",
        [
            (f"attribute:{kind}", f"Custom attribute: {label}")
            for kind, label in ATTRIBUTE_TYPES.items()
        ],
    ),
]

# Header names (lower case, letters and digits only) -> target.
SUGGESTIONS = {
    **dict.fromkeys(["email", "emailaddress", "mail", "emailid"], "identifier:email"),
    **dict.fromkeys(
        ["id", "leadid", "prospectid", "externalid", "crmid", "contactid", "recordid"],
        "identifier:external_id",
    ),
    **dict.fromkeys(["firstname", "first", "givenname", "forename"], "field:first_name"),
    **dict.fromkeys(["lastname", "last", "surname", "familyname"], "field:last_name"),
    **dict.fromkeys(["title", "jobtitle", "position", "role"], "field:title"),
    **dict.fromkeys(["seniority", "level"], "field:seniority"),
    **dict.fromkeys(["department", "dept", "function"], "field:department"),
    **dict.fromkeys(["phone", "telephone", "phonenumber", "mobile", "tel"], "field:phone"),
    **dict.fromkeys(["country", "countryregion", "nation"], "field:country"),
    **dict.fromkeys(
        ["company", "companyname", "organization", "organisation", "account", "accountname"],
        "field:company_name",
    ),
    **dict.fromkeys(["leadsource", "source", "channel", "origin"], "source"),
    **dict.fromkeys(["sourcedetail", "campaign", "leadsourcedetail"], "field:source_detail"),
    **dict.fromkeys(["donotcontact", "optout", "unsubscribed"], "field:do_not_contact"),
    **dict.fromkeys(
        ["outcome", "converted", "status", "stage", "leadstatus", "result", "won"], "outcome"
    ),
    **dict.fromkeys(
        [
            "created",
            "createdat",
            "createddate",
            "createdon",
            "datecreated",
            "firstcontact",
            "firstcontactdate",
            "firstcontacted",
            "leadcreated",
        ],
        "field:originated_at",
    ),
}


@dataclass
class FileSample:
    """What the wizard shows of a file: its format, header, first rows and values."""

    format: str
    header: list[str]
    rows: list[list[str]]
    values: dict[str, list[str]]  # column -> distinct values seen, at most MAX_VALUES
    rows_scanned: int


def sample_file(file: BinaryIO) -> FileSample:
    csv_format = detect_format(file)
    with CsvReader(file, csv_format) as reader:
        header = [name for name, _ in sorted(reader.header.items(), key=lambda item: item[1])]
        rows: list[list[str]] = []
        values: dict[str, dict[str, None]] = {name: {} for name in header}
        scanned = 0
        for row in reader:
            if row.error:
                continue
            scanned += 1
            if len(rows) < SAMPLE_ROWS:
                rows.append([row.cells[reader.header[name]] for name in header])
            for name in header:
                seen = values[name]
                cell = row.cells[reader.header[name]].strip()
                if cell and len(seen) < MAX_VALUES:
                    seen[cell] = None
            if scanned >= SCAN_ROWS:
                break
    return FileSample(
        format=str(csv_format),
        header=header,
        rows=rows,
        values={name: list(seen) for name, seen in values.items()},
        rows_scanned=scanned,
    )


def suggest(column: str, values: list[str]) -> dict[str, str]:
    """Where a column probably goes, from its header name and the values it holds."""
    key = re.sub(r"[^a-z0-9]", "", column.casefold())
    target = SUGGESTIONS.get(key)
    if target is None and key.endswith("email"):
        target = "identifier:email"
    if target:
        return {"target": target, "attribute": ""}
    return {"target": f"attribute:{_guess_type(values)}", "attribute": attribute_name(column)}


def attribute_name(column: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", column.casefold()).strip("_")
    if not name or not name[0].isalpha():
        name = f"column_{name}".rstrip("_")
    return name[:64]


def guess_date_format(values: list[str]) -> str:
    """The first of DATE_FORMATS that reads every value, else ISO.

    Values without a digit ("-", "N/A") are placeholders, not dates."""
    values = [value for value in values if any(char.isdigit() for char in value)]
    for date_format in DATE_FORMATS:
        try:
            for value in values:
                if date_format:
                    datetime.strptime(value, date_format)
                else:
                    datetime.fromisoformat(value)
        except ValueError:
            continue
        return date_format
    return ""


def _guess_type(values: list[str]) -> str:
    if not values:
        return "text"
    folded = {value.casefold() for value in values}
    if folded <= {"yes", "no", "true", "false", "1", "0"} and not folded <= {"1", "0"}:
        return "boolean"
    if all(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", value) for value in values):
        return "number"
    return "text"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class ColumnForm(forms.Form):
    column = forms.CharField(widget=forms.HiddenInput)
    target = forms.ChoiceField(choices=TARGETS, label="Goes to")
    attribute = forms.CharField(
        required=False,
        max_length=64,
        label="Attribute name",
        widget=forms.TextInput(attrs={"size": 18, "placeholder": "attribute_name"}),
    )
    placeholders = forms.CharField(
        required=False,
        label="Also empty",
        widget=forms.TextInput(attrs={"size": 12, "placeholder": "-, N/A"}),
        help_text="Values that mean 'empty' in this column, separated by commas.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = data.get("target", "")
        if target.startswith("attribute:"):
            name = data.get("attribute", "").strip()
            if not ATTRIBUTE_NAME.match(name):
                self.add_error(
                    "attribute",
                    "Give the attribute a name of lower-case letters, digits and "
                    "underscores, starting with a letter (such as total_visits).",
                )
        return data


class BaseColumnFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        targets = [form.cleaned_data["target"] for form in self.forms]
        identifiers = [target for target in targets if target.startswith("identifier:")]
        if len(identifiers) > 1:
            raise forms.ValidationError("Only one column can identify the lead.")
        for single, label in (("source", "the lead source"), ("outcome", "the outcome")):
            if targets.count(single) > 1:
                raise forms.ValidationError(f"Only one column can be {label}.")
        fields = [target for target in targets if target.startswith("field:")]
        repeated = sorted({target for target in fields if fields.count(target) > 1})
        if repeated:
            names = ", ".join(_field_label(target.partition(":")[2]) for target in repeated)
            raise forms.ValidationError(f"Only one column can go to each field: {names}.")


ColumnFormSet = forms.formset_factory(ColumnForm, formset=BaseColumnFormSet, extra=0)


class OptionsForm(forms.Form):
    source = forms.ChoiceField(
        label="Default lead source",
        help_text="The source of every lead, or of the rows whose source column is empty.",
    )
    outcome_true = forms.CharField(
        required=False,
        label="Converted",
        help_text="Values of the outcome column that mean the lead converted, separated by commas.",
    )
    outcome_false = forms.CharField(
        required=False, label="Did not convert", help_text="…that mean it did not."
    )
    outcome_open = forms.CharField(
        required=False,
        label="No outcome yet",
        help_text="…that mean it is still open (these are not bad rows).",
    )
    date_format = forms.ChoiceField(
        choices=list(DATE_FORMATS.items()), required=False, label="Dates are written as"
    )
    placeholders = forms.CharField(
        required=False,
        label="Empty in every column",
        help_text="Values that mean 'empty' anywhere in the file, separated by commas.",
    )
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows",
        required=False,
        help_text="Import the good rows and list the bad ones. Unticked, a file with any "
        "bad row imports nothing.",
    )
    save_as = forms.CharField(
        required=False,
        max_length=100,
        label="Save this mapping as",
        help_text="A name to reuse it for the next file of this kind (optional).",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = list(
            LeadSource.objects.order_by("name").values_list("slug", "name")
        )


def build_mapping(
    *, columns: list[dict[str, Any]], options: dict[str, Any], description: str
) -> dict[str, Any]:
    """The mapping JSON the wizard's answers stand for."""
    mapping: dict[str, Any] = {"description": description, "columns": {}}
    source: Any = options["source"]
    date_format = options.get("date_format") or None
    for answer in columns:
        column, target = answer["column"], answer["target"]
        placeholders = _split(answer.get("placeholders", ""))
        kind, _, name = target.partition(":")
        if kind == "ignore":
            continue
        if kind == "identifier":
            mapping["identifier"] = {"column": column, "field": name}
        elif kind == "source":
            source = {"column": column, "default": options["source"]}
        elif kind == "outcome":
            mapping["outcome"] = {
                "column": column,
                "true": _split(options.get("outcome_true", "")),
                "false": _split(options.get("outcome_false", "")),
                "open": _split(options.get("outcome_open", "")),
            }
        else:
            spec: dict[str, Any] = (
                {"field": name}
                if kind == "field"
                else {"attribute": answer["attribute"].strip(), "type": name}
            )
            if placeholders:
                spec["placeholders"] = placeholders
            if date_format and (
                name == "originated_at" or (kind == "attribute" and name == "date")
            ):
                spec["format"] = date_format
            mapping["columns"][column] = spec
    mapping["source"] = source
    global_placeholders = _split(options.get("placeholders", ""))
    if global_placeholders:
        mapping["placeholders"] = global_placeholders
    return mapping


def initial_answers(
    sample: FileSample, mapping: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The wizard's first answers: those of a saved mapping, else suggestions."""
    if mapping is None:
        columns = [{"column": name, **suggest(name, sample.values[name])} for name in sample.header]
        dates = [
            value
            for answer in columns
            if answer["target"] in ("field:originated_at", "attribute:date")
            for value in sample.values[answer["column"]]
        ]
        outcome = next((a["column"] for a in columns if a["target"] == "outcome"), None)
        options: dict[str, Any] = {
            "source": "inbound_form",
            "date_format": guess_date_format(dates),
            "placeholders": "Select, N/A, -",
        }
        if outcome:
            options.update(_guess_outcome(sample.values[outcome]))
        return columns, options
    specs = mapping.get("columns", {})
    source = mapping.get("source")
    identifier = mapping.get("identifier") or {}
    outcome_spec = mapping.get("outcome") or {}
    columns = []
    date_format = ""
    for name in sample.header:
        answer = {"column": name, "target": "ignore", "attribute": "", "placeholders": ""}
        spec = specs.get(name)
        if identifier.get("column") == name:
            answer["target"] = f"identifier:{identifier.get('field')}"
        elif isinstance(source, dict) and source.get("column") == name:
            answer["target"] = "source"
        elif outcome_spec.get("column") == name:
            answer["target"] = "outcome"
        elif spec and spec.get("field"):
            answer["target"] = f"field:{spec['field']}"
        elif spec and spec.get("attribute"):
            answer["target"] = f"attribute:{spec.get('type', 'text')}"
            answer["attribute"] = spec["attribute"]
        if spec:
            answer["placeholders"] = ", ".join(spec.get("placeholders", []))
            date_format = spec.get("format", date_format)
        columns.append(answer)
    options = {
        "source": source.get("default") if isinstance(source, dict) else source,
        "outcome_true": ", ".join(outcome_spec.get("true", [])),
        "outcome_false": ", ".join(outcome_spec.get("false", [])),
        "outcome_open": ", ".join(outcome_spec.get("open", [])),
        "date_format": date_format,
        "placeholders": ", ".join(mapping.get("placeholders", [])),
    }
    return columns, options


def _guess_outcome(values: list[str]) -> dict[str, str]:
    positive = {"1", "yes", "true", "won", "closed won", "converted", "customer"}
    negative = {"0", "no", "false", "lost", "closed lost", "not converted", "disqualified"}
    found: dict[str, list[str]] = {"outcome_true": [], "outcome_false": [], "outcome_open": []}
    for value in values:
        folded = value.casefold()
        key = (
            "outcome_true"
            if folded in positive
            else "outcome_false"
            if folded in negative
            else "outcome_open"
        )
        found[key].append(value)
    return {key: ", ".join(items) for key, items in found.items()}


def saved_mapping_choices() -> list[tuple[str, str]]:
    return [("", "— none: map the columns —")] + [
        (str(pk), name) for pk, name in ImportMapping.objects.values_list("pk", "name")
    ]
