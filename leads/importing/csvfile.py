"""Reading CSV files as real systems export them.

The encoding and the delimiter are detected, not asked for: UTF-8 (with or
without a byte-order mark), UTF-16 with its byte-order mark (Excel's "Unicode
text"), and otherwise Windows-1252, what Excel on Windows writes for "CSV";
commas, semicolons (Excel in most of Europe), tabs or pipes, as the CleverCSV
dialect detector reads them. Any line ending, quoted delimiters and line
breaks; header names trimmed, empty ones (a trailing delimiter on every line)
ignored. A row the csv module cannot read (a field over the field size limit)
is reported as a bad row, not raised.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from clevercsv import Detector

from leads.importing.results import ImportRefused

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}
SNIFF_BYTES = 64 * 1024  # enough lines to tell the delimiter, little enough to be quick
CHECK_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CsvFormat:
    encoding: str  # a Python codec name
    delimiter: str

    def __str__(self) -> str:
        return f"{ENCODING_NAMES[self.encoding]}, {DELIMITERS[self.delimiter]}-separated"


@dataclass(frozen=True)
class CsvRow:
    line: int  # physical line the record starts on; the header is line 1
    cells: list[str]
    error: str = ""


def detect_format(file: BinaryIO) -> CsvFormat:
    """The file's encoding and delimiter; ImportRefused when it is not text we can read."""
    encoding = _detect_encoding(file)
    file.seek(0)
    sample = file.read(SNIFF_BYTES)
    # NULs are reported where they are (a bad header, a bad cell), not here.
    text = sample.decode(encoding, errors="replace").replace("\x00", "")
    if len(sample) == SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # whole lines only: a cut line misleads the detector
    dialect = Detector().detect(text, delimiters=list(DELIMITERS)) if text.strip() else None
    delimiter = dialect.delimiter if dialect and dialect.delimiter in DELIMITERS else ","
    return CsvFormat(encoding=encoding, delimiter=delimiter)


class CsvReader:
    """One pass over a CSV file from its start: ``header`` first, then the rows.

    Use as a context manager: the binary file is left open (and rewindable) for
    the next pass. Give ``format`` when it is known, to detect it once per file.
    """

    def __init__(self, file: BinaryIO, format: CsvFormat | None = None):
        self.format = format or detect_format(file)
        self._file = file
        file.seek(0)
        self._text = io.TextIOWrapper(file, encoding=self.format.encoding, newline="")  # type: ignore[arg-type]
        self._reader = csv.reader(self._text, delimiter=self.format.delimiter)
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
                "Line 1 (the header) contains NUL characters: the file is not CSV text "
                "(UTF-16 without a byte-order mark, or not text at all). Save it as "
                "'CSV UTF-8' and import it again."
            )
        # Column name -> index; empty names (a trailing delimiter) name nothing.
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
                continue  # blank lines and rows of bare delimiters carry nothing
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
            raise ImportRefused(_decoding_problem(self._file, self.format.encoding)) from None


def _detect_encoding(file: BinaryIO) -> str:
    file.seek(0)
    start = file.read(4)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    # Valid UTF-8 all through is UTF-8 (plain ASCII included); checked in chunks
    # so a large file is never held in memory.
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(CHECK_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _decoding_problem(file: BinaryIO, encoding: str) -> str:
    """Where the first byte the encoding cannot read is, for a message people can act on."""
    name = ENCODING_NAMES[encoding]
    file.seek(0)
    offset = 0
    for number, raw_line in enumerate(file, start=1):
        try:
            raw_line.decode(encoding)
        except UnicodeDecodeError as error:
            bad = raw_line[error.start]
            return (
                f"The file is neither UTF-8 nor {name} text: line {number} has the byte "
                f"0x{bad:02x} (at byte offset {offset + error.start} of the file), which "
                f"{name} does not allow. Save the file as 'CSV UTF-8' and import it again."
            )
        offset += len(raw_line)
    return f"The file is not {name} text. Save it as 'CSV UTF-8' and import it again."
