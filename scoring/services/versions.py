"""The life of a scoring model version: draft → submitted → approved →
published → archived. Marketing ops draft and submit; a sales manager
approves (the MQL definition is joint); marketing ops publish."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from handoff import audit
from handoff.errors import DomainError
from handoff.models import NoticeKind
from handoff.notices.services import notify
from handoff.roles import SALES_MANAGER
from scoring.events import announce_published
from scoring.models import (
    CommitteeRole,
    JobStatus,
    ModelStatus,
    RescoreJob,
    Rule,
    ScoringModel,
)

COPIED_SETTINGS = [
    "threshold",
    "min_fit",
    "min_engagement",
    "grade_a_min",
    "grade_b_min",
    "grade_c_min",
    "fit_floor",
    "fit_ceiling",
    "engagement_floor",
    "engagement_ceiling",
    "total_floor",
    "total_ceiling",
    "account_contact_cap",
    "account_engaged_at",
    "account_min_fit",
    "account_min_engagement",
    "account_min_engaged_contacts",
    "account_min_coverage",
]
COPIED_RULE_FIELDS = [
    "layer",
    "name",
    "position",
    "field",
    "operator",
    "value",
    "points",
    "description",
    "activity_kinds",
    "url_pattern",
    "property_conditions",
    "window_days",
    "cap",
    "half_life_days",
]


def _locked(model: ScoringModel) -> ScoringModel:
    return ScoringModel.objects.select_for_update().get(pk=model.pk)


def _require(model: ScoringModel, *statuses: str, to: str) -> None:
    if model.status not in statuses:
        raise DomainError(
            f"v{model.version} is {model.get_status_display().lower()}; "
            f"only a version that is {' or '.join(statuses)} can be {to}."
        )


def next_version() -> int:
    return (ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1


@transaction.atomic
def clone_model(*, source: ScoringModel, by: User | None, name: str | None = None) -> ScoringModel:
    """A new draft with the settings, sources and rules of ``source``."""
    draft = ScoringModel.objects.create(
        name=name or source.name,
        version=next_version(),
        based_on=source,
        created_by=by,
        **{f: getattr(source, f) for f in COPIED_SETTINGS},
    )
    draft.eligible_sources.set(source.eligible_sources.all())
    Rule.objects.bulk_create(
        Rule(model=draft, **{f: getattr(rule, f) for f in COPIED_RULE_FIELDS})
        for rule in source.rules.all()
    )
    CommitteeRole.objects.bulk_create(
        CommitteeRole(
            model=draft,
            name=role.name,
            title_pattern=role.title_pattern,
            department_pattern=role.department_pattern,
            position=role.position,
        )
        for role in source.committee_roles.all()
    )
    audit.record(actor=by, action="created", obj=draft, note=f"cloned from v{source.version}")
    return draft


@transaction.atomic
def submit_model(*, model: ScoringModel, by: User) -> ScoringModel:
    """Sends a draft for approval. Every rule is checked again first."""
    model = _locked(model)
    _require(model, ModelStatus.DRAFT, to="submitted")
    rules = list(model.rules.all())
    if not rules:
        raise DomainError("A version needs at least one rule before it is submitted.")
    for rule in rules:
        rule.full_clean()
    model.status, model.submitted_by, model.submitted_at = ModelStatus.SUBMITTED, by, timezone.now()
    model.save(update_fields=["status", "submitted_by", "submitted_at"])
    audit.record(
        actor=by,
        action="submitted",
        obj=model,
        changes={"status": [ModelStatus.DRAFT, ModelStatus.SUBMITTED]},
    )
    _tell_managers(model, by=by)
    return model


def _tell_managers(model: ScoringModel, *, by: User) -> None:
    """Every sales manager hears that a version awaits their approval (the
    definition is joint), once per submission."""
    who = by.get_full_name() or by.username
    link = reverse("admin:scoring_scoringmodel_change", args=[model.pk])
    assert model.submitted_at is not None
    for manager in User.objects.filter(groups__name=SALES_MANAGER, is_active=True).exclude(
        pk=by.pk
    ):
        notify(
            user=manager,
            kind=NoticeKind.APPROVAL,
            text=f"{who} submitted v{model.version} {model.name} of the MQL definition: "
            "it awaits your approval.",
            link=link,
            about=f"scoringmodel:{model.pk}:{model.submitted_at.isoformat()}",
        )


@transaction.atomic
def return_to_draft(*, model: ScoringModel, by: User, reason: str = "") -> ScoringModel:
    """Takes a submitted or approved version back to draft, to be edited."""
    model = _locked(model)
    _require(model, ModelStatus.SUBMITTED, ModelStatus.APPROVED, to="returned to draft")
    before = model.status
    model.status = ModelStatus.DRAFT
    model.submitted_by = model.submitted_at = model.approved_by = model.approved_at = None
    model.save(
        update_fields=["status", "submitted_by", "submitted_at", "approved_by", "approved_at"]
    )
    audit.record(
        actor=by,
        action="returned to draft",
        obj=model,
        changes={"status": [before, ModelStatus.DRAFT]},
        note=reason,
    )
    return model


@transaction.atomic
def approve_model(*, model: ScoringModel, by: User) -> ScoringModel:
    """A sales manager approves a submitted version.

    The definition is joint: the person who submitted it cannot approve it.
    """
    if not by.has_perm("scoring.approve_scoringmodel"):
        raise DomainError("Only a sales manager can approve a scoring model version.")
    model = _locked(model)
    _require(model, ModelStatus.SUBMITTED, to="approved")
    if model.submitted_by_id == by.pk:
        raise DomainError("The person who submitted a version cannot also approve it.")
    model.status, model.approved_by, model.approved_at = ModelStatus.APPROVED, by, timezone.now()
    model.save(update_fields=["status", "approved_by", "approved_at"])
    audit.record(
        actor=by,
        action="approved",
        obj=model,
        changes={"status": [ModelStatus.SUBMITTED, ModelStatus.APPROVED]},
    )
    return model


@transaction.atomic
def publish_model(*, model: ScoringModel, by: User | None) -> RescoreJob:
    """Makes an approved version live, archives the previous one, and starts a
    rescore of every lead in the background. Returns the rescore job."""
    from scoring.services.jobs import start_rescore

    if by is not None and not by.has_perm("scoring.publish_scoringmodel"):
        raise DomainError("Only marketing ops can publish a scoring model version.")
    model = _locked(model)
    _require(model, ModelStatus.APPROVED, to="published")
    now = timezone.now()
    for previous in ScoringModel.objects.select_for_update().filter(status=ModelStatus.PUBLISHED):
        previous.status, previous.archived_at = ModelStatus.ARCHIVED, now
        previous.save(update_fields=["status", "archived_at"])
        RescoreJob.objects.filter(model=previous, status=JobStatus.RUNNING).update(
            status=JobStatus.CANCELLED, finished_at=now
        )
        audit.record(
            actor=by,
            action="archived",
            obj=previous,
            changes={"status": [ModelStatus.PUBLISHED, ModelStatus.ARCHIVED]},
        )
    model.status, model.published_by, model.published_at = ModelStatus.PUBLISHED, by, now
    model.save(update_fields=["status", "published_by", "published_at"])
    audit.record(
        actor=by,
        action="published",
        obj=model,
        changes={"status": [ModelStatus.APPROVED, ModelStatus.PUBLISHED]},
    )
    announce_published(model=model)
    return start_rescore(model=model, reason=RescoreJob.Reason.PUBLISH, by=by)
