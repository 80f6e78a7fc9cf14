"""The import use cases: import a file now, or queue it as a job for a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.contrib.auth.models import User
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from handoff.errors import ConflictError
from handoff.jobs import QUEUED_FOR, JobFailed, JobRefused, resend_jobs, run_job, start_job
from leads.importing.csvfile import CsvFormat, CsvReader, detect_format
from leads.importing.mapping import Mapping, MappingError, parse_mapping
from leads.importing.results import ImportPreview, ImportRefused, ImportResult, RowError
from leads.importing.rows import LeadValues, RowConverter
from leads.importing.writer import write_chunk
from leads.models import ImportJob, ImportMapping, Lead, LeadSource

CHUNK_ROWS = 1000  # rows per lookup/insert round trip while writing
PROGRESS_EVERY = 500  # rows between two progress reports
MAX_STORED_ERRORS = 1000  # on the job row; the counts stay exact
MAX_COLUMNS = 500  # a real export has dozens; thousands is a wrong (or hostile) file

Progress = Callable[[int, int], None]  # (rows processed, rows in the file)


def import_leads(
    *,
    file: BinaryIO,
    mapping: Mapping,
    skip_invalid: bool = False,
    on_progress: Progress | None = None,
    file_name: str = "",
) -> ImportResult:
    """Create or update one lead per row of a CSV file (with a header line).

    The encoding and delimiter are detected (see csvfile). ``file_name``
    identifies the leads of a mapping without an identifier column: each is
    "<file name> line <n>", so importing the same file again updates them.

    Guarantees:
    - All or nothing by default: if any row is bad, ImportRefused lists every bad
      row (physical line, column, reason) and nothing is written. With
      ``skip_invalid`` the good rows are written and the bad ones reported as
      skipped. A file that cannot be decoded, lacks a mapped column or whose
      mapping names an unknown source is refused before any row is read.
    - The writes are one transaction.
    - Re-importing creates no duplicates: each row is matched to a lead by the
      mapping's identifier, with upsert_lead's rules (empty cells never erase,
      attributes merged key by key, the existing source kept). A row repeating
      an identifier already seen in the file is a bad row.
    - ``on_progress`` is called every few hundred rows while the rows are read
      and validated, outside the write transaction, so another process sees it.

    The file is read three times (count, validate, write), so it must be
    seekable; memory stays bounded by the identifiers, not the rows.
    """
    source = _mapping_source(mapping)
    report = on_progress or (lambda processed, total: None)
    reading = _Reading(
        file=file,
        mapping=mapping,
        format=detect_format(file),
        sources=_sources(),
        file_name=file_name or Path(str(getattr(file, "name", "") or "file")).name,
    )

    with reading.reader() as reader:
        _check_header(reader, mapping)
        ignored = tuple(name for name in reader.header if name not in mapping.required_columns)
        total = sum(1 for _ in reader)
    if total == 0:
        raise ImportRefused("The file has a header line but no rows: there is nothing to import.")
    report(0, total)

    errors, bad_lines, rows_read = _validate(reading, report, total)
    if bad_lines and not skip_invalid:
        raise ImportRefused(
            f"{len(bad_lines)} of {rows_read} rows are invalid; nothing was imported. Fix "
            "them, or import with 'skip invalid rows' to import the others.",
            errors=errors,
            rows_read=rows_read,
        )

    created = updated = 0
    try:
        with transaction.atomic():
            for chunk in _chunks(_good_rows(reading, bad_lines), CHUNK_ROWS):
                written = write_chunk(rows=chunk, mapping=mapping, source=source)
                created += written.created
                updated += written.updated
    except IntegrityError:
        # Only a concurrent writer can cause this (the rows were validated and
        # deduplicated): it created one of these leads between our lookup and
        # our insert. Everything was rolled back, and importing again is safe.
        raise ConflictError(
            "Some of these leads were created by someone else during the import; nothing "
            "was imported. Import the file again."
        ) from None
    return ImportResult(
        rows_read=rows_read,
        created=created,
        updated=updated,
        skipped_lines=tuple(sorted(bad_lines)),
        errors=tuple(errors),
        ignored_columns=ignored,
    )


def preview_import(*, file: BinaryIO, mapping: Mapping, file_name: str = "") -> ImportPreview:
    """What import_leads would do with this file, and every bad row, writing nothing.

    Reads the file as import_leads does (same checks, same refusals), then
    counts which identifiers already belong to a lead, a chunk at a time.
    """
    _mapping_source(mapping)
    reading = _Reading(
        file=file,
        mapping=mapping,
        format=detect_format(file),
        sources=_sources(),
        file_name=file_name or Path(str(getattr(file, "name", "") or "file")).name,
    )
    with reading.reader() as reader:
        _check_header(reader, mapping)
        total = sum(1 for _ in reader)
    errors, bad_lines, rows_read = _validate(reading, lambda processed, total: None, total)
    existing = 0
    for chunk in _chunks(_good_rows(reading, bad_lines), CHUNK_ROWS):
        keys = [row.key for row in chunk]
        if mapping.identifier_field == "email":
            found = Lead.objects.annotate(key=Lower("email")).filter(key__in=keys)
        else:
            found = Lead.objects.filter(external_id__in=keys)
        existing += found.count()
    good = rows_read - len(bad_lines)
    return ImportPreview(
        format=str(reading.format),
        rows_read=rows_read,
        to_create=good - existing,
        to_update=existing,
        bad_lines=len(bad_lines),
        errors=tuple(errors),
    )


@transaction.atomic
def save_import_mapping(*, name: str, mapping: dict[str, Any], by: User | None) -> ImportMapping:
    """Save a mapping under a name (replacing the one saved under it); MappingError
    when it is not valid."""
    parse_mapping(mapping)
    saved, _ = ImportMapping.objects.update_or_create(
        name=name.strip(), defaults={"mapping": mapping, "created_by": by}
    )
    return saved


@transaction.atomic
def start_import(
    *,
    file: File,
    mapping: dict[str, Any],
    skip_invalid: bool = False,
    by: User | None = None,
) -> ImportJob:
    """Store the file, record a queued job and have a worker run it after commit.

    The mapping is checked now (MappingError when it is not valid); the file
    is read by the worker, which records the outcome and the progress on the job.
    """
    parse_mapping(mapping)
    return start_job(
        ImportJob,
        file=file,
        original_name=Path(file.name or "").name[:255],
        mapping=mapping,
        skip_invalid=skip_invalid,
        created_by=by,
    )


def resend_queued_imports(*, queued_for: timedelta = QUEUED_FOR) -> int:
    """Sends again the jobs whose message was lost (see handoff.jobs.resend_jobs).
    Returns how many were sent."""
    return resend_jobs(ImportJob, queued_for=queued_for)


def run_import_job(*, job_id: int) -> bool:
    """Run a queued job once; False when it is gone or already claimed.

    Claimed by the job kit, so a task delivered twice imports once, and a job
    left running by a worker that died is run again: its write was one
    transaction, rolled back with the worker. The outcome (done, refused or
    failed) and its counts and errors are recorded on the job.
    """
    return run_job(ImportJob, pk=job_id, work=_import_file)


def _import_file(job: ImportJob) -> dict[str, Any]:
    def progress(processed: int, total: int) -> None:
        job.record_progress(rows_processed=processed, rows_total=total)

    try:
        mapping = parse_mapping(job.mapping)
        with job.file.open("rb") as file:
            result = import_leads(
                file=file,
                mapping=mapping,
                skip_invalid=job.skip_invalid,
                on_progress=progress,
                file_name=job.original_name or job.file_name,
            )
    except ImportRefused as refused:
        errors = refused.errors or [RowError(None, "", refused.message)]
        raise JobRefused(
            skipped=len({error.line for error in refused.errors}), errors=_stored(errors)
        ) from None
    except MappingError as error:
        raise JobRefused(errors=_stored([RowError(None, "", error.message)])) from None
    except ConflictError as error:  # a concurrent writer; running it again is safe
        raise JobFailed(errors=_stored([RowError(None, "", error.message)])) from None
    return {
        "rows_total": result.rows_read,
        "rows_processed": result.rows_read,
        "created": result.created,
        "updated": result.updated,
        "skipped": result.skipped,
        "errors": _stored(list(result.errors)),
    }


def _check_header(reader: CsvReader, mapping: Mapping) -> None:
    if reader.width > MAX_COLUMNS:
        raise ImportRefused(
            f"The header has {reader.width} columns; a lead list has at most {MAX_COLUMNS}. "
            "Is this the right file?"
        )
    # Sorted: a mapping stored as jsonb (on a job) no longer has its key order.
    missing = sorted(name for name in mapping.required_columns if name not in reader.header)
    if missing:
        raise ImportRefused(
            f"The file lacks column(s) the mapping needs: {', '.join(map(repr, missing))}. "
            "Nothing was imported."
        )
    repeated = sorted(set(mapping.required_columns) & reader.repeated)
    if repeated:
        raise ImportRefused(
            f"The header names {', '.join(repr(name) for name in repeated)} more than once; "
            "nothing was imported."
        )


@dataclass(frozen=True)
class _Reading:
    """A file under a mapping, as each pass over it reads it."""

    file: BinaryIO
    mapping: Mapping
    format: CsvFormat
    sources: list[tuple[int, str, str]]
    file_name: str

    def reader(self) -> CsvReader:
        return CsvReader(self.file, self.format)

    def converter(self, reader: CsvReader) -> RowConverter:
        return RowConverter(
            self.mapping, reader.header, sources=self.sources, file_name=self.file_name
        )


def _mapping_source(mapping: Mapping) -> LeadSource:
    source = LeadSource.objects.filter(slug=mapping.source).first()
    if source is None:
        known = ", ".join(LeadSource.objects.order_by("slug").values_list("slug", flat=True))
        raise ImportRefused(
            f"The mapping's source {mapping.source!r} does not exist: use one of {known}."
        )
    return source


def _sources() -> list[tuple[int, str, str]]:
    return list(LeadSource.objects.order_by("slug").values_list("pk", "slug", "name"))


def _validate(
    reading: _Reading, report: Progress, total: int
) -> tuple[list[RowError], set[int], int]:
    """Every problem of every row, the lines of the bad rows, and the rows read."""
    mapping = reading.mapping
    errors: list[RowError] = []
    bad_lines: set[int] = set()
    # identifier -> line of its first row, to report repeats
    first_line: dict[str, int] = {}
    rows_read = 0
    with reading.reader() as reader:
        converter = reading.converter(reader)
        for row in reader:
            rows_read += 1
            if row.error:
                row_errors = [RowError(row.line, "", row.error)]
            else:
                values, row_errors = converter.convert(row.line, row.cells)
                if values is not None:
                    seen = first_line.setdefault(values.key, row.line)
                    if seen != row.line:
                        row_errors = [
                            RowError(
                                row.line,
                                mapping.identifier_column or "",
                                f"duplicate of line {seen}",
                            )
                        ]
            if row_errors:
                errors += row_errors
                bad_lines.add(row.line)
            if rows_read % PROGRESS_EVERY == 0:
                report(rows_read, total)
    report(rows_read, total)
    return errors, bad_lines, rows_read


def _good_rows(reading: _Reading, bad_lines: set[int]) -> Iterator[LeadValues]:
    with reading.reader() as reader:
        converter = reading.converter(reader)
        for row in reader:
            if row.line in bad_lines:
                continue
            values, _ = converter.convert(row.line, row.cells)
            assert values is not None  # validated in the pass before
            yield values


def _chunks(rows: Iterator[LeadValues], size: int) -> Iterator[list[LeadValues]]:
    chunk: list[LeadValues] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stored(errors: list[RowError]) -> list[dict[str, Any]]:
    stored = [error.as_dict() for error in errors[:MAX_STORED_ERRORS]]
    if len(errors) > MAX_STORED_ERRORS:
        stored.append(
            {
                "line": None,
                "column": "",
                "message": f"… and {len(errors) - MAX_STORED_ERRORS} more problems",
            }
        )
    return stored
