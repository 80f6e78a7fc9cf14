"""Editing a version: its settings and its rules. Only a draft changes.

Every change is recorded in the audit trail against the version it belongs to
(rules included, with the rule named in the note), with the field-level diff:
the history of a version reads in one place, even for rules deleted since.
Each function locks the version's row first, so a version cannot be submitted
or published half-way through an edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from handoff import audit
from handoff.errors import ConflictError, DomainError
from leads.models import LeadSource
from scoring.models import CommitteeRole, ModelStatus, Rule, ScoringModel
from scoring.services.versions import COPIED_RULE_FIELDS, COPIED_SETTINGS

MODEL_SETTINGS = ["name", "notes", *COPIED_SETTINGS]
SOURCES = "eligible_sources"
RULE_FIELDS = COPIED_RULE_FIELDS
COMMITTEE_ROLE_FIELDS = ["name", "title_pattern", "department_pattern", "position"]
# (low, high) pairs that must not cross, with the field that gets the message.
BOUNDS = [
    ("fit_floor", "fit_ceiling"),
    ("engagement_floor", "engagement_ceiling"),
    ("total_floor", "total_ceiling"),
]


def _locked(model: ScoringModel) -> ScoringModel:
    return ScoringModel.objects.select_for_update().get(pk=model.pk)


def refuse_unless_draft(model: ScoringModel) -> None:
    """Raises DomainError saying how to change a version that is not a draft."""
    if model.status == ModelStatus.DRAFT:
        return
    if model.status in (ModelStatus.SUBMITTED, ModelStatus.APPROVED):
        how = "return it to draft to change it"
    else:
        how = "clone it into a new draft to change it"
    raise DomainError(f"v{model.version} is {model.status}; {how}.")


def _require_permission(by: User | None, permission: str, message: str) -> None:
    # None is the system (a command, a migration): it is trusted.
    if by is not None and not by.has_perm(permission):
        raise DomainError(message)


def check_model_settings(model: ScoringModel) -> None:
    """Raises ValidationError naming the setting that is wrong: bounds that
    cross, or grade bands out of order."""
    errors: dict[str, str] = {}
    for low, high in BOUNDS:
        if getattr(model, low) > getattr(model, high):
            errors[high] = f"The ceiling must be at least the floor ({getattr(model, low)})."
    if not model.grade_a_min >= model.grade_b_min >= model.grade_c_min:
        errors["grade_b_min"] = "Grades go down: A from at least B's fit, B from at least C's."
    if errors:
        raise ValidationError(errors)


def _settings_snapshot(model: ScoringModel) -> dict[str, Any]:
    state = audit.snapshot(model, MODEL_SETTINGS)
    state[SOURCES] = sorted(model.eligible_sources.values_list("slug", flat=True))
    return state


@transaction.atomic
def update_model_settings(*, model: ScoringModel, by: User | None, **fields: Any) -> ScoringModel:
    """Changes a draft's settings (name, notes, thresholds, grade bands, bounds)
    and, given ``eligible_sources``, the sources whose leads may become MQLs.

    Refuses (DomainError) unless the version is a draft, and (ValidationError)
    settings that do not hold together. Records one audit entry with the diff
    when anything changed; with no fields it only checks the version is a draft.
    Returns the version as stored.
    """
    unknown = sorted(set(fields) - {*MODEL_SETTINGS, SOURCES})
    if unknown:
        raise TypeError(f"update_model_settings() cannot set {', '.join(unknown)}")
    _require_permission(
        by, "scoring.change_scoringmodel", "Only marketing ops can change a scoring model version."
    )
    model = _locked(model)
    refuse_unless_draft(model)
    before = _settings_snapshot(model)
    sources: list[LeadSource] | None = fields.pop(SOURCES, None)
    for name, value in fields.items():
        setattr(model, name, value)
    model.full_clean(exclude=[SOURCES])
    check_model_settings(model)
    if fields:
        model.save(update_fields=list(fields))
    if sources is not None:
        model.eligible_sources.set(sources)
    changes = audit.diff(before, _settings_snapshot(model))
    if changes:
        audit.record(actor=by, action="changed", obj=model, changes=changes)
    return model


@dataclass(frozen=True)
class _DraftPart:
    """What differs between the parts of a draft (rules, committee roles)
    that are saved and deleted with the same guards and audit entries."""

    model: type[Rule] | type[CommitteeRole]
    fields: list[str]
    what: str  # "rule", "committee role": in audit actions and messages
    refused: str  # the message for someone who may not change it
    stays: str  # the message for an attempt to move it to another version
    note: Callable[[Any], str]


RULES = _DraftPart(
    model=Rule,
    fields=RULE_FIELDS,
    what="rule",
    refused="Only marketing ops can change scoring rules.",
    stays="A rule stays in its version; add a new rule to the other one.",
    # The rule's name, not its id: the trail reads "Demo request: points 30 → 40".
    note=lambda rule: rule.name,
)
COMMITTEE_ROLES = _DraftPart(
    model=CommitteeRole,
    fields=COMMITTEE_ROLE_FIELDS,
    what="committee role",
    refused="Only marketing ops can change a version's buying committee.",
    stays="A committee role stays in its version.",
    note=lambda role: role.name,
)


def _permission(part: _DraftPart, action: str) -> str:
    return f"scoring.{action}_{part.model._meta.model_name}"


def _save_part(part: _DraftPart, row: Any, by: User | None) -> Any:
    adding = row._state.adding
    _require_permission(by, _permission(part, "add" if adding else "change"), part.refused)
    model = _locked(row.model)
    refuse_unless_draft(model)
    before: dict[str, Any] = {}
    if not adding:
        stored = part.model.objects.filter(pk=row.pk).first()
        if stored is None:
            raise ConflictError(
                f"{part.what.capitalize()} “{row.name}” was deleted meanwhile; nothing was saved."
            )
        if stored.model_id != model.pk:
            raise DomainError(part.stays)
        before = audit.snapshot(stored, part.fields)
    row.full_clean()
    row.save()
    changes = audit.diff(before, audit.snapshot(row, part.fields))
    if adding or changes:
        audit.record(
            actor=by,
            action=f"{part.what} {'added' if adding else 'changed'}",
            obj=model,
            changes=changes,
            note=part.note(row),
        )
    return row


def _delete_part(part: _DraftPart, row: Any, by: User | None) -> None:
    _require_permission(by, _permission(part, "delete"), part.refused)
    model = _locked(row.model)
    refuse_unless_draft(model)
    stored = part.model.objects.filter(pk=row.pk, model=model).first()
    if stored is None:
        return
    before = audit.snapshot(stored, part.fields)
    note = part.note(stored)
    stored.delete()
    audit.record(
        actor=by,
        action=f"{part.what} deleted",
        obj=model,
        changes=audit.diff(before, dict.fromkeys(before)),
        note=note,
    )


@transaction.atomic
def save_rule(*, rule: Rule, by: User | None) -> Rule:
    """Adds a rule to a draft, or stores the changes made to one of its rules.

    The rule is validated as a whole first (``Rule.clean``: field, operator and
    value fit together; patterns mean the same on both scoring paths). Refuses
    unless the version is a draft, and refuses to move a rule to another
    version. Records an audit entry on the version with the rule's diff.
    """
    return _save_part(RULES, rule, by)


@transaction.atomic
def delete_rule(*, rule: Rule, by: User | None) -> None:
    """Deletes a draft's rule, recording what it was in the audit trail.

    Refuses unless the version is a draft. Deleting a rule that is already
    gone does nothing (a repeated request is harmless).
    """
    _delete_part(RULES, rule, by)


@transaction.atomic
def save_committee_role(*, role: CommitteeRole, by: User | None) -> CommitteeRole:
    """Adds a buying-committee role to a draft, or stores changes to one, with
    the same guards and audit entry as a rule: the committee decides which
    accounts qualify, so it is part of what gets reviewed and approved."""
    return _save_part(COMMITTEE_ROLES, role, by)


@transaction.atomic
def delete_committee_role(*, role: CommitteeRole, by: User | None) -> None:
    """Deletes a draft's committee role, recording what it was. Deleting one
    that is already gone does nothing."""
    _delete_part(COMMITTEE_ROLES, role, by)


@transaction.atomic
def discard_draft(*, model: ScoringModel, by: User | None) -> None:
    """Deletes a draft and its rules. Any other version is history and stays."""
    _require_permission(
        by, "scoring.delete_scoringmodel", "Only marketing ops can discard a draft."
    )
    model = _locked(model)
    if model.status != ModelStatus.DRAFT:
        raise DomainError(f"v{model.version} is {model.status}; only a draft can be discarded.")
    audit.record(
        actor=by,
        action="discarded",
        obj=model,
        note=f"draft v{model.version} with {model.rules.count()} rules",
    )
    model.delete()
