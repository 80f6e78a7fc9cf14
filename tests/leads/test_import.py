import csv
import io
import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leads import importing
from leads.importing import ImportRefused, MappingError, RowError, parse_mapping
from leads.importing.mapping import SHIPPED_MAPPINGS_DIR
from leads.models import Account, Lead
from tests import factories

SMALL_MAPPING = {
    "description": "A trade-show list",
    "source": "event_list_import",
    "identifier": {"column": "Email", "field": "email"},
    "placeholders": ["Select"],
    "outcome": {"column": "Converted", "true": ["yes"], "false": ["no"]},
    "columns": {
        "First Name": {"field": "first_name"},
        "Company": {"field": "company_name"},
        "Country": {"field": "country"},
        "Visits": {"attribute": "visits", "type": "number"},
        "Industry": {"attribute": "industry", "case": "lower"},
        "Newsletter": {"attribute": "newsletter", "type": "boolean"},
    },
}
HEADER = "Email,First Name,Company,Country,Visits,Industry,Newsletter,Converted\r\n"


def write(tmp_path: Path, text: str | bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def run(path: Path, mapping: dict = SMALL_MAPPING, **options) -> importing.ImportResult:
    with path.open("rb") as file:
        return importing.import_leads(file=file, mapping=parse_mapping(mapping), **options)


def refusal(path: Path, mapping: dict = SMALL_MAPPING) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        run(path, mapping)
    return caught.value


@pytest.fixture
def x_education_csv() -> Path:
    root = os.environ.get("HANDOFF_SHARED_DATA")
    path = Path(root, "x-education", "Leads.csv") if root else None
    if path is None or not path.is_file():
        pytest.skip(f"X Education Leads.csv not found (HANDOFF_SHARED_DATA={root!r}): skipped")
    return path


@pytest.fixture
def x_education_mapping() -> dict:
    return json.loads((SHIPPED_MAPPINGS_DIR / "x_education.json").read_text())


# --- The mapping format --------------------------------------------------------


def test_mapping_lists_every_problem_it_finds():
    with pytest.raises(MappingError) as caught:
        parse_mapping(
            {
                "source": "inbound_form",
                "identifier": {"column": "Email", "field": "phone"},
                "placeholder": ["Select"],
                "columns": {
                    "Visits": {"attribute": "Total Visits", "type": "number"},
                    "Score": {"attribute": "score", "type": "numbr"},
                    "Mail": {"field": "email"},
                    "Land": {"field": "country"},
                    "Country": {"field": "country"},
                },
            }
        )

    assert caught.value.problems == [
        "unknown key 'placeholder'",
        "identifier.field: 'phone' is not one of email, external_id",
        "columns.Visits.attribute: 'Total Visits' is not a snake_case name (lower-case "
        "letters, digits and underscores, starting with a letter)",
        "columns.Score.type: 'numbr' is not one of text, number, boolean, date",
        "columns.Mail: email can only be the identifier; map this column to an attribute",
        "country is the target of more than one column",
    ]


def test_mapping_must_be_json_object_with_a_source():
    with pytest.raises(MappingError) as caught:
        importing.load_mapping('{"columns": {}, "identifier": "Email"}')

    assert caught.value.problems == [
        "source: give the slug of a lead source, such as 'inbound_form', or "
        '{"column": "Lead Source", "default": "inbound_form"} for a source per row',
        "identifier: give the column that identifies the lead, as "
        '{"column": "Email", "field": "email"} or {"column": "ID", "field": "external_id"}',
    ]


def test_mapping_that_is_not_json_is_refused():
    with pytest.raises(MappingError, match=r"^The mapping is not valid: not valid JSON"):
        importing.load_mapping("{source: inbound_form")


def test_shipped_x_education_mapping_keeps_post_contact_columns_apart(x_education_mapping):
    mapping = parse_mapping(x_education_mapping)
    post_contact = {
        rule.column
        for rule in mapping.columns
        if rule.attribute and rule.attribute.startswith("post_contact_")
    }

    assert mapping.source == "inbound_form"
    assert (mapping.identifier_column, mapping.identifier_field) == ("Prospect ID", "external_id")
    assert post_contact == {
        "Tags",
        "Lead Quality",
        "Asymmetrique Activity Index",
        "Asymmetrique Profile Index",
        "Asymmetrique Activity Score",
        "Asymmetrique Profile Score",
        "Last Notable Activity",
    }


@pytest.mark.needs_data
def test_shipped_x_education_mapping_maps_every_column_of_the_file(
    x_education_csv, x_education_mapping
):
    with x_education_csv.open(newline="", encoding="utf-8-sig") as file:
        header = [name for name in next(csv.reader(file)) if name]

    required = parse_mapping(x_education_mapping).required_columns
    assert len(header) == 37
    assert sorted(required) == sorted(header)


# --- The X Education file --------------------------------------------------------


@pytest.mark.needs_data
def test_x_education_file_imports_completely(db, x_education_csv, x_education_mapping):
    result = run(x_education_csv, x_education_mapping)

    assert (result.rows_read, result.created, result.updated, result.skipped) == (9240, 9240, 0, 0)
    assert result.ignored_columns == ()
    assert Lead.objects.count() == 9240
    assert Lead.objects.filter(known_outcome=True).count() == 3561
    assert Lead.objects.filter(known_outcome=False).count() == 5679
    assert Lead.objects.filter(source__slug="inbound_form").count() == 9240
    # "Google" and "google" are the same source once lower-cased.
    assert Lead.objects.filter(source_detail="google").count() == 2873
    assert Lead.objects.filter(source_detail="Google").count() == 0
    lead = Lead.objects.get(external_id="2a272436-5132-4136-86fa-dcc88c88f482")
    assert (lead.email, lead.country, lead.source_detail, lead.known_outcome) == (
        None,
        "India",
        "organic search",
        False,
    )
    assert lead.attributes["lead_number"] == "660728"
    assert lead.attributes["total_visits"] == 5
    assert lead.attributes["total_time_on_website"] == 674
    assert lead.attributes["page_views_per_visit"] == 2.5
    assert lead.attributes["do_not_email"] is False
    assert lead.attributes["post_contact_tags"] == "Ringing"
    assert "specialization" not in lead.attributes  # it was "Select"
    assert "post_contact_lead_quality" not in lead.attributes  # it was empty


@pytest.mark.needs_data
def test_x_education_quoted_commas_survive(db, x_education_csv, x_education_mapping):
    run(x_education_csv, x_education_mapping)

    assert (
        Lead.objects.filter(attributes__specialization="Banking, Investment And Insurance").count()
        == 338
    )


@pytest.mark.needs_data
def test_reimporting_the_x_education_file_creates_no_duplicates(
    db, x_education_csv, x_education_mapping
):
    run(x_education_csv, x_education_mapping)
    again = run(x_education_csv, x_education_mapping)

    assert (again.rows_read, again.created, again.updated, again.skipped) == (9240, 0, 9240, 0)
    assert Lead.objects.count() == 9240
    assert Lead.objects.filter(known_outcome=True).count() == 3561


# --- Small files -----------------------------------------------------------------


def test_file_with_a_bad_row_is_refused_with_its_line_and_nothing_is_written(db, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "ada@acme.io,Ada,Acme,UK,3,Software,yes,no\r\n"
        + "bob@acme.io,Bob,Acme,UK,abc,Software,maybe,no\r\n"
        + "cy@acme.io,Cy,Acme,UK,1,Software,no,perhaps\r\n",
    )

    refused = refusal(path)

    assert refused.message == (
        "2 of 3 rows are invalid; nothing was imported. Fix them, or import with 'skip invalid "
        "rows' to import the others."
    )
    assert [str(error) for error in refused.errors] == [
        "line 3, column Visits: 'abc' is not a number",
        "line 3, column Newsletter: 'maybe' is not yes/no, true/false or 1/0",
        "line 4, column Converted: 'perhaps' is not an outcome: true is yes; false is no",
    ]
    assert Lead.objects.count() == 0


def test_skip_invalid_writes_the_good_rows_and_reports_the_skipped_line(db, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "ada@acme.io,Ada,Acme,UK,3,Software,yes,no\r\n"
        + "not-an-email,Bob,Acme,UK,2,Software,no,no\r\n"
        + "cy@acme.io,Cy,Acme,UK,1,Software,no,yes\r\n",
    )

    result = run(path, skip_invalid=True)

    assert (result.rows_read, result.created, result.updated, result.skipped) == (3, 2, 0, 1)
    assert result.skipped_lines == (3,)
    assert result.errors == (RowError(3, "Email", "'not-an-email' is not an email address"),)
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["ada@acme.io", "cy@acme.io"]


def test_rows_become_leads_with_fields_attributes_and_outcome(db, tmp_path):
    path = write(tmp_path, HEADER + " Ada@Acme.IO ,Ada,Acme,UK,3.5,Software,Yes,yes\r\n")

    result = run(path)

    lead = Lead.objects.get()
    assert (result.created, result.updated) == (1, 0)
    assert lead.email == "ada@acme.io"
    assert (lead.first_name, lead.company_name, lead.country) == ("Ada", "Acme", "UK")
    assert lead.source.slug == "event_list_import"
    assert lead.known_outcome is True
    assert lead.attributes == {"visits": 3.5, "industry": "software", "newsletter": True}
    assert lead.account.domain == "acme.io"
    assert lead.account.name == "Acme"


def test_placeholders_and_empty_cells_become_empty(db, tmp_path):
    path = write(tmp_path, HEADER + "ada@acme.io,Ada,,select,,Select,,\r\n")

    run(path)

    lead = Lead.objects.get()
    assert (lead.company_name, lead.country, lead.known_outcome) == ("", "", None)
    assert lead.attributes == {}


def test_reimport_updates_like_upsert_lead(db, tmp_path):
    existing = factories.make_lead(
        "Ada@Acme.io",
        source_slug="webinar",
        country="France",
        attributes={"plan": "free", "visits": 1},
    )
    path = write(tmp_path, HEADER + "ada@acme.io,Ada,,,7,,,\r\n")

    result = run(path)

    existing.refresh_from_db()
    assert (result.created, result.updated) == (0, 1)
    assert Lead.objects.count() == 1
    assert existing.first_name == "Ada"
    assert existing.country == "France"  # an empty cell does not erase it
    assert existing.source.slug == "webinar"  # where the person first came from
    assert existing.attributes == {"plan": "free", "visits": 7}
    assert existing.account.domain == "acme.io"


def test_free_mail_leads_join_no_account(db, tmp_path):
    path = write(tmp_path, HEADER + "someone@gmail.com,,,,,,,\r\n")

    run(path)

    assert Lead.objects.get().account is None
    assert Account.objects.count() == 0


def test_duplicate_identifier_in_the_file_is_a_bad_row(db, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "ada@acme.io,Ada,,,,,,\r\n"
        + "bob@acme.io,Bob,,,,,,\r\n"
        + "ADA@acme.io,Ada again,,,,,,\r\n",
    )

    result = run(path, skip_invalid=True)

    assert [str(error) for error in result.errors] == ["line 4, column Email: duplicate of line 2"]
    assert Lead.objects.get(email="ada@acme.io").first_name == "Ada"
    assert Lead.objects.count() == 2


def test_empty_identifier_is_a_bad_row(db, tmp_path):
    path = write(tmp_path, HEADER + ",Ada,,,,,,\r\n")

    assert [str(error) for error in refusal(path).errors] == [
        "line 2, column Email: empty, but every lead needs its email"
    ]


def test_export_quirks_are_read_and_lines_counted_physically(db, tmp_path):
    # A byte-order mark, CRLF, a trailing comma on every line, a quoted comma,
    # a quoted line break (two physical lines), a blank line.
    path = write(
        tmp_path,
        "\ufeff"
        + HEADER.replace("\r\n", ",\r\n")
        + 'ada@acme.io,Ada,"Acme, Inc",UK,1,"Banking, Investment",no,no,\r\n'
        + 'bob@acme.io,Bob,"Two\r\nLines",UK,1,x,no,no,\r\n'
        + "\r\n"
        + "cy@acme.io,Cy,Acme,UK,oops,x,no,no,\r\n",
    )

    result = run(path, skip_invalid=True)

    assert result.rows_read == 3
    assert [str(error) for error in result.errors] == [
        "line 6, column Visits: 'oops' is not a number"
    ]
    ada = Lead.objects.get(email="ada@acme.io")
    assert ada.company_name == "Acme, Inc"
    assert ada.attributes["industry"] == "banking, investment"
    assert Lead.objects.get(email="bob@acme.io").company_name == "Two\r\nLines"


def test_a_field_over_the_csv_size_limit_is_a_bad_row(db, tmp_path):
    huge = "x" * (csv.field_size_limit() + 1)
    path = write(tmp_path, HEADER + f"ada@acme.io,{huge},,,,,,\r\n" + "bob@acme.io,Bob,,,,,,\r\n")

    result = run(path, skip_invalid=True)

    assert [str(error) for error in result.errors] == [
        f"line 2: cannot be read: field larger than field limit ({csv.field_size_limit()})"
    ]
    assert list(Lead.objects.values_list("email", flat=True)) == ["bob@acme.io"]


def test_rows_with_missing_or_extra_values_are_bad_rows(db, tmp_path):
    path = write(tmp_path, HEADER + "ada@acme.io,Ada\r\n" + "bob@acme.io,Bob,,,,,,,surplus\r\n")

    assert [str(error) for error in refusal(path).errors] == [
        "line 2: has 2 values where the header has 8 columns",
        "line 3: has 9 values where the header has 8 columns",
    ]


def test_text_longer_than_its_field_is_a_bad_row(db, tmp_path):
    path = write(tmp_path, HEADER + f"ada@acme.io,{'A' * 101},,,,,,\r\n")

    assert [str(error) for error in refusal(path).errors] == [
        "line 2, column First Name: 101 characters, but first_name holds at most 100"
    ]


def test_a_file_in_no_encoding_we_read_is_refused_naming_line_and_byte(db, tmp_path):
    # 0x81 is neither UTF-8 nor Windows-1252 (which leaves it undefined).
    path = write(
        tmp_path, (HEADER + "jose@acme.io,Jos\u00e9,,,,,,\r\n").encode("latin-1") + b"\x81"
    )

    refused = refusal(path)

    assert refused.message == (
        "The file is neither UTF-8 nor Windows-1252 text: line 3 has the byte 0x81 (at byte "
        "offset 96 of the file), which Windows-1252 does not allow. Save the file as "
        "'CSV UTF-8' and import it again."
    )
    assert Lead.objects.count() == 0


def test_missing_mapped_columns_are_refused_up_front_naming_them(db, tmp_path):
    path = write(tmp_path, "Email,First Name,Company\r\nada@acme.io,Ada,Acme\r\n")

    refused = refusal(path)

    assert refused.message == (
        "The file lacks column(s) the mapping needs: 'Converted', 'Country', 'Industry', "
        "'Newsletter', 'Visits'. Nothing was imported."
    )
    assert refused.errors == []


def test_an_empty_file_is_refused(db, tmp_path):
    assert refusal(write(tmp_path, "")).message == "The file is empty: there is no header line."


def test_an_unknown_source_is_refused(db, tmp_path):
    path = write(tmp_path, HEADER)

    refused = refusal(path, {**SMALL_MAPPING, "source": "carrier_pigeon"})

    assert refused.message == (
        "The mapping's source 'carrier_pigeon' does not exist: use one of api, cold_list, "
        "content, event_list_import, inbound_form, partner, trade_show_badge_scan, webinar, "
        "website."
    )


def test_columns_not_in_the_mapping_are_reported_as_ignored(db, tmp_path):
    path = write(tmp_path, HEADER.replace("\r\n", ",Notes\r\n") + "ada@acme.io,,,,,,,,hi\r\n")

    assert run(path).ignored_columns == ("Notes",)


def test_progress_is_reported_while_rows_are_checked(db, tmp_path, monkeypatch):
    monkeypatch.setattr("leads.importing.services.PROGRESS_EVERY", 2)
    rows = "".join(f"p{n}@acme.io,,,,,,,\r\n" for n in range(5))
    path = write(tmp_path, HEADER + rows)
    reports = []

    run(path, on_progress=lambda processed, total: reports.append((processed, total)))

    assert reports == [(0, 5), (2, 5), (4, 5), (5, 5)]


# --- The management command --------------------------------------------------------


def mapping_file(tmp_path: Path) -> str:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(SMALL_MAPPING))
    return str(path)


