"""CSV cells that a spreadsheet will not run as formulas.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (and a leading tab or carriage return can
hide one), so a lead who types ``=HYPERLINK("https://evil.example", "Open")``
as their name would put a live link, or worse, into a manager's export. Every
export writes its cells through :func:`safe_row`: such a text gains a leading
single quote, which spreadsheets show as text. (OWASP, "CSV Injection".)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as written: a text that starts like a formula gets a leading
    single quote; anything else, numbers included, is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer.writerow`` with every cell neutralised."""
    return [neutralise(value) for value in values]


class _Echo:
    """A file-like object whose write() hands the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


def streamed_csv(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The lines of a CSV export one at a time (for a StreamingHttpResponse),
    every cell neutralised."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_time(value: datetime | None) -> str:
    """A moment as an export writes it: local time, to the second; blank if none."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""
