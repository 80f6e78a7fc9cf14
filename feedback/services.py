"""Every write with business meaning in feedback: an SDR's SQL qualification,
and the opportunities the CRM reports (created, updated, won, lost).

Both move the lead's stage only through ``leads.services.change_stage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from feedback import rollup
from feedback.events import announce_outcome, announce_sql
from feedback.models import Opportunity, SQLQualification
from handoff import audit
from handoff.errors import DomainError
from leads.models import Lead, Stage, StageChange
from leads.services import change_stage
from routing.models import Assignment, AssignmentStatus, Touch

BANT_MAX_LENGTH = 300

# Stages from which an opportunity moves the lead to OPPORTUNITY, and stages
# already at or past it (a further opportunity for the same person moves nothing).
OPENS_FROM = frozenset({Stage.SAL, Stage.SQL})
IN_PIPELINE = frozenset({Stage.OPPORTUNITY, Stage.WON, Stage.LOST})
CLOSED = frozenset({Opportunity.Status.WON, Opportunity.Status.LOST})
AUDITED = ["lead_id", "name", "amount", "currency", "status", "created_on", "closed_on"]
CENTS = Decimal("0.01")
LARGEST_AMOUNT = Decimal("999999999999.99")  # the column's 14 digits, 2 of them decimals


# --- SQL -------------------------------------------------------------------------------------


def accepted_by(lead: Lead) -> int | None:
    """The id of the SDR who owns the lead: the one whose assignment of it was
    accepted last (a lead recycled and accepted again belongs to the second)."""
    return (
        Assignment.objects.filter(lead=lead, status=AssignmentStatus.ACCEPTED)
        .order_by("-closed_at", "-pk")
        .values_list("sdr_id", flat=True)
        .first()
    )


@transaction.atomic
def qualify_sql(
    *, lead: Lead, by: User, budget: str, authority: str, need: str, timeline: str
) -> SQLQualification:
    """The SDR who accepted a lead records that it is a sales-qualified lead (BANT).

    Guarantees: only a SAL, and only by the SDR whose accepted assignment owns
    it (DomainError otherwise, naming the field for a blank answer); the stage
    moves SAL -> SQL and the qualification is recorded in the same
    transaction, or neither; two submissions at once qualify it once (the
    second gets a ConflictError: the lead is locked and no longer a SAL).
    """
    answers = {"budget": budget, "authority": authority, "need": need, "timeline": timeline}
    for name, value in answers.items():
        answers[name] = value.strip()
        if not answers[name]:
            raise DomainError(f"Say what you learned about the {name}.", field=name)
        if len(answers[name]) > BANT_MAX_LENGTH:
            raise DomainError(f"Keep the {name} under {BANT_MAX_LENGTH} characters.", field=name)
    if accepted_by(lead) != by.pk:
        raise DomainError("Only the SDR who accepted this lead can mark it as an SQL.")
    if lead.stage != Stage.SAL:
        raise DomainError(
            f"This lead is {lead.get_stage_display()}: only a sales accepted lead (SAL) "
            "can become an SQL."
        )
    # expected_from: if someone moved the lead since it was read, this refuses.
    change_stage(
        lead=lead,
        to_stage=Stage.SQL,
        by=by,
        reason="Qualified as SQL (BANT)",
        expected_from=Stage.SAL,
    )
    qualification = SQLQualification.objects.create(lead=lead, qualified_by=by, **answers)
    audit.record(
        actor=by, action="qualified", obj=qualification, changes={"stage": [Stage.SAL, Stage.SQL]}
    )
    announce_sql(qualification)
    return qualification


# --- Opportunities -------------------------------------------------------------------------


@dataclass(frozen=True)
class OpportunityResult:
    opportunity: Opportunity
    created: bool
    changed: bool  # False when the same payload arrived again


def _normalised(
    *,
    crm_id: str,
    amount: Decimal | int | str,
    currency: str,
) -> tuple[str, Decimal, str]:
    return crm_id.strip(), Decimal(str(amount)), currency.strip().upper()


def _check(
    *,
    crm_id: str,
    lead: Lead,
    amount: Decimal,
    status: str,
    created_on: date,
    closed_on: date | None,
    currency: str,
    existing: Opportunity | None,
) -> None:
    if not crm_id:
        raise DomainError("Give the CRM's id of the opportunity.", field="crm_id")
    if status not in Opportunity.Status.values:
        raise DomainError(f"Unknown status {status!r}: use open, won or lost.", field="status")
    if amount < 0:
        raise DomainError("The amount cannot be negative.", field="amount")
    if amount > LARGEST_AMOUNT or amount != amount.quantize(CENTS):
        raise DomainError(
            f"Give the amount in cents at most, up to {LARGEST_AMOUNT}.", field="amount"
        )
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise DomainError("Give the currency as a three-letter code such as USD.", field="currency")
    if status in CLOSED and closed_on is None:
        raise DomainError("A won or lost opportunity needs its close date.", field="closed_on")
    if status == Opportunity.Status.OPEN and closed_on is not None:
        raise DomainError("An open opportunity has no close date.", field="closed_on")
    if closed_on is not None and closed_on < created_on:
        raise DomainError("The close date cannot be before the creation date.", field="closed_on")
    if existing is None:
        stage = Lead.objects.filter(pk=lead.pk).values_list("stage", flat=True).first()
        if stage not in OPENS_FROM | IN_PIPELINE:
            raise DomainError(
                f"This lead is {Stage(stage).label if stage else 'gone'}: an opportunity can "
                "only be opened for a sales accepted (SAL) or qualified (SQL) lead.",
                field="lead",
            )
        return
    if existing.lead_id != lead.pk:
        raise DomainError(
            f"Opportunity {crm_id} belongs to another lead (#{existing.lead_id}); "
            "an opportunity keeps its lead.",
            field="lead",
        )
    if existing.status in CLOSED and status != existing.status:
        raise DomainError(
            f"Opportunity {crm_id} is already {existing.get_status_display().lower()}; "
            "a closed opportunity stays closed.",
            field="status",
        )


def check_opportunity(
    *,
    crm_id: str,
    lead: Lead,
    amount: Decimal,
    status: str,
    created_on: date,
    closed_on: date | None = None,
    currency: str = "USD",
) -> None:
    """Raises the DomainError ``record_opportunity`` would raise for this
    payload, writing nothing: for forms that show refusals on their fields."""
    crm_id, amount, currency = _normalised(crm_id=crm_id, amount=amount, currency=currency)
    _check(
        crm_id=crm_id,
        lead=lead,
        amount=amount,
        status=status,
        created_on=created_on,
        closed_on=closed_on,
        currency=currency,
        existing=Opportunity.objects.filter(crm_id=crm_id).first(),
    )


def _move_lead(lead: Lead, opportunity: Opportunity, *, opened: bool, by: User | None) -> None:
    """The lead follows its opportunity: into OPPORTUNITY when one opens, to
    WON when one is won, to LOST when its last open one is lost."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    label = opportunity.name or opportunity.crm_id
    if opened:
        if lead.stage in OPENS_FROM:
            change_stage(
                lead=lead,
                to_stage=Stage.OPPORTUNITY,
                by=by,
                reason=f"Opportunity {label} opened in the CRM",
            )
        elif lead.stage not in IN_PIPELINE:
            raise DomainError(
                f"This lead is {lead.get_stage_display()}: an opportunity can only be opened "
                "for a sales accepted (SAL) or qualified (SQL) lead.",
                field="lead",
            )
    if opportunity.status == Opportunity.Status.WON and lead.stage == Stage.OPPORTUNITY:
        change_stage(lead=lead, to_stage=Stage.WON, by=by, reason=f"Opportunity {label} won")
    elif opportunity.status == Opportunity.Status.LOST and lead.stage == Stage.OPPORTUNITY:
        others_open = (
            Opportunity.objects.filter(lead=lead, status=Opportunity.Status.OPEN)
            .exclude(pk=opportunity.pk)
            .exists()
        )
        if not others_open:
            change_stage(lead=lead, to_stage=Stage.LOST, by=by, reason=f"Opportunity {label} lost")


