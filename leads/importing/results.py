"""What an import reports: bad rows with their line, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoff.errors import DomainError


@dataclass(frozen=True)
class RowError:
    """One problem with one row; ``line`` is the physical line (the header is line 1).

    ``line`` is None and ``column`` empty for problems with the whole file.
    """

    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class ImportResult:
    rows_read: int
    created: int
    updated: int
    skipped_lines: tuple[int, ...] = ()
    errors: tuple[RowError, ...] = ()
    ignored_columns: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> int:
        return len(self.skipped_lines)


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would do, found without writing anything."""

    format: str  # "UTF-8, semicolon-separated"
    rows_read: int
    to_create: int
    to_update: int
    bad_lines: int
    errors: tuple[RowError, ...] = ()

    @property
    def summary(self) -> str:
        """ "1,204 rows read: 1,200 leads will be created, 3 updated; 1 row is bad." """
        bad = (
            f"; {_count(self.bad_lines, 'row')} {'is' if self.bad_lines == 1 else 'are'} bad"
            if self.bad_lines
            else ""
        )
        return (
            f"{_count(self.rows_read, 'row')} read: {_count(self.to_create, 'lead')} will be "
            f"created, {self.to_update:,} updated{bad}."
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class ImportRefused(DomainError):
    """The file cannot be imported as it is; nothing was written.

    ``errors`` lists every bad row (or the one problem with the whole file).
    """

    def __init__(self, message: str, *, errors: list[RowError] | None = None, rows_read: int = 0):
        super().__init__(message)
        self.errors = errors or []
        self.rows_read = rows_read