def test_import_leads_command_prints_a_summary(db, tmp_path):
    path = write(tmp_path, HEADER + "ada@acme.io,Ada,,,,,,\r\n")
    out = io.StringIO()

    call_command("import_leads", str(path), mapping=mapping_file(tmp_path), stdout=out)

    assert out.getvalue() == "1 rows read: 1 leads created, 0 updated, 0 rows skipped.\n"


def test_import_leads_command_fails_and_lists_the_bad_rows(db, tmp_path):
    path = write(tmp_path, HEADER + "ada@acme.io,Ada,,,many,,,\r\n")
    err = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_leads", str(path), mapping=mapping_file(tmp_path), stderr=err)

    assert str(caught.value) == (
        "1 of 1 rows are invalid; nothing was imported. Fix them, or import with 'skip "
        "invalid rows' to import the others."
    )
    assert err.getvalue() == "line 2, column Visits: 'many' is not a number\n"
    assert Lead.objects.count() == 0


def test_import_leads_command_with_skip_invalid_reports_the_skipped_rows(db, tmp_path):
    path = write(tmp_path, HEADER + "ada@acme.io,Ada,,,many,,,\r\nbob@acme.io,Bob,,,,,,\r\n")
    out = io.StringIO()

    call_command(
        "import_leads", str(path), mapping=mapping_file(tmp_path), skip_invalid=True, stdout=out
    )

    assert out.getvalue() == (
        "2 rows read: 1 leads created, 0 updated, 1 rows skipped.\n"
        "skipped line 2, column Visits: 'many' is not a number\n"
    )


def test_import_leads_command_refuses_a_bad_mapping(db, tmp_path):
    path = write(tmp_path, HEADER)
    bad = tmp_path / "bad.json"
    bad.write_text('{"source": "inbound_form", "identifier": "Email"}')

    with pytest.raises(CommandError) as caught:
        call_command("import_leads", str(path), mapping=str(bad))

    assert str(caught.value).startswith("The mapping is not valid: identifier: give the column")


def test_import_leads_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("import_leads", str(tmp_path / "nope.csv"), mapping=mapping_file(tmp_path))

    assert str(caught.value) == f"Cannot read {tmp_path / 'nope.csv'}: No such file or directory."


@pytest.mark.needs_data
def test_import_leads_command_takes_a_shipped_mapping_by_name(db, x_education_csv):
    out = io.StringIO()

    call_command("import_leads", str(x_education_csv), mapping="x_education", stdout=out)

    assert out.getvalue() == "9240 rows read: 9240 leads created, 0 updated, 0 rows skipped.\n"