@transaction.atomic
def record_opportunity(
    *,
    crm_id: str,
    lead: Lead,
    amount: Decimal,
    status: str,
    created_on: date,
    closed_on: date | None = None,
    name: str = "",
    currency: str = "USD",
    by: User | None = None,
) -> OpportunityResult:
    """Creates or updates the opportunity with this CRM id, and moves its lead.

    Guarantees: keyed by ``crm_id``, so the same payload twice changes
    nothing the second time (no write, no audit entry, no stage change);
    a new opportunity takes its lead from SAL or SQL to OPPORTUNITY (refused
    for a lead not yet accepted by sales); status won takes the lead to WON,
    lost to LOST once none of its opportunities is open; a won or lost
    opportunity needs its close date and stays closed; an opportunity keeps
    its lead. Every change is in the audit trail, and the dashboard's weeks
    it touches are recomputed by the next rollup refresh.
    """
    crm_id, amount, currency = _normalised(crm_id=crm_id, amount=amount, currency=currency)
    checked: dict[str, Any] = {
        "crm_id": crm_id,
        "lead": lead,
        "amount": amount,
        "status": status,
        "created_on": created_on,
        "closed_on": closed_on,
        "currency": currency,
    }
    # Two decimals, as the database gives it back: so that 1200 and 1200.00
    # compare equal when the same payload arrives again.
    fields = {
        "lead": lead,
        "name": name.strip(),
        "amount": amount.quantize(CENTS),
        "currency": currency,
        "status": status,
        "created_on": created_on,
        "closed_on": closed_on,
    }
    opportunity = Opportunity.objects.select_for_update().filter(crm_id=crm_id).first()
    _check(**checked, existing=opportunity)
    if opportunity is None:
        try:
            with transaction.atomic():
                opportunity = Opportunity.objects.create(crm_id=crm_id, **fields)
        except IntegrityError:
            # Two deliveries of a new opportunity at once: the other one's
            # insert won the unique index; lock its row and update that.
            opportunity = Opportunity.objects.select_for_update().get(crm_id=crm_id)
            _check(**checked, existing=opportunity)
        else:
            _move_lead(lead, opportunity, opened=True, by=by)
            audit.record(
                actor=by,
                action="created",
                obj=opportunity,
                changes={k: [None, v] for k, v in audit.snapshot(opportunity, AUDITED).items()},
            )
            rollup.mark_weeks_changed(days=[created_on])
            announce_outcome(opportunity)
            return OpportunityResult(opportunity, created=True, changed=True)

    before = audit.snapshot(opportunity, AUDITED)
    old_created_on = opportunity.created_on
    for name_, value in fields.items():
        setattr(opportunity, name_, value)
    changes = audit.diff(before, audit.snapshot(opportunity, AUDITED))
    if not changes:
        return OpportunityResult(opportunity, created=False, changed=False)
    opportunity.save()
    if "status" in changes:
        _move_lead(lead, opportunity, opened=False, by=by)
        announce_outcome(opportunity)
    audit.record(actor=by, action="updated", obj=opportunity, changes=changes)
    rollup.mark_weeks_changed(days=[old_created_on, created_on])
    return OpportunityResult(opportunity, created=False, changed=True)


