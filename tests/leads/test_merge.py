"""Merging two leads that sales has worked keeps every row of their history,
on the survivor, at the further stage, and leaves the manager's figures as
they were."""

import dataclasses
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils import timezone

from feedback.metrics import MetricFilters, dashboard_report
from feedback.models import Opportunity, SQLQualification
from feedback.rollup import refresh_weekly_counts, week_of
from feedback.services import qualify_sql, record_opportunity
from handoff.models import AuditEntry, Notice
from leads.models import (
    DuplicateCandidate,
    DuplicateReason,
    Identity,
    Lead,
    LeadMerge,
    Stage,
    StageChange,
)
from leads.services import change_stage, lifecycle_path, merge_leads
from routing.models import Assignment, AssignmentStatus, Membership, Queue, Touch
from routing.services import join_queue, route_mql
from routing.services.decisions import accept_mql, log_touch
from scoring.models import LeadScore, MQLSnapshot, ScoringModel
from tests import factories

# Rows of which a lead has one, or that a merge settles: not history to keep.
ONE_PER_LEAD = {LeadScore, DuplicateCandidate}


def _sdr(username: str, queue: Queue) -> User:
    user = User.objects.create_user(username, password="x-long-password")
    user.groups.add(Group.objects.get(name="SDR"))
    join_queue(queue=queue, sdr=user)
    return user


def _mql(lead: Lead) -> Assignment:
    """The lead crosses (with its snapshot) and is routed to an SDR."""
    change_stage(lead=lead, to_stage=Stage.MQL, reason="test crossing")
    MQLSnapshot.objects.create(
        lead=lead,
        model=ScoringModel.objects.get(version=1),
        fit=10,
        engagement=50,
        total=60,
        grade="B",
        explanation=[],
    )
    assignment = route_mql(lead_id=lead.pk)
    assert assignment is not None and assignment.sdr is not None
    return assignment


def _lead_links() -> list[tuple[type[models.Model], str]]:
    """Every model with a foreign key to Lead, and the key's name."""
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.related_model is Lead
    ]


def _count_rows(lead_ids: list[int]) -> dict[str, int]:
    counts = {
        f"{model._meta.label}.{name}": model.objects.filter(**{f"{name}__in": lead_ids}).count()
        for model, name in _lead_links()
        if model not in ONE_PER_LEAD
    }
    counts["routing.Touch"] = Touch.objects.filter(assignment__lead_id__in=lead_ids).count()
    return counts


def _figures(filters: MetricFilters, now):
    refresh_weekly_counts(now=now, full=True)
    return dataclasses.replace(dashboard_report(filters, now=now), as_of=None)


@pytest.fixture
def worked_pair(db):
    """The survivor: an MQL with an open assignment, called once. The
    duplicate: accepted, qualified (BANT) and with an open opportunity."""
    inbound = Queue.objects.get(name="Inbound MQLs")
    first, second = _sdr("sdr-ann", inbound), _sdr("sdr-bob", inbound)
    survivor = factories.make_lead("jane@corp.io", first_name="Jane", last_name="Doe")
    duplicate = factories.make_lead("jane.doe@corp.io", title="VP Sales")
    factories.make_activity(survivor, "page_view")
    factories.make_activity(duplicate, "demo_request")
    Identity.objects.create(kind=Identity.Kind.ANONYMOUS_ID, value="anon-1", lead=duplicate)

    open_one = _mql(survivor)
    log_touch(assignment=open_one, by=open_one.sdr, kind=Touch.Kind.CALL)
    worked = _mql(duplicate)
    accept_mql(assignment=worked, by=worked.sdr)
    duplicate.refresh_from_db()
    qualify_sql(
        lead=duplicate, by=worked.sdr, budget="50k", authority="CFO", need="x", timeline="Q3"
    )
    record_opportunity(
        crm_id="OPP-1",
        lead=duplicate,
        amount=Decimal("12000"),
        status="open",
        created_on=timezone.localdate(),
    )
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert {first, second} == {open_one.sdr, worked.sdr}
    return survivor, duplicate, open_one, worked


