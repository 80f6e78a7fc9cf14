"""Recording changes in the audit trail."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from handoff.models import AuditEntry


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-safe copy of a row's concrete field values, for diffing."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    raw = {name: getattr(instance, name) for name in names}
    return json.loads(json.dumps(raw, cls=DjangoJSONEncoder))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def describe_changes(changes: dict[str, list[Any]]) -> str:
    """The changes in words: "points 30 → 40; window days 30 → 60".

    An added row lists what it was given, a deleted one what it had, leaving
    out what is empty, so nobody reads ids, nulls or JSON brackets."""
    if not changes:
        return ""
    olds = [old for old, _ in changes.values()]
    news = [new for _, new in changes.values()]
    if all(old is None for old in olds):
        given = [f"{_label(name)} {_value(new)}" for name, (_, new) in changes.items() if new]
        return "added with " + ", ".join(given) if given else "added"
    if all(new is None for new in news):
        had = [f"{_label(name)} {_value(old)}" for name, (old, _) in changes.items() if old]
        return "deleted; it had " + ", ".join(had) if had else "deleted"
    return "; ".join(
        f"{_label(name)} {_value(old)} → {_value(new)}" for name, (old, new) in changes.items()
    )


def summary(entry: AuditEntry) -> str:
    """One line for the trail: "Demo request: points 30 → 40"."""
    changes = describe_changes(entry.changes)
    if entry.note and changes:
        return f"{entry.note}: {changes}"
    return entry.note or changes


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ")


def _value(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{_label(str(k))} {_value(v)}" for k, v in value.items())
    return str(value)


def record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AuditEntry:
    """Adds one entry to the audit trail (in the caller's transaction). The
    actor's username is copied onto it: the entry keeps it whatever later
    happens to the account."""
    person = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=person,
        actor_name=person.get_username() if person is not None else "",
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        changes=changes or {},
        note=note[:500],
    )