# --- Merges ----------------------------------------------------------------------------------


def move_merged_lead(*, survivor_id: int, duplicate_id: int) -> None:
    """The duplicate's SQL records (BANT) and opportunities become the
    survivor's; runs inside the merge (``leads.signals.lead_merging``), after
    routing moved the assignments. Every count of the dashboard stays: the
    rollup counts rows, not leads. Only its split by lead source can move
    (the rows now have the survivor's source), so when the sources differ the
    weeks those rows fall in are recounted at the next refresh."""
    SQLQualification.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
    Opportunity.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
    sources = set(
        Lead.objects.filter(pk__in=[survivor_id, duplicate_id]).values_list("source_id", flat=True)
    )
    if len(sources) < 2:
        return
    moments: list[Any] = [
        *StageChange.objects.filter(lead_id=survivor_id).values_list("changed_at", flat=True),
        *Opportunity.objects.filter(lead_id=survivor_id).values_list("created_on", flat=True),
        *Touch.objects.filter(assignment__lead_id=survivor_id).values_list("at", flat=True),
    ]
    for closed_at, first_touch_at in Assignment.objects.filter(lead_id=survivor_id).values_list(
        "closed_at", "first_touch_at"
    ):
        moments += [closed_at, first_touch_at]
    rollup.mark_weeks_changed(days=moments)
