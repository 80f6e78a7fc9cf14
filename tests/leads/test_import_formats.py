"""Files as real systems export them import without being converted first:
other delimiters and encodings, a source per row, a three-valued outcome, a
date column, placeholders per column, and no identifier column at all."""

from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from leads import importing
from leads.importing import parse_mapping
from leads.importing.csvfile import CsvReader, detect_format
from leads.models import Lead
from tests.leads.test_import import refusal, run, write

ROWS = [
    ["Email", "First Name", "Company", "Country", "Visits", "Industry", "Newsletter", "Converted"],
    ["zoe@acme.io", "Zoë", "Müller GmbH", "Deutschland", "3", "Software", "yes", "no"],
    ["jose@acme.io", "José", "Café, Ltd", "España", "", "", "", ""],
]


def lines(delimiter: str) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in ROWS[:1]) + "".join(
        delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row) + "\r\n"
        for row in ROWS[1:]
    )


def imported() -> list[tuple]:
    return list(Lead.objects.order_by("email").values_list("email", "first_name", "company_name"))


EXPECTED = [("jose@acme.io", "José", "Café, Ltd"), ("zoe@acme.io", "Zoë", "Müller GmbH")]


@pytest.mark.parametrize(
    ("name", "data", "described"),
    [
        ("semicolon", lines(";").encode(), "UTF-8, semicolon-separated"),
        ("tab", lines("\t").encode(), "UTF-8, tab-separated"),
        ("byte-order mark", b"\xef\xbb\xbf" + lines(",").encode(), "UTF-8, comma-separated"),
        ("Windows-1252", lines(";").encode("cp1252"), "Windows-1252, semicolon-separated"),
    ],
)
def test_files_import_without_being_converted(db, tmp_path, name, data, described):
    path = write(tmp_path, data)

    with path.open("rb") as file:
        assert str(detect_format(file)) == described
    result = run(path)

    assert (result.created, result.skipped) == (2, 0)
    assert imported() == EXPECTED
    assert Lead.objects.get(email="zoe@acme.io").attributes == {
        "visits": 3,
        "industry": "software",
        "newsletter": True,
    }


def test_the_header_of_a_byte_order_marked_file_is_read_without_the_mark(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfEmail;Name\r\na@b.io;A\r\n")

    with path.open("rb") as file, CsvReader(file) as reader:
        assert reader.header == {"Email": 0, "Name": 1}


# --- A source per row ------------------------------------------------------------

SOURCE_MAPPING = {
    "source": {"column": "Lead Source", "default": "inbound_form"},
    "identifier": {"column": "Email", "field": "email"},
    "columns": {},
}


def test_each_row_takes_the_source_its_column_names_by_slug_or_name(db, tmp_path):
    path = write(
        tmp_path,
        "Email;Lead Source\r\na@acme.io;Webinar\r\nb@acme.io;event_list_import\r\nc@acme.io;\r\n",
    )

    run(path, SOURCE_MAPPING)

    assert list(Lead.objects.order_by("email").values_list("email", "source__slug")) == [
        ("a@acme.io", "webinar"),
        ("b@acme.io", "event_list_import"),
        ("c@acme.io", "inbound_form"),
    ]


def test_an_unknown_source_is_a_bad_row_naming_the_known_ones(db, tmp_path):
    path = write(tmp_path, "Email;Lead Source\r\na@acme.io;Carrier pigeon\r\n")

    refused = refusal(path, SOURCE_MAPPING)

    assert len(refused.errors) == 1
    assert str(refused.errors[0]).startswith(
        "line 2, column Lead Source: 'Carrier pigeon' is not a lead source: use one of "
    )
    assert "inbound_form" in str(refused.errors[0])


# --- Outcome, dates, placeholders --------------------------------------------------

HISTORY_MAPPING = {
    "source": "inbound_form",
    "identifier": {"column": "Email", "field": "email"},
    "outcome": {
        "column": "Stage",
        "true": ["Closed Won"],
        "false": ["Closed Lost"],
        "open": ["Open", "Working"],
    },
    "columns": {
        "Created": {"field": "originated_at", "format": "%d/%m/%Y"},
        "Country": {"field": "country", "placeholders": ["-", "N/A"]},
        "First touch": {"attribute": "first_touch", "type": "date"},
    },
}


def test_a_three_valued_outcome_a_date_and_column_placeholders(db, tmp_path):
    path = write(
        tmp_path,
        "Email;Stage;Created;Country;First touch\r\n"
        "a@acme.io;Closed Won;31/01/2025;France;2025-01-02\r\n"
        "b@acme.io;closed lost;01/02/2025;N/A;\r\n"
        "c@acme.io;Working;;-;\r\n",
    )

    run(path, HISTORY_MAPPING)

    leads = Lead.objects.order_by("email")
    assert [(lead.known_outcome, lead.country) for lead in leads] == [
        (True, "France"),
        (False, ""),
        (None, ""),
    ]
    assert [lead.originated_at for lead in leads] == [
        timezone.make_aware(datetime(2025, 1, 31)),
        timezone.make_aware(datetime(2025, 2, 1)),
        None,
    ]
    assert leads[0].attributes == {"first_touch": "2025-01-02"}


def test_bad_dates_and_outcomes_are_listed_by_line_and_column(db, tmp_path):
    path = write(
        tmp_path,
        "Email;Stage;Created;Country;First touch\r\n"
        "a@acme.io;Maybe;2025-01-31;;\r\n"
        "b@acme.io;Open;;;yesterday\r\n",
    )

    refused = refusal(path, HISTORY_MAPPING)

    assert [str(error) for error in refused.errors] == [
        "line 2, column Created: '2025-01-31' is not a date written as %d/%m/%Y",
        "line 2, column Stage: 'Maybe' is not an outcome: true is closed won; false is "
        "closed lost; no outcome yet is open, working",
        "line 3, column First touch: 'yesterday' is not a date written as YYYY-MM-DD (ISO 8601)",
    ]
    assert Lead.objects.count() == 0


def test_an_outcome_value_cannot_be_two_things(db):
    with pytest.raises(importing.MappingError) as caught:
        parse_mapping(
            {
                **HISTORY_MAPPING,
                "outcome": {"column": "S", "true": ["a"], "false": ["b"], "open": ["A"]},
            }
        )

    assert caught.value.problems == ["outcome: a is both true and open"]


# --- No identifier column ------------------------------------------------------------


def test_a_file_without_an_identifier_column_identifies_leads_by_file_and_line(db, tmp_path):
    mapping = {"source": "inbound_form", "columns": {"Name": {"field": "first_name"}}}
    path: Path = write(tmp_path, "Name\r\nAda\r\nBob\r\n", name="fair-2025.csv")

    first = run(path, mapping)
    again = run(path, mapping)

    assert (first.created, again.created, again.updated) == (2, 0, 2)
    assert list(Lead.objects.order_by("external_id").values_list("external_id", "first_name")) == [
        ("fair-2025.csv line 2", "Ada"),
        ("fair-2025.csv line 3", "Bob"),
    ]