def test_merging_worked_leads_keeps_every_row_and_the_dashboard(worked_pair, marketing_ops):
    survivor, duplicate, open_one, _worked = worked_pair
    now = timezone.now()
    filters = MetricFilters(first_week=week_of(now), last_week=week_of(now))
    before_figures = _figures(filters, now)
    before = _count_rows([survivor.pk, duplicate.pk])
    stage_changes_before = before["leads.StageChange.lead"]
    assert before["routing.Assignment.lead"] == 2
    assert before["routing.Touch"] == 2  # a call and an acceptance
    assert before["feedback.Opportunity.lead"] == 1
    assert before["feedback.SQLQualification.lead"] == 1
    assert before["scoring.MQLSnapshot.lead"] == 2

    merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    after = _count_rows([survivor.pk])
    # The merge adds its own record and the survivor's moves to the further stage.
    assert after["leads.LeadMerge.survivor"] == before["leads.LeadMerge.survivor"] + 1
    moves = lifecycle_path(Stage.MQL, Stage.OPPORTUNITY)
    assert moves == [Stage.SAL, Stage.OPPORTUNITY]
    assert after["leads.StageChange.lead"] == stage_changes_before + len(moves)
    for name in set(before) - {"leads.LeadMerge.survivor", "leads.StageChange.lead"}:
        assert after[name] == before[name], name

    survivor.refresh_from_db()
    assert survivor.stage == Stage.OPPORTUNITY
    merge_rows = StageChange.objects.filter(lead=survivor, by_merge=True).order_by("pk")
    assert [(r.from_stage, r.to_stage) for r in merge_rows] == [
        (Stage.MQL, Stage.SAL),
        (Stage.SAL, Stage.OPPORTUNITY),
    ]
    assert all(f"#{duplicate.pk}" in r.reason for r in merge_rows)
    assert survivor.title == "VP Sales"
    assert Opportunity.objects.get().lead_id == survivor.pk
    assert SQLQualification.objects.get().lead_id == survivor.pk
    assert Identity.objects.get().lead_id == survivor.pk

    # The open MQL assignment could not be decided on an opportunity: closed,
    # not as a decision, its SDR told and freed, the closing audited.
    open_one.refresh_from_db()
    assert open_one.status == AssignmentStatus.REASSIGNED
    assert open_one.lead_id == survivor.pk
    assert Membership.objects.get(sdr=open_one.sdr).open_count == 0
    assert Notice.objects.filter(user=open_one.sdr, text__contains="merged into").exists()
    assert AuditEntry.objects.filter(action="closed by merge", actor=marketing_ops).count() == 1
    assert not Assignment.objects.filter(status__in=["open", "waiting"]).exists()

    assert _figures(filters, now) == before_figures


def test_the_survivor_keeps_one_open_assignment_the_one_an_sdr_holds(db, marketing_ops):
    inbound = Queue.objects.get(name="Inbound MQLs")
    _sdr("sdr-ann", inbound)
    survivor, duplicate = factories.make_lead(), factories.make_lead()
    change_stage(lead=survivor, to_stage=Stage.MQL)
    waiting = Assignment.objects.create(lead=survivor, queue=inbound, status="waiting")
    held = _mql(duplicate)

    merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.status, held.lead_id) == (AssignmentStatus.OPEN, survivor.pk)
    assert waiting.status == AssignmentStatus.REASSIGNED
    survivor.refresh_from_db()
    assert survivor.stage == Stage.MQL
    assert not StageChange.objects.filter(by_merge=True).exists()


def test_the_survivor_keeps_its_score_and_takes_one_it_lacks(db, marketing_ops):
    survivor, duplicate = factories.make_lead(), factories.make_lead()
    model = ScoringModel.objects.get(version=1)
    LeadScore.objects.create(
        lead=duplicate,
        model=model,
        fit=0,
        engagement=40,
        total=40,
        grade="C",
        disqualified=False,
        qualifies=False,
        explanation=[],
        scored_at=timezone.now(),
    )

    merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    assert LeadScore.objects.get().lead_id == survivor.pk
    assert LeadMerge.objects.get().merged_lead_id == duplicate.pk


def test_a_merge_settles_the_duplicates_candidate_pairs(db, marketing_ops):
    survivor, duplicate = factories.make_lead(), factories.make_lead()
    low, high = sorted([survivor, duplicate], key=lambda lead: lead.pk)
    DuplicateCandidate.objects.create(
        first=low, second=high, reason=DuplicateReason.MAILBOX, matched_on="x"
    )

    merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    assert not DuplicateCandidate.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "path"),
    [
        (Stage.LEAD, Stage.SAL, [Stage.MQL, Stage.SAL]),
        (Stage.DISQUALIFIED, Stage.MQL, [Stage.NURTURE, Stage.MQL]),
        (Stage.WON, Stage.LOST, []),
        (Stage.SQL, Stage.SQL, []),
    ],
)
def test_the_stage_moves_only_through_allowed_moves(start, end, path):
    assert lifecycle_path(start, end) == path


def test_an_erased_duplicate_can_be_merged_and_its_erasure_record_stays(db, marketing_ops):
    from privacy.models import Erasure
    from privacy.services import erase_person

    survivor, duplicate = factories.make_lead(), factories.make_lead()
    erase_person(lead=duplicate, by=marketing_ops, request_reference="PRIV-7")

    merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)

    assert Erasure.objects.get().lead_id == survivor.pk
