"""Hostile CSV files: each is refused with a report naming the line and column,
or its content is neutralised where it comes out again (our CSV exports).

The ordinary problems (an encoding we cannot read, missing columns, an empty file, a field over
the csv module's limit, rows of the wrong width) are in test_import.py.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, Stage
from leads.services import change_stage
from routing.models import Queue
from routing.services import join_queue, route_mql, watch_sla_clocks
from tests.leads.test_import import HEADER, refusal, run, write

ROW = "ada@acme.io,Ada,Acme,,3,,,\r\n"


def test_a_utf16_file_with_its_byte_order_mark_imports(db, tmp_path):
    path = write(tmp_path, (HEADER + ROW).encode("utf-16"))

    run(path)

    assert list(Lead.objects.values_list("email", "company_name")) == [("ada@acme.io", "Acme")]


def test_a_nul_byte_in_a_cell_is_a_bad_row_naming_line_and_column(db, tmp_path):
    path = write(tmp_path, HEADER + ROW + "bob@acme.io,Bo\x00b,,,,,,\r\n")

    refused = refusal(path)

    assert [str(error) for error in refused.errors] == [
        "line 3, column First Name: contains a NUL character, which cannot be stored"
    ]
    assert Lead.objects.count() == 0


def test_with_skip_invalid_the_row_with_a_nul_is_skipped(db, tmp_path):
    path = write(tmp_path, HEADER + ROW + "bob@acme.io,Bob,,,,A\x00B,,\r\n")

    result = run(path, skip_invalid=True)

    assert result.skipped_lines == (3,)
    assert list(Lead.objects.values_list("email", flat=True)) == ["ada@acme.io"]


def test_a_nul_in_the_header_is_refused(db, tmp_path):
    path = write(tmp_path, HEADER.replace("Company", "Comp\x00any") + ROW)

    assert refusal(path).message == (
        "Line 1 (the header) contains NUL characters: the file is not CSV text "
        "(UTF-16 without a byte-order mark, or not text at all). Save it as "
        "'CSV UTF-8' and import it again."
    )


def test_a_utf16_file_without_a_byte_order_mark_is_refused(db, tmp_path):
    path = write(tmp_path, (HEADER + ROW).encode("utf-16-le"))

    assert refusal(path).message.startswith("Line 1 (the header) contains NUL characters")


def test_a_huge_field_within_the_csv_limit_is_a_bad_row(db, tmp_path):
    path = write(tmp_path, HEADER + f"ada@acme.io,Ada,{'C' * 100_000},,,,,\r\n")

    assert [str(error) for error in refusal(path).errors] == [
        "line 2, column Company: 100000 characters, but company_name holds at most 200"
    ]


def test_a_huge_attribute_text_is_a_bad_row(db, tmp_path):
    path = write(tmp_path, HEADER + f"ada@acme.io,Ada,,,,{'i' * 100_000},,\r\n")

    assert [str(error) for error in refusal(path).errors] == [
        "line 2, column Industry: 100000 characters, but a text attribute holds at most 1000"
    ]


def test_a_header_with_a_huge_number_of_columns_is_refused(db, tmp_path):
    extra = ",".join(f"c{n}" for n in range(5000))
    path = write(tmp_path, HEADER.replace("\r\n", f",{extra}\r\n") + ROW)

    assert refusal(path).message == (
        "The header has 5008 columns; a lead list has at most 500. Is this the right file?"
    )


def test_a_file_with_only_a_header_is_refused(db, tmp_path):
    assert refusal(write(tmp_path, HEADER)).message == (
        "The file has a header line but no rows: there is nothing to import."
    )


def test_a_file_with_a_header_and_blank_lines_only_is_refused(db, tmp_path):
    assert refusal(write(tmp_path, HEADER + "\r\n,,,,,,,\r\n")).message == (
        "The file has a header line but no rows: there is nothing to import."
    )


def test_a_missing_identifier_column_is_refused_naming_it(db, tmp_path):
    path = write(tmp_path, HEADER.replace("Email,", "E-mail,") + ROW)

    assert refusal(path).message == (
        "The file lacks column(s) the mapping needs: 'Email'. Nothing was imported."
    )


# --- Formulas in imported values come out of our exports neutralised ----------

FORMULAS = [
    '=HYPERLINK("https://evil.example","Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
def breached_leads(db, tmp_path, sdr):
    """One imported lead per formula, each an MQL whose first-touch SLA ran out."""
    out = io.StringIO()
    csv.writer(out).writerows(
        [f"lead{n}@acme.io", name, "Acme", "", "", "", "", ""] for n, name in enumerate(FORMULAS)
    )
    result = run(write(tmp_path, HEADER + out.getvalue()))
    assert result.created == len(FORMULAS)
    join_queue(queue=Queue.objects.get(name="Inbound MQLs"), sdr=sdr, capacity=50)
    for lead in Lead.objects.all():
        change_stage(lead=lead, to_stage=Stage.MQL, reason="test")
        route_mql(lead_id=lead.pk)
    watch_sla_clocks(now=timezone.now() + timedelta(hours=25))


def test_formulas_imported_as_names_are_stored_as_given(breached_leads):
    assert sorted(Lead.objects.values_list("first_name", flat=True)) == sorted(
        name.strip() for name in FORMULAS
    )


def test_formulas_imported_as_names_are_neutralised_in_the_sla_export(
    breached_leads, client, manager
):
    client.force_login(manager)
    today = timezone.localdate()

    response = client.get(
        "/manager/sla/breaches.csv",
        {"start": today - timedelta(days=1), "end": today + timedelta(days=2)},
    )

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = sorted(row[2] for row in rows[1:])
    assert names == sorted(f"'{name.strip()}" for name in FORMULAS)
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in rows[1:]
        for cell in row
        if not cell.lstrip("-").isdigit()
    )
