"""A person's data on request: erased (replaced by a pseudonym) or exported.

A person is a lead. Erasing rewrites every text that names them — the lead's
personal fields, its activities' URLs and properties, the notices, audit
entries, merge records, admin history and import errors that quote them, and
the rows of kept import files — and leaves every count, score, stage and
outcome as it was, so the dashboards and recalibration's evidence do not move.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast

from feedback.models import Opportunity, SQLQualification
from handoff import audit
from handoff.errors import DomainError
from handoff.models import AuditEntry, Notice
from leads.models import Activity, DuplicateCandidate, ImportJob, Lead, LeadMerge, StageChange
from privacy.models import Erasure
from routing.models import Assignment, Touch
from scoring.models import LeadScore, MQLSnapshot

# Names shorter than this are not looked for on their own ("Al" is in too many words).
SHORTEST_NAME = 3


@dataclass(frozen=True)
class Identifiers:
    """How a person may be quoted: ``strong`` ones (email, full name, phone,
    external id) find the rows that name them anywhere; ``all`` of them,
    first and last names alone too, are replaced inside rows that do."""

    strong: tuple[str, ...]
    all: tuple[str, ...]

    @classmethod
    def of(cls, lead: Lead) -> Identifiers:
        plain = [lead.email or "", lead.full_name, lead.phone, lead.external_id or ""]
        names = [lead.first_name, lead.last_name]
        # Duplicates merged into this lead were the same person, under their own identifiers.
        for merged in LeadMerge.objects.filter(survivor=lead).values_list(
            "merged_email", "merged_snapshot"
        ):
            email, snapshot = merged
            fields = snapshot if isinstance(snapshot, dict) else {}
            first, last = str(fields.get("first_name") or ""), str(fields.get("last_name") or "")
            plain += [email, str(fields.get("phone") or ""), str(fields.get("email") or "")]
            plain += [str(fields.get("external_id") or ""), f"{first} {last}".strip()]
            names += [first, last]
        # As URLs carry them: percent-encoded, spaces as + or %20.
        encoded = [form(value) for value in plain for form in (quote, quote_plus)]
        strong = _distinct(v for v in plain + encoded if len(v) >= SHORTEST_NAME)
        return cls(
            strong=strong,
            all=_distinct([*strong, *(n for n in names if len(n) >= SHORTEST_NAME)]),
        )


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value, None)
    # Longest first, so "Ada Lovelace" is replaced whole before "Ada" alone.
    return tuple(sorted(seen, key=len, reverse=True))


def _replacer(needles: tuple[str, ...], pseudonym: str) -> Callable[[Any], Any]:
    # Not inside a longer word: "Ada" is replaced in "Ada," but not in "Adams".
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(n) for n in needles) + r")(?!\w)", re.IGNORECASE
    )

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(pseudonym, value)
        if isinstance(value, list):
            return [replace(item) for item in value]
        if isinstance(value, dict):
            return {replace(key): replace(item) for key, item in value.items()}
        return value

    return replace


def _quoting(columns: list[str], needles: tuple[str, ...], model: type[models.Model]) -> Q:
    """Rows with any of ``needles`` in any of ``columns`` (JSON read as its text)."""
    condition = Q()
    for column in columns:
        field = model._meta.get_field(column)
        lookup = f"{column}_text" if isinstance(field, models.JSONField) else column
        for needle in needles:
            condition |= Q(**{f"{lookup}__icontains": needle})
    return condition


def _rewrite(
    queryset: models.QuerySet,
    columns: list[str],
    *,
    find: tuple[str, ...],
    replace: Callable[[Any], Any],
) -> int:
    """Rewrites ``columns`` of the rows of ``queryset`` that quote the person;
    returns how many rows changed."""
    if not find:
        # Nothing to look for (a person known only by a one-letter id): an empty
        # condition would match, and an empty pattern rewrite, every row.
        return 0
    model = queryset.model
    json_columns = [c for c in columns if isinstance(model._meta.get_field(c), models.JSONField)]
    annotated = queryset.annotate(
        **{f"{c}_text": Cast(c, models.TextField()) for c in json_columns}
    )
    rows = list(annotated.filter(_quoting(columns, find, model)).only("pk", *columns))
    changed = []
    for row in rows:
        before = {c: getattr(row, c) for c in columns}
        after = {c: replace(v) for c, v in before.items()}
        if after != before:
            for column, value in after.items():
                setattr(row, column, value)
            changed.append(row)
    model.objects.bulk_update(changed, columns, batch_size=500)
    return len(changed)


def _rewrite_import_file(job: ImportJob, find: tuple[str, ...], replace: Callable) -> bool:
    """Rewrites the rows of a kept import file that quote the person; True if any did."""
    try:
        with job.file.open("rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return False  # gone already (retention), or not text this could have read
    lowered = text.lower()
    if not find or not any(needle.lower() in lowered for needle in find):
        return False
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow([replace(cell) for cell in row])
    name = str(job.file.name)
    job.file.storage.delete(name)
    job.file.storage.save(name, ContentFile(out.getvalue().encode("utf-8")))
    return True


@transaction.atomic
def erase_person(*, lead: Lead, by: User, request_reference: str) -> Erasure:
    """Replaces everything that identifies the person behind ``lead`` with a
    pseudonym, in one transaction, and records the erasure (who, when, which
    request). Counts, scores, stages and outcomes stay as they were, and
    nothing is rescored. Refused while the lead is under a legal hold, or when
    the request is not named."""
    request_reference = request_reference.strip()
    if not request_reference:
        raise DomainError("Name the request this erasure answers (a ticket, a letter's date).")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.legal_hold:
        raise DomainError(
            f"Lead #{lead.pk} is under a legal hold: it cannot be erased until the hold is lifted."
        )
    if lead.erasures.exists():
        raise DomainError(f"Lead #{lead.pk} was already erased.")

    ids = Identifiers.of(lead)
    erasure = Erasure.objects.create(
        lead=lead,
        pseudonym=f"pending-{lead.pk}",
        request_reference=request_reference[:200],
        erased_by=by,
        erased_by_name=by.get_username(),
    )
    pseudonym = f"erased-{erasure.pk}"
    replace = _replacer(ids.all, pseudonym)
    rows: dict[str, int] = {}

    def count(label: str, n: int) -> None:
        if n:
            rows[label] = rows.get(label, 0) + n

    # The lead's own identifiers go; what scoring and routing read stays.
    lead.email = None
    lead.external_id = pseudonym
    lead.first_name = lead.last_name = lead.phone = ""
    lead.attributes = replace(lead.attributes)
    lead.save(
        update_fields=["email", "external_id", "first_name", "last_name", "phone", "attributes"]
    )
    count("lead", 1)

    # Pairs proposed as duplicates quote the person's mailbox, phone or name
    # (normalised, so not found by the identifiers as written). They are
    # derived: deleted, and never found again once the identifiers are gone.
    pairs, _ = DuplicateCandidate.objects.filter(Q(first=lead) | Q(second=lead)).delete()
    count("duplicate pair", pairs)

    # The lead's own rows: all its identifiers, first and last names alone too.
    own: list[tuple[str, models.QuerySet, list[str]]] = [
        ("activity", Activity.objects.filter(lead=lead), ["url", "properties", "external_id"]),
        ("stage change", StageChange.objects.filter(lead=lead), ["reason"]),
        ("merge", LeadMerge.objects.filter(survivor=lead), ["merged_email", "merged_snapshot"]),
        ("score", LeadScore.objects.filter(lead=lead), ["explanation"]),
        (
            "MQL snapshot",
            MQLSnapshot.objects.filter(lead=lead),
            ["explanation", "crossing_note"],
        ),
        ("assignment", Assignment.objects.filter(lead=lead), ["why", "waiting_reason"]),
        ("touch", Touch.objects.filter(assignment__lead=lead), ["note"]),
        (
            "SQL qualification",
            SQLQualification.objects.filter(lead=lead),
            ["budget", "authority", "need", "timeline"],
        ),
        ("opportunity", Opportunity.objects.filter(lead=lead), ["name"]),
    ]
    about = Q(content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk))
    for label, queryset, columns in own:
        count(label, _rewrite(queryset, columns, find=ids.all, replace=replace))
        kind = ContentType.objects.get_for_model(queryset.model)
        object_ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        about |= Q(content_type=kind, object_id__in=object_ids)

    # What the trail, the admin's history and notices say about those rows:
    # every identifier, first and last names alone too.
    assignments = Assignment.objects.filter(lead=lead).values_list("pk", flat=True)
    about_rows: list[tuple[str, models.QuerySet, list[str]]] = [
        ("audit entry", AuditEntry.objects.filter(about), ["object_repr", "changes", "note"]),
        ("admin history", LogEntry.objects.filter(about), ["object_repr", "change_message"]),
        (
            "notice",
            Notice.objects.filter(about__in=[f"assignment:{pk}" for pk in assignments]),
            ["text"],
        ),
    ]
    for label, queryset, columns in about_rows:
        count(label, _rewrite(queryset, columns, find=ids.all, replace=replace))

    # Rows of every kind that may quote anyone: found by the strong identifiers.
    shared: list[tuple[str, models.QuerySet, list[str]]] = [
        ("notice", Notice.objects.all(), ["text"]),
        ("audit entry", AuditEntry.objects.all(), ["object_repr", "changes", "note"]),
        ("admin history", LogEntry.objects.all(), ["object_repr", "change_message"]),
        ("import", ImportJob.objects.all(), ["errors", "message"]),
    ]
    for label, queryset, columns in shared:
        count(label, _rewrite(queryset, columns, find=ids.strong, replace=replace))

    files = sum(
        _rewrite_import_file(job, ids.strong, replace)
        for job in ImportJob.objects.exclude(file="").only("pk", "file")
    )

    erasure.pseudonym = pseudonym
    erasure.rows = rows
    erasure.files = files
    erasure.save(update_fields=["pseudonym", "rows", "files"])
    audit.record(
        actor=by,
        action="erased",
        obj=lead,
        note=f"Erased on request {erasure.request_reference} as {pseudonym}.",
    )
    return erasure


def export_person(*, lead: Lead) -> dict[str, Any]:
    """Everything Handoff holds about the person behind ``lead``, as data
    ready for JSON: the lead and each kind of row about it, each row with
    every field."""
    lead = Lead.objects.select_related("account", "source", "owner").get(pk=lead.pk)
    ids = Identifiers.of(lead)
    assignment_ids = list(Assignment.objects.filter(lead=lead).values_list("pk", flat=True))
    related: dict[str, models.QuerySet] = {
        "activities": Activity.objects.filter(lead=lead).order_by("occurred_at", "id"),
        "stage_changes": StageChange.objects.filter(lead=lead).order_by("changed_at", "id"),
        "merges": LeadMerge.objects.filter(survivor=lead).order_by("merged_at", "id"),
        "scores": LeadScore.objects.filter(lead=lead),
        "mql_snapshots": MQLSnapshot.objects.filter(lead=lead).order_by("created_at", "id"),
        "assignments": Assignment.objects.filter(lead=lead).order_by("created_at", "id"),
        "touches": Touch.objects.filter(assignment__lead=lead).order_by("at", "id"),
        "sql_qualifications": SQLQualification.objects.filter(lead=lead).order_by("id"),
        "opportunities": Opportunity.objects.filter(lead=lead).order_by("id"),
        "audit_entries": AuditEntry.objects.filter(
            Q(object_id=str(lead.pk), content_type__model="lead", content_type__app_label="leads")
            | (_quoting(["object_repr", "note"], ids.strong, AuditEntry) if ids.strong else Q())
        ).order_by("at", "id"),
        "notices": Notice.objects.filter(
            Q(about__in=[f"assignment:{pk}" for pk in assignment_ids])
            | (_quoting(["text"], ids.strong, Notice) if ids.strong else Q(pk__in=[]))
        ).order_by("created_at", "id"),
        "erasures": Erasure.objects.filter(lead=lead).order_by("erased_at", "id"),
    }
    return {
        "lead": _rows([lead])[0],
        "account": _rows([lead.account])[0] if lead.account else None,
        **{name: _rows(queryset) for name, queryset in related.items()},
    }


def _rows(objects: Iterable[models.Model]) -> list[dict[str, Any]]:
    """Each row as {"model", "id", every field}, as JSON would carry it."""
    out = json.loads(serializers.serialize("json", objects))
    return [{"model": row["model"], "id": row["pk"], **row["fields"]} for row in out]


def move_merged_lead(*, survivor_id: int, duplicate_id: int) -> None:
    """Inside a merge (``leads.signals.lead_merging``): the record of an
    erasure done on the duplicate moves to the survivor, the lead that person
    now is. (Its pseudonym stays in the merge record's copy of the duplicate.)"""
    Erasure.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
