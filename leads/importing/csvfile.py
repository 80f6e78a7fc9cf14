"""Reading CSV files as real systems export them.

UTF-8 only (a byte-order mark is allowed; UTF-16 and NUL bytes in the header
are refused saying so); any line ending, quoted commas and line breaks; header
names trimmed, empty ones (a trailing comma on every line) ignored. A row the
csv module cannot read (a field over the field size limit) is reported as a
bad row, not raised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from leads.importing.results import ImportRefused


@dataclass(frozen=True)
class CsvRow:
    line: int  # physical line the record starts on; the header is line 1
    cells: list[str]
    error: str = ""


class CsvReader:
    """One pass over a CSV file from its start: ``header`` first, then the rows.

    Use as a context manager: the binary file is left open (and rewindable) for
    the next pass.
    """

    def __init__(self, file: BinaryIO):
        self._file = file
        file.seek(0)
        self._text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
        self._reader = csv.reader(self._text)
        try:
            first = self._next()
        except StopIteration:
            self._text.detach()
            raise ImportRefused("The file is empty: there is no header line.") from None
        except csv.Error as error:
            self._text.detach()
            raise ImportRefused(f"The header line cannot be read: {error}.") from None
        except ImportRefused:
            self._text.detach()
            raise
        if any("\x00" in name for name in first):
            self._text.detach()
            raise ImportRefused(
                "Line 1 (the header) contains NUL characters: the file is not UTF-8 CSV text "
                "(UTF-16, or not text at all). Save it as 'CSV UTF-8' and import it again."
            )
        # Column name -> index; empty names (a trailing comma) name nothing.
        self.header: dict[str, int] = {}
        self.repeated: set[str] = set()
        for index, name in enumerate(first):
            name = name.strip()
            if name in self.header:
                self.repeated.add(name)
            elif name:
                self.header[name] = index
        self.width = len(first)

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Detach so that closing the text layer does not close the caller's file.
        self._text.detach()

    def __iter__(self) -> Iterator[CsvRow]:
        needed = max(self.header.values(), default=-1) + 1
        while True:
            line = self._reader.line_num + 1
            try:
                cells = self._next()
            except StopIteration:
                return
            except csv.Error as error:
                yield CsvRow(line=line, cells=[], error=f"cannot be read: {error}")
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and rows of bare commas carry nothing
            if len(cells) < needed or any(cell.strip() for cell in cells[self.width :]):
                yield CsvRow(
                    line=line,
                    cells=cells,
                    error=(f"has {len(cells)} values where the header has {self.width} columns"),
                )
            else:
                yield CsvRow(line=line, cells=cells)

    def _next(self) -> list[str]:
        try:
            return next(self._reader)
        except UnicodeDecodeError:
            raise ImportRefused(_decoding_problem(self._file)) from None


def _decoding_problem(file: BinaryIO) -> str:
    """Where the first byte that is not UTF-8 is, for a message people can act on."""
    file.seek(0)
    if file.read(2) in (b"\xff\xfe", b"\xfe\xff"):  # the byte-order mark Excel writes
        return "The file is UTF-16 text, not UTF-8. Save it as 'CSV UTF-8' and import it again."
    file.seek(0)
    offset = 0
    for number, raw_line in enumerate(file, start=1):
        try:
            raw_line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = raw_line[error.start]
            return (
                f"The file is not UTF-8 text: line {number} has the byte 0x{bad:02x} "
                f"(at byte offset {offset + error.start} of the file), which UTF-8 does not "
                "allow. Save the file as 'CSV UTF-8' and import it again."
            )
        offset += len(raw_line)
    return "The file is not UTF-8 text. Save it as 'CSV UTF-8' and import it again."
