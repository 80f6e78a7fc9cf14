import csv
import io

import pytest

from handoff.csv_safety import neutralise, safe_row


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example","Open")',
        "+1+2",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+2",
        "\r=1+2",
    ],
)
def test_a_text_that_starts_like_a_formula_gets_a_leading_quote(text):
    assert neutralise(text) == f"'{text}"


@pytest.mark.parametrize(
    "value",
    [
        "Ada Lovelace",
        "ada@example.com",
        "2025-01-31T09:00:00+00:00",
        "a=b",
        " =1",
        "",
        42,
        -5,
        None,
    ],
)
def test_anything_else_is_left_as_it_is(value):
    assert neutralise(value) == value


def test_a_written_row_reads_back_as_text_with_the_quote():
    out = io.StringIO()
    csv.writer(out).writerow(safe_row([7, '=HYPERLINK("https://evil.example","Open")', "Ada"]))

    assert out.getvalue() == '7,"\'=HYPERLINK(""https://evil.example"",""Open"")",Ada\r\n'
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        "7",
        '\'=HYPERLINK("https://evil.example","Open")',
        "Ada",
    ]
