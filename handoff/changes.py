"""The change feed's marker: which committed transaction last wrote a row.

A poller asks "what changed after the last row I saw?". A timestamp cannot
answer that safely: ``updated_at`` is taken when a statement runs, not when
its transaction commits, so a transaction that started earlier and commits
later makes rows appear *behind* a cursor that has already passed them, and
the poller never sees them. Many rows written in the same millisecond need a
tie-breaker too.

So each feed table carries ``change_xid``, set by a database trigger on every
INSERT and UPDATE (the ORM's saves, ``QuerySet.update``, and the set-wise SQL
of scoring's rescores alike: no writer can forget it) to the writing
transaction's id. The feed orders rows by ``(change_xid, id)`` and hands out
only rows whose transaction is older than every transaction still running
(``pg_snapshot_xmin`` of the current snapshot): every such transaction has
ended, so no row can later appear below the cursor. A row written again gets
a newer transaction id and comes once more, with its new state: each change
is handed out once. A transaction left open holds the feed back (it waits;
it never skips) until it ends.

SQLite (the development default) lets one transaction write at a time, so a
per-table counter bumped by the trigger is commit-ordered already.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, migrations, models
from django.db.models.expressions import RawSQL

CHANGE_MARKER = "change_xid"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION handoff_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;
"""


def change_marker_field() -> models.BigIntegerField:
    """The column a migration's trigger keeps up to date (never the ORM's to set)."""
    return models.BigIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="The transaction that last wrote this row (the change feed's cursor).",
    )


def _install(table: str):
    def forward(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_PG_FUNCTION)
                cursor.execute(
                    f"CREATE TRIGGER {table}_mark_change BEFORE INSERT OR UPDATE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION handoff_mark_change()"
                )
            else:
                bump = (
                    f"UPDATE {table} SET change_xid = "
                    f"(SELECT COALESCE(MAX(change_xid), 0) + 1 FROM {table}) "
                    "WHERE rowid = NEW.rowid;"
                )
                # SQLite's triggers do not fire from their own UPDATE
                # (recursive_triggers is off), so the bump does not loop.
                for event in ("INSERT", "UPDATE"):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_mark_{event.lower()} AFTER {event} ON {table} "
                        f"BEGIN {bump} END"
                    )

    def backward(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_mark_change ON {table}")
            else:
                for event in ("insert", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_mark_{event}")

    return forward, backward


def install_change_marker(table: str) -> migrations.RunPython:
    """The migration operation that keeps ``table.change_xid`` up to date."""
    forward, backward = _install(table)
    return migrations.RunPython(forward, backward)


# --- Reading the feed ---------------------------------------------------------------


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a feed: after the row ``pk`` written by transaction ``xid``."""

    xid: int
    pk: int

    def __str__(self) -> str:
        return f"{self.xid}.{self.pk}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        xid, dot, pk = text.strip().partition(".")
        if not dot or not xid.isdigit() or not pk.isdigit() or len(text) > 41:
            raise BadCursor(
                f"{text[:50]!r} is not a cursor of this feed: send the 'cursor' value "
                "of the page before, or leave changed_after out to start from the beginning."
            )
        return cls(int(xid), int(pk))


def committed_before_running(vendor: str) -> RawSQL | None:
    """The bound below which every writing transaction has ended, or None
    when the database writes one transaction at a time (SQLite)."""
    if vendor != "postgresql":
        return None
    return RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])


def changes_after(
    queryset: models.QuerySet, *, after: Cursor | None, limit: int
) -> tuple[list[models.Model], Cursor | None]:
    """Up to ``limit`` rows written after ``after``, oldest change first, and
    the cursor after the last one (``after`` itself when none is new)."""
    rows = queryset.order_by(CHANGE_MARKER, "pk")
    bound = committed_before_running(connections[queryset.db].vendor)
    if bound is not None:
        rows = rows.filter(change_xid__lt=bound)
    if after is not None:
        rows = rows.filter(
            models.Q(change_xid__gt=after.xid) | models.Q(change_xid=after.xid, pk__gt=after.pk)
        )
    page = list(rows[:limit])
    if page:
        last = page[-1]
        return page, Cursor(getattr(last, CHANGE_MARKER), last.pk)
    return page, after
