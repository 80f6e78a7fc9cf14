"""Recalibration: learning points and a threshold from what sales decided.

Two sources of evidence:
- hand-offs: each MQL's snapshot (what its rules gave when sales got it) and
  the outcome marketing ops choose (accepted, SQL, won). The features are the
  live version's rules; the result is new points for them.
- history: imported leads with a known outcome (such as the X Education
  file's Converted column), before any sales feedback exists. The features are
  conditions on the leads' imported columns; the result is new rules.

Either way the proposal is a new draft version that is never published on its
own: the usual preview, approval and publishing apply.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from feedback import scorecard
from feedback.models import Opportunity, Recalibration
from handoff.jobs import QUEUED_FOR, JobRefused, resend_jobs, run_job, start_job
from leads.models import Lead, Stage, StageChange
from routing.models import Assignment, AssignmentStatus
from scoring import services as scoring_services
from scoring.models import Layer, MQLSnapshot, Rule, ScoringModel
from scoring.selectors import live_model

Progress = Callable[[int, str], None]
ACTIVITY_LAYERS = (Layer.ENGAGEMENT,)
# Columns sales filled in after contact give the outcome away: never learned from.
POST_CONTACT_PREFIX = "post_contact_"
MAX_CATEGORIES = 25
MIN_CATEGORY_SHARE = 0.01
QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class Feature:
    """One column of the learning matrix, and the rule it stands for."""

    label: str
    rule: dict[str, Any]  # the fields of a Rule (layer, field, operator, value, …)
    existing_rule_id: int | None = None
    old_points: int | None = None
    activities_to_cap: int | None = None  # engagement: how many activities reach the cap


@dataclass
class Dataset:
    features: list[Feature]
    x: np.ndarray
    y: np.ndarray
    times: np.ndarray
    live_scores: np.ndarray | None = None  # the live version's score, where known
    notes: list[str] = field(default_factory=list)


# --- hand-offs -------------------------------------------------------------------


def rule_signature(rule: Rule) -> str:
    """What a rule tests, independent of its version and points."""
    return json.dumps(
        [
            rule.layer,
            rule.field,
            rule.operator,
            rule.value,
            sorted(rule.activity_kinds or []),
            rule.url_pattern,
            rule.property_conditions,
            rule.window_days,
        ],
        sort_keys=True,
    )


def _label(
    outcome: str,
    decision: str | None,
    reached_sql: bool,
    deal: str | None,
) -> int | None:
    """1/0 for the chosen outcome; None while the hand-off is still in progress."""
    declined = decision in (AssignmentStatus.REJECTED, AssignmentStatus.RECYCLED)
    if outcome == Recalibration.Outcome.ACCEPTED:
        return None if decision is None else int(decision == AssignmentStatus.ACCEPTED)
    if outcome == Recalibration.Outcome.SQL:
        return 1 if reached_sql else (0 if declined else None)
    if deal is not None:
        return int(deal == Opportunity.Status.WON)
    return 0 if declined else None


def _snapshots_with_outcomes():
    """Each snapshot with what followed it, in one pass: the first decision on
    the lead after the hand-off, whether it reached SQL, how its deal closed."""
    decision = (
        Assignment.objects.filter(
            lead_id=OuterRef("lead_id"),
            created_at__gte=OuterRef("created_at"),
            status__in=[
                AssignmentStatus.ACCEPTED,
                AssignmentStatus.REJECTED,
                AssignmentStatus.RECYCLED,
            ],
        )
        .order_by("created_at")
        .values("status")[:1]
    )
    deal = (
        Opportunity.objects.filter(lead_id=OuterRef("lead_id"))
        .exclude(status=Opportunity.Status.OPEN)
        .order_by("-closed_on")
        .values("status")[:1]
    )
    return (
        MQLSnapshot.objects.annotate(
            decision=Subquery(decision),
            deal=Subquery(deal),
            reached_sql=Exists(
                StageChange.objects.filter(lead_id=OuterRef("lead_id"), to_stage=Stage.SQL)
            ),
        )
        .values_list("created_at", "total", "explanation", "decision", "reached_sql", "deal")
        .order_by()
    )


def handoff_dataset(*, live: ScoringModel, outcome: str, progress: Progress) -> Dataset:
    """Rows: MQL snapshots with an outcome. Columns: the live version's rules
    (matched across versions by what they test), as sales saw them at hand-off."""
    features, column = [], {}
    for rule in live.rules.exclude(layer=Layer.DISQUALIFIER):
        to_cap = None
        if rule.layer in ACTIVITY_LAYERS:
            to_cap = math.ceil(rule.cap / abs(rule.points)) if rule.cap and rule.points else 10
        column[rule_signature(rule)] = len(features)
        features.append(
            Feature(
                label=rule.name,
                rule={},
                existing_rule_id=rule.pk,
                old_points=rule.points,
                activities_to_cap=to_cap,
            )
        )
    signature_of = {
        r.pk: rule_signature(r)
        for r in Rule.objects.filter(model__in=MQLSnapshot.objects.values("model").distinct())
    }
    column_of_rule = {
        rule_id: column[sig] for rule_id, sig in signature_of.items() if sig in column
    }

    progress(5, "Reading hand-off snapshots and what followed them")
    total = MQLSnapshot.objects.count()
    rows: list[list[float]] = []
    labels: list[int] = []
    times: list[float] = []
    live_scores: list[float] = []
    width = len(features)
    for n, (created, score, explanation, decision, reached_sql, deal) in enumerate(
        _snapshots_with_outcomes().iterator(chunk_size=10_000)
    ):
        label = _label(outcome, decision, reached_sql, deal)
        if n % 100_000 == 0:
            progress(5 + int(50 * n / max(total, 1)), "Reading hand-off snapshots")
        if label is None:
            continue
        row = [0.0] * width
        for line in explanation:
            j = column_of_rule.get(line.get("rule_id"))
            if j is not None:
                cap = features[j].activities_to_cap
                row[j] = min(line["count"], cap) if cap else 1.0
        rows.append(row)
        labels.append(label)
        times.append(created.timestamp())
        live_scores.append(float(score))
    return Dataset(
        features,
        np.array(rows, dtype=float).reshape(len(rows), width),
        np.array(labels),
        np.array(times),
        np.array(live_scores),
    )


# --- history ---------------------------------------------------------------------


def _history_features(attributes: list[dict[str, Any]], countries: list[str]) -> list[Feature]:
    """Candidate conditions on imported columns: frequent values of text
    columns, quantile thresholds of numeric ones, yes/no columns."""
    values: dict[str, list[Any]] = defaultdict(list)
    for attrs in attributes:
        for key, value in attrs.items():
            if not key.startswith(POST_CONTACT_PREFIX) and value not in (None, ""):
                values[key].append(value)
    n = len(attributes)
    features: list[Feature] = []
    for key in sorted(values):
        seen = values[key]
        if all(isinstance(v, bool) for v in seen):
            features.append(
                Feature(
                    f"{key} is yes",
                    {"field": f"attributes.{key}", "operator": "is_true", "value": None},
                )
            )
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
            cuts = sorted({float(np.quantile(seen, q)) for q in QUANTILES})
            for cut in cuts:
                cut_value = int(cut) if cut.is_integer() else round(cut, 2)
                features.append(
                    Feature(
                        f"{key} ≥ {cut_value}",
                        {"field": f"attributes.{key}", "operator": "gte", "value": cut_value},
                    )
                )
        elif all(isinstance(v, str) for v in seen):
            for value, count in Counter(seen).most_common(MAX_CATEGORIES):
                if count >= MIN_CATEGORY_SHARE * n:
                    features.append(
                        Feature(
                            f"{key} is {value}",
                            {"field": f"attributes.{key}", "operator": "equals", "value": value},
                        )
                    )
    for value, count in Counter(c for c in countries if c).most_common(MAX_CATEGORIES):
        if count >= MIN_CATEGORY_SHARE * n:
            features.append(
                Feature(
                    f"country is {value}",
                    {"field": "country", "operator": "equals", "value": value},
                )
            )
    return features


def _holds(feature: Feature, attrs: dict[str, Any], country: str) -> float:
    rule = feature.rule
    if rule["field"] == "country":
        return float(country.lower() == str(rule["value"]).lower())
    value = attrs.get(rule["field"].removeprefix("attributes."))
    if rule["operator"] == "is_true":
        return float(value is True)
    if rule["operator"] == "gte":
        return float(
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and value >= rule["value"]
        )
    return float(isinstance(value, str) and value.lower() == str(rule["value"]).lower())


def history_dataset(*, progress: Progress) -> Dataset:
    """Rows: leads with a known outcome, oldest first (created, then id: an
    imported file keeps its order). Columns: conditions on imported columns."""
    progress(5, "Reading leads with a known outcome")
    rows = list(
        Lead.objects.filter(known_outcome__isnull=False)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at", "attributes", "country", "known_outcome")
    )
    attributes = [r[2] for r in rows]
    features = _history_features(attributes, [r[3] for r in rows])
    progress(25, f"Building {len(features)} candidate conditions")
    x = np.array([[_holds(f, r[2], r[3]) for f in features] for r in rows]).reshape(
        len(rows), len(features)
    )
    y = np.array([int(r[4]) for r in rows])
    # Imports made at once share a timestamp: the id keeps the file's order.
    times = np.arange(len(rows), dtype=float)
    notes = [
        f"Columns named {POST_CONTACT_PREFIX}… were filled in by sales after contact "
        "and were left out."
    ]
    return Dataset(features, x, y, times, None, notes)


# --- the run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    report: dict[str, Any]
    points: list[int]
    threshold: int


def learn(dataset: Dataset, *, target: float) -> Proposal:
    """Fits on the oldest 70 %, judges on the newest 30 %."""
    scorecard.Evidence().check(dataset.y)
    split = scorecard.split_by_time(dataset.times)
    train, test = split.train, split.test
    card = scorecard.fit_scorecard(dataset.x[train], dataset.y[train])
    test_scores = card.score(dataset.x[test])
    threshold = scorecard.propose_threshold(test_scores, dataset.y[test], target=target)
    live_auc = (
        scorecard.auc(dataset.y[test], dataset.live_scores[test])
        if dataset.live_scores is not None
        else None
    )
    report = {
        "rows": len(dataset.y),
        "positives": int(dataset.y.sum()),
        "train": len(train),
        "held_out": len(test),
        "auc_proposed": scorecard.auc(dataset.y[test], test_scores),
        "auc_unrounded": scorecard.auc(dataset.y[test], dataset.x[test] @ card.coefficients),
        "auc_live": live_auc,
        "threshold": threshold.threshold,
        "expected_acceptance": threshold.acceptance_rate,
        "expected_mql_share": threshold.volume_share,
        "threshold_reaches_target": threshold.reached_target,
        "target_acceptance": target,
        "notes": dataset.notes,
        "rules": [
            {
                "rule": f.label,
                "existing_rule_id": f.existing_rule_id,
                "old_points": f.old_points,
                "new_points": int(p),
                "support": float(dataset.x[:, j].astype(bool).mean()),
            }
            for j, (f, p) in enumerate(zip(dataset.features, card.points, strict=True))
        ],
    }
    return Proposal(
        report=report, points=[int(p) for p in card.points], threshold=threshold.threshold
    )


@transaction.atomic
def write_draft(
    *,
    proposal: Proposal,
    dataset: Dataset,
    live: ScoringModel,
    source: str,
    by: User | None,
) -> ScoringModel:
    """A new draft: the live version with the learned points (hand-offs) or
    with the learned rules added (history), and the proposed threshold."""
    draft = scoring_services.clone_model(source=live, by=by, name=f"{live.name} (recalibrated)")
    rules_by_signature = {rule_signature(r): r for r in draft.rules.all()}
    live_rules = {r.pk: r for r in live.rules.all()}
    for feature, points in zip(dataset.features, proposal.points, strict=True):
        if feature.existing_rule_id is not None:
            rule = rules_by_signature[rule_signature(live_rules[feature.existing_rule_id])]
            if points == rule.points:
                continue
            if rule.cap and rule.points:
                rule.cap = abs(points) * (feature.activities_to_cap or 1) or None
            rule.points = points
            scoring_services.save_rule(rule=rule, by=by)
        elif points != 0:
            scoring_services.save_rule(
                rule=Rule(
                    model=draft,
                    layer=Layer.DEMOGRAPHIC,
                    name=feature.label[:200],
                    points=points,
                    **feature.rule,
                ),
                by=by,
            )
    notes = (
        f"Proposed by recalibration from {source}: held-out AUC "
        f"{proposal.report['auc_proposed']:.3f}, threshold {proposal.threshold}."
    )
    return scoring_services.update_model_settings(
        model=draft, by=by, threshold=proposal.threshold, notes=notes
    )


def start_recalibration(
    *, source: str, outcome: str, target: float = 0.65, by: User | None = None
) -> Recalibration:
    """Records a queued run and has a worker do it after commit."""
    if source == Recalibration.Source.HISTORY:
        outcome = Recalibration.Outcome.KNOWN
    return start_job(
        Recalibration,
        source=source,
        outcome=outcome,
        target_acceptance=target,
        requested_by=by,
        based_on=live_model(),
    )


def resend_queued_recalibrations(*, queued_for: timedelta = QUEUED_FOR) -> int:
    """Sends again the runs whose message was lost or whose worker died (see
    handoff.jobs.resend_jobs). Returns how many were sent."""
    return resend_jobs(Recalibration, queued_for=queued_for)


def run_recalibration(*, run_id: int) -> bool:
    """Does a run once, claimed by the job kit: a message delivered twice runs
    it once, and a run left by a worker that died is run again (its draft is
    written in one transaction at the end, so nothing of it was kept). The
    outcome (proposed, refused with the counts, or failed) is recorded on the
    run. False when there was nothing to claim."""
    return run_job(Recalibration, pk=run_id, work=_recalibrate)


def _recalibrate(run: Recalibration) -> dict[str, Any]:
    def progress(percent: int, step: str) -> None:
        run.record_progress(progress=percent, step=step)

    live = live_model()
    try:
        if live is None:
            raise scorecard.NotEnoughEvidence("There is no live scoring model to recalibrate.")
        if run.source == Recalibration.Source.HISTORY:
            dataset = history_dataset(progress=progress)
        else:
            dataset = handoff_dataset(live=live, outcome=run.outcome, progress=progress)
        progress(60, "Fitting the scorecard")
        proposal = learn(dataset, target=float(run.target_acceptance))
    except scorecard.NotEnoughEvidence as refused:
        raise JobRefused(str(refused), progress=100) from None
    progress(85, "Writing the draft version")
    draft = write_draft(
        proposal=proposal,
        dataset=dataset,
        live=live,
        source=run.get_source_display().lower(),
        by=run.requested_by,
    )
    return {
        "proposal": draft,
        "report": proposal.report,
        "progress": 100,
        "step": "Done",
        "based_on": live,
    }
