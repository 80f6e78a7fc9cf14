"""CSV cells that a spreadsheet will not run as formulas.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (and a leading tab or carriage return can
hide one), so a lead who types ``=HYPERLINK("https://evil.example", "Open")``
as their name would put a live link, or worse, into a manager's export. Every
export writes its cells through :func:`safe_row`: such a text gains a leading
single quote, which spreadsheets show as text. (OWASP, "CSV Injection".)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
