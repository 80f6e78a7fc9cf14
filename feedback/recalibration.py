"""Recalibration: learning points and a threshold from what actually converted.

Two sources of evidence:
- hand-offs: each MQL's snapshot (what its rules gave when sales got it) and
  the outcome marketing ops choose (accepted, SQL, won). The features are the
  live version's rules and, as for history, conditions on the lead's fields
  (as they are now) that no live rule tests; the result is new points for the
  live rules and new rules.
- history: imported leads with a known outcome (such as the X Education
  file's Converted column). The features are real scoring conditions on
  everything known before contact (title words, seniority, department,
  country, source, free-mail or company address, account industry and size,
  imported columns, activity kinds); the result is new rules.

Every figure shown comes from the newest rows, used for neither learning nor
choosing the threshold (feedback.scorecard). For history, the draft's figures
are what the scoring engine itself gives those leads under the draft: what the
panel promises is what the preview and the live scoring will do.

Either way the proposal is a new draft version that is never published on its
own: the usual preview, approval and publishing apply. When the evidence shows
no usable signal, no draft is written and the figures say why.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone

from feedback import scorecard
from feedback.models import Opportunity, Recalibration
from handoff.jobs import QUEUED_FOR, JobRefused, resend_jobs, run_job, start_job
from leads.domains import is_personal_domain
from leads.models import Activity, Lead, LeadSource, Stage, StageChange
from routing.models import Assignment, AssignmentStatus
from scoring import bulk, engine
from scoring import services as scoring_services
from scoring.fields import ATTRIBUTE_PREFIX, field_for, lead_values
from scoring.models import Layer, MQLSnapshot, Rule, ScoringModel
from scoring.selectors import live_model

Progress = Callable[[int, str], None]
ACTIVITY_LAYERS = (Layer.ENGAGEMENT,)
DASH = "\u2013"  # between the ends of a band: "Employees 200–999"  # noqa: RUF003
# Columns the shipped mappings name post_contact_… were filled in by sales
# after contact: never learned from, whatever the leak guard says.
POST_CONTACT_PREFIX = "post_contact_"
MAX_CATEGORIES = 25
MAX_TITLE_PHRASES = 30
MIN_SHARE = 0.01  # a value, word or band must hold for at least 1 % of the rows…
MIN_ROWS = 10  # …and at least this many
BANDS = (0.2, 0.4, 0.6, 0.8)  # quantile cuts of a number column
LEAK_FEATURE_AUC = 0.95  # one column alone predicting this well was filled in after contact
LEAK_MODEL_AUC = 0.97
ACTIVITY_WINDOW_DAYS = 90
EMPLOYEE_BANDS = ((1, 49), (50, 199), (200, 999), (1000, 4999), (5000, None))
REVENUE_BANDS = (
    (0, 999_999, "under $1M"),
    (1_000_000, 9_999_999, f"$1M{DASH}$10M"),
    (10_000_000, 99_999_999, f"$10M{DASH}$100M"),
    (100_000_000, 999_999_999, f"$100M{DASH}$1B"),
    (1_000_000_000, None, "$1B and more"),
)
OPAQUE = re.compile(r"^(?:[0-9a-f]{8,}|[0-9a-f-]{16,}|\d{6,})$", re.IGNORECASE)
TITLE_WORD = re.compile(r"[a-z][a-z&+.]*[a-z+]|[a-z]{2,}", re.IGNORECASE)
TITLE_STOPWORDS = {"of", "and", "the", "for", "to", "in", "at", "a", "an", "&"}


@dataclass
class Feature:
    """One column of the learning matrix, and the rule it stands for."""

    label: str
    rule: dict[str, Any]  # the fields of a Rule (layer, field, operator, value, …)
    column: str = ""  # what it was learned from, in words (the leak guard's unit)
    existing_rule_id: int | None = None
    old_points: int | None = None
    activities_to_cap: int | None = None  # engagement: how many activities reach the cap


@dataclass
class Dataset:
    features: list[Feature]
    x: np.ndarray
    y: np.ndarray
    times: np.ndarray  # seconds since the epoch; NaN where a row has no date
    live_scores: np.ndarray | None = None  # the live version's score, where known
    notes: list[str] = field(default_factory=list)
    counted: str = "hand-offs with a decision"
    time_source: str = "the hand-off time"
    lead_ids: np.ndarray | None = None  # history: the leads, for the engine
    has_activities: bool = True
    # Hand-offs: per row and live rule, the activities (decayed as they were at
    # hand-off) that a point of the rule counted, 1 for a fit rule that held;
    # and each hand-off's lead source. What the engine's arithmetic replays.
    strength: np.ndarray | None = None
    source_ids: np.ndarray | None = None
    snapshot_ids: np.ndarray | None = None


def _column_words(key: str) -> str:
    """An imported column's key in words: total_visits → Total visits."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _number_text(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


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
    """1/0 for the chosen outcome; None while the hand-off is still open (an
    open stage is not evidence either way)."""
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
        .values_list(
            "created_at",
            "total",
            "explanation",
            "decision",
            "reached_sql",
            "deal",
            "lead__source_id",
            "pk",
            "lead_id",
        )
        .order_by()
    )


def _condition_key(rule: dict[str, Any]) -> str:
    """What a fit condition tests: a learned condition the live version
    already has a rule for is not a new candidate."""
    return json.dumps([rule.get("field"), rule.get("operator"), rule.get("value")], sort_keys=True)


def handoff_dataset(*, live: ScoringModel, outcome: str, progress: Progress) -> Dataset:
    """Rows: MQL snapshots with an outcome. Columns: the live version's rules
    (matched across versions by what they test), as sales saw them at hand-off;
    then, as history learns them, conditions on the hand-offs' lead, account
    and imported fields that no live rule tests yet."""
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
                column=f"the rule “{rule.name}”",
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
    strengths: list[list[float]] = []
    source_ids: list[int] = []
    width = len(features)
    snapshot_ids: list[int] = []
    lead_ids: list[int] = []
    handed_off: list[datetime] = []
    for n, (
        created,
        score,
        explanation,
        decision,
        reached_sql,
        deal,
        source_id,
        pk,
        lead_id,
    ) in enumerate(_snapshots_with_outcomes().iterator(chunk_size=10_000)):
        label = _label(outcome, decision, reached_sql, deal)
        if n % 100_000 == 0:
            progress(5 + int(45 * n / max(total, 1)), "Reading hand-off snapshots")
        if label is None:
            continue
        row = [0.0] * width
        strength = [0.0] * width
        for line in explanation:
            j = column_of_rule.get(line.get("rule_id"))
            if j is not None:
                cap = features[j].activities_to_cap
                row[j] = min(line["count"], cap) if cap else 1.0
                before = line.get("points_before") or 0
                decay = line.get("points_after_decay", before) / before if before else 1.0
                strength[j] = line["count"] * decay if cap else 1.0
        rows.append(row)
        strengths.append(strength)
        source_ids.append(source_id)
        snapshot_ids.append(pk)
        lead_ids.append(lead_id)
        handed_off.append(created)
        labels.append(label)
        times.append(created.timestamp())
        live_scores.append(float(score))
    x = np.array(rows, dtype=float).reshape(len(rows), width)
    strength = np.array(strengths, dtype=float).reshape(len(rows), width)
    progress(50, "Reading the hand-offs' lead and account fields")
    field_features, field_x, notes = _handoff_field_features(live, lead_ids, handed_off)
    features += field_features
    x = np.hstack([x, field_x])
    # A fit condition adds its points once where it holds: its strength is 1.
    strength = np.hstack([strength, field_x])
    return Dataset(
        features,
        x,
        np.array(labels, dtype=int),
        np.array(times, dtype=float),
        np.array(live_scores),
        notes=[
            "Hand-offs still waiting for a decision are not evidence either way and were left out.",
            "Lead, account and imported fields are learned as they are now (a lead's fields "
            "are not kept as they were at hand-off); activities as each hand-off's snapshot "
            "recorded them.",
            *notes,
        ],
        strength=strength,
        source_ids=np.array(source_ids, dtype=int),
        snapshot_ids=np.array(snapshot_ids, dtype=int),
    )


def _handoff_field_features(
    live: ScoringModel, lead_ids: list[int], handed_off: list[datetime]
) -> tuple[list[Feature], np.ndarray, list[str]]:
    """The history's candidate conditions on the hand-offs' leads (each lead's
    fields as they are now), less those a live rule already tests; each
    decided by the engine's own condition test at the hand-off's time."""
    leads = Lead.objects.filter(pk__in=set(lead_ids)).select_related("account", "source")
    by_id = {lead.pk: _Lead(lead_values(lead), lead.attributes or {}) for lead in leads}
    rows = [by_id[lead_id] for lead_id in lead_ids]
    names = dict(LeadSource.objects.values_list("slug", "name"))
    features, notes = history_features(rows, names)
    tested = {
        _condition_key({"field": r.field, "operator": r.operator, "value": r.value})
        for r in live.rules.exclude(field="")
    }
    features = [f for f in features if _condition_key(f.rule) not in tested]
    return features, _matrix(features, rows, handed_off), notes


def replay_handoffs(
    *, model: ScoringModel, live: ScoringModel, dataset: Dataset, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each hand-off's total (in points) under ``model`` and whether it would
    qualify but for the threshold: the rules its snapshot recorded as holding
    at hand-off, and the learned conditions on lead fields where the engine's
    condition test says they hold, with ``model``'s points and caps, fit,
    engagement and total bounds, minimums and eligible sources, combined as
    scoring.engine.score does. (The engine itself cannot score a past hand-off
    as it stood: a lead's fields are kept as they are now, not as they were.)"""
    assert dataset.strength is not None and dataset.source_ids is not None
    live_signatures = {r.pk: rule_signature(r) for r in live.rules.all()}
    column = {
        live_signatures[f.existing_rule_id]: j
        for j, f in enumerate(dataset.features)
        if f.existing_rule_id is not None
    }
    # The learned conditions on lead fields, by what they test.
    learned = {
        _condition_key(f.rule): j
        for j, f in enumerate(dataset.features)
        if f.existing_rule_id is None and "field" in f.rule
    }
    fit = np.zeros(len(rows), dtype=np.int64)
    engagement = np.zeros(len(rows), dtype=np.int64)
    for rule in model.rules.exclude(layer=Layer.DISQUALIFIER):
        j = column.get(rule_signature(rule))
        if j is None and rule.layer not in ACTIVITY_LAYERS and rule.field:
            key = {"field": rule.field, "operator": rule.operator, "value": rule.value}
            j = learned.get(_condition_key(key))
        if j is None:
            continue
        cents = np.floor(dataset.strength[rows, j] * rule.points * 100 + 0.5).astype(np.int64)
        if rule.layer in ACTIVITY_LAYERS:
            if rule.cap is not None:
                cents = (
                    np.minimum(cents, rule.cap * 100)
                    if rule.points >= 0
                    else np.maximum(cents, -rule.cap * 100)
                )
            engagement += cents
        else:
            fit += cents
    fit = np.clip(fit, model.fit_floor * 100, model.fit_ceiling * 100)
    engagement = np.clip(engagement, model.engagement_floor * 100, model.engagement_ceiling * 100)
    total = np.clip(fit + engagement, model.total_floor * 100, model.total_ceiling * 100)
    eligible_sources = list(model.eligible_sources.values_list("pk", flat=True))
    eligible = (
        np.isin(dataset.source_ids[rows], eligible_sources)
        & (fit >= model.min_fit * 100)
        & (engagement >= model.min_engagement * 100)
    )
    return total / 100, eligible


# --- history: candidate conditions ---------------------------------------------------


@dataclass
class _Lead:
    values: dict[str, Any]
    attributes: dict[str, Any]


def _value(row: _Lead, name: str) -> Any:
    if name.startswith(ATTRIBUTE_PREFIX):
        return row.attributes.get(name.removeprefix(ATTRIBUTE_PREFIX))
    return row.values.get(name)


def _frequent(values: Iterable[str], n: int) -> list[tuple[str, int]]:
    """Frequent values (case-insensitive, as the engine compares them), each in
    its most common spelling."""
    spelling: dict[str, Counter[str]] = defaultdict(Counter)
    for value in values:
        spelling[value.lower()][value] += 1
    counts = Counter({k: sum(c.values()) for k, c in spelling.items()})
    least = max(MIN_ROWS, MIN_SHARE * n)
    return [
        (spelling[k].most_common(1)[0][0], count)
        for k, count in counts.most_common(MAX_CATEGORIES)
        if count >= least
    ]


def _text_features(name: str, column: str, texts: list[str], n: int) -> list[Feature]:
    """One ``equals`` rule per frequent value. Opaque ids (hashes, long
    numbers) are named by their rank; a column where nearly every lead has
    its own value is an identifier and is not learned from."""
    if not texts:
        return []
    distinct = len({t.lower() for t in texts})
    if distinct > 0.5 * len(texts) and len(texts) > 50:
        return []
    frequent = _frequent(texts, n)
    features = []
    for rank, (value, _count) in enumerate(frequent, start=1):
        if OPAQUE.match(value):
            label = f"{column} {rank} of {len(frequent)} most common"
        else:
            label = f"{column} is {value}"
        features.append(
            Feature(label, {"field": name, "operator": "equals", "value": value}, column)
        )
    return features


def _title_features(titles: list[str], n: int) -> list[Feature]:
    """Words and two-word phrases of job titles, as ``contains_any`` rules."""
    seen: Counter[str] = Counter()
    for title in titles:
        words = [w.lower() for w in TITLE_WORD.findall(title)]
        words = [w for w in words if w not in TITLE_STOPWORDS]
        phrases = set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}
        seen.update(phrases)
    least = max(MIN_ROWS, MIN_SHARE * n)
    features = []
    # Ties go to the longer phrase, then alphabetically: the same titles give
    # the same rules whatever order a set of words iterates in.
    ranked = sorted(seen.items(), key=lambda pc: (-pc[1], -len(pc[0].split()), pc[0]))
    for phrase, count in ranked[:MAX_TITLE_PHRASES]:
        if count < least:
            break
        features.append(
            Feature(
                f"Title contains {phrase.title()}",
                {"field": "title", "operator": "contains_any", "value": [phrase]},
                "Job title",
            )
        )
    return features


def _sentinels(numbers: list[float], n: int) -> list[float]:
    """Placeholder values such as 999 or -1: frequent, made of nines (or -1),
    and far outside the other values."""
    counts = Counter(numbers)
    found = []
    for value, count in counts.items():
        nines = value >= 99 and set(_number_text(value).replace(",", "")) == {"9"}
        if not (nines or value == -1) or count < max(MIN_ROWS, 0.005 * n):
            continue
        rest = [v for v in numbers if v != value]
        if not rest:
            continue
        if (nines and value > 2 * float(np.quantile(rest, 0.99))) or (
            value == -1 and min(rest) >= 0
        ):
            found.append(value)
    return found


def _number_features(name: str, column: str, numbers: list[float], n: int) -> list[Feature]:
    """Quantile bands (``between``), placeholder values as their own
    category, and few-valued columns value by value."""
    if not numbers:
        return []
    sentinels = _sentinels(numbers, n)
    features = [
        Feature(
            f"{column} is {_number_text(s)} (a placeholder value)",
            {"field": name, "operator": "between", "value": [s, s]},
            column,
        )
        for s in sentinels
    ]
    rest = sorted(v for v in numbers if v not in sentinels)
    distinct = sorted(set(rest))
    if len(distinct) <= 6:
        least = max(MIN_ROWS, MIN_SHARE * n)
        counts = Counter(rest)
        return features + [
            Feature(
                f"{column} is {_number_text(v)}",
                {"field": name, "operator": "between", "value": [v, v]},
                column,
            )
            for v in distinct
            if counts[v] >= least
        ]
    integers = all(float(v).is_integer() for v in rest)
    cuts = sorted({float(np.quantile(rest, q)) for q in BANDS} - {distinct[0]})
    edges = [distinct[0], *cuts]
    for i, low in enumerate(edges):
        low_value: float = int(low) if integers else round(low, 4)
        if i + 1 < len(edges):
            below = [v for v in distinct if v < edges[i + 1]]
            high: float = int(edges[i + 1] - 1) if integers else max(below)
            label = (
                f"{column} {_number_text(low_value)}{DASH}{_number_text(high)}"
                if high != low_value
                else f"{column} is {_number_text(low_value)}"
            )
            rule = {"field": name, "operator": "between", "value": [low_value, high]}
        elif sentinels and max(sentinels) > low:
            high = max(distinct)
            label = f"{column} {_number_text(low_value)}{DASH}{_number_text(high)}"
            rule = {"field": name, "operator": "between", "value": [low_value, high]}
        else:
            label = f"{column} {_number_text(low_value)} or more"
            rule = {"field": name, "operator": "gte", "value": low_value}
        features.append(Feature(label, rule, column))
    return features


def _banded(name: str, column: str, numbers: list[float], bands) -> list[Feature]:
    if not numbers:
        return []
    features = []
    for band in bands:
        low, high = band[0], band[1]
        words = band[2] if len(band) > 2 else (
            f"{low:,}{DASH}{high:,}" if high is not None else f"{low:,} or more"
        )  # fmt: skip
        rule = (
            {"field": name, "operator": "between", "value": [low, high]}
            if high is not None
            else {"field": name, "operator": "gte", "value": low}
        )
        features.append(Feature(f"{column} {words}", rule, column))
    return features


def _age_features(name: str, column: str, ages: list[int], n: int) -> list[Feature]:
    """Age bands of a date column (whole days at scoring time, ``age_days``):
    cut at the quantiles of the ages the leads have now; the youngest band
    starts at 0 and the oldest has no end, so every past date falls in one."""
    ages = sorted(a for a in ages if a >= 0)  # a date still to come is in no band
    if len(ages) < max(MIN_ROWS, MIN_SHARE * n):
        return []
    edges = [0, *sorted({math.ceil(float(np.quantile(ages, q))) for q in BANDS} - {0})]
    features = []
    for i, low in enumerate(edges):
        high = edges[i + 1] - 1 if i + 1 < len(edges) else None
        if high is None:
            words = f"{low:,} days ago or more" if low else "any day up to today"
        elif low == high:
            words = "today" if low == 0 else f"{low:,} day{'s' if low != 1 else ''} ago"
        else:
            words = f"{low:,}{DASH}{high:,} days ago"
        features.append(
            Feature(
                f"{column} {words}",
                {"field": name, "operator": "age_days", "value": [low, high]},
                column,
            )
        )
    return features


def _set_feature(name: str, column: str, present: int, n: int) -> list[Feature]:
    """Whether a column is filled in at all, when that varies."""
    if 0.05 * n <= present <= 0.95 * n:
        return [Feature(f"{column} is filled in", {"field": name, "operator": "is_set"}, column)]
    return []


def history_features(
    rows: list[_Lead], source_names: dict[str, str], *, as_of: datetime | None = None
) -> tuple[list[Feature], list[str]]:
    """Candidate conditions on everything known about a lead before contact,
    each a rule the scoring engine runs as it is; and notes on what was left
    out and why. Dates are aged at ``as_of`` (now by default)."""
    today = (as_of or timezone.now()).astimezone(UTC).date()
    n = len(rows)
    notes: list[str] = []
    features: list[Feature] = []
    texts: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for name in ("seniority", "department", "country", "source", "source_detail"):
            value = row.values.get(name)
            if value:
                texts[name].append(value)
        if row.values.get("account.industry"):
            texts["account.industry"].append(row.values["account.industry"])
    features += _title_features([r.values["title"] for r in rows if r.values.get("title")], n)
    for name in ("seniority", "department", "country", "source_detail", "account.industry"):
        label = _column_words(field_for(name).label)  # type: ignore[union-attr]
        features += _text_features(name, label, texts[name], n)
    for value, _count in _frequent(texts["source"], n):
        features.append(
            Feature(
                f"Lead source is {source_names.get(value, value)}",
                {"field": "source", "operator": "equals", "value": value},
                "Lead source",
            )
        )
    domains = [r.values["email_domain"] for r in rows if r.values.get("email_domain")]
    personal = sorted({d.lower() for d in domains if is_personal_domain(d)})
    if personal and len(domains) >= 0.05 * n:
        features.append(
            Feature(
                "Email at a free-mail address",
                {"field": "email_domain", "operator": "in", "value": personal[:500]},
                "Email address",
            )
        )
    employees = [float(r.values["account.employee_count"]) for r in rows
                 if r.values.get("account.employee_count") is not None]  # fmt: skip
    if len(employees) >= 0.05 * n:
        features += _banded("account.employee_count", "Employees", employees, EMPLOYEE_BANDS)
    revenue = [float(r.values["account.annual_revenue"]) for r in rows
               if r.values.get("account.annual_revenue") is not None]  # fmt: skip
    if len(revenue) >= 0.05 * n:
        features += _banded("account.annual_revenue", "Revenue", revenue, REVENUE_BANDS)

    by_key: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        for key, value in row.attributes.items():
            if value not in (None, ""):
                by_key[key].append(value)
    left_out = sorted(k for k in by_key if k.startswith(POST_CONTACT_PREFIX))
    if left_out:
        notes.append(
            f"{len(left_out):,} imported column{'s' if len(left_out) != 1 else ''} the mapping "
            f"marks as filled in after contact ({', '.join(_column_words(k) for k in left_out)}) "
            "were left out."
        )
    identifiers = []
    for key in sorted(k for k in by_key if not k.startswith(POST_CONTACT_PREFIX)):
        seen = by_key[key]
        name, column = f"{ATTRIBUTE_PREFIX}{key}", _column_words(key)
        if all(isinstance(v, bool) for v in seen):
            if 0 < sum(seen) < len(seen):
                features.append(
                    Feature(f"{column}: yes", {"field": name, "operator": "is_true"}, column)
                )
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
            features += _number_features(name, column, [float(v) for v in seen], n)
            features += _set_feature(name, column, len(seen), n)
        elif all(engine.attribute_date(v) is not None for v in seen):
            # A date column (the import writes ISO dates): learned as its age.
            ages = [(today - day).days for v in seen if (day := engine.attribute_date(v))]
            features += _age_features(name, column, ages, n)
            features += _set_feature(name, column, len(seen), n)
        elif all(isinstance(v, str) for v in seen):
            found = _text_features(name, column, seen, n)
            if not found and len(seen) > 50:
                identifiers.append(column)
            features += found
            features += _set_feature(name, column, len(seen), n)
    if identifiers:
        notes.append(
            f"{', '.join(identifiers)} look{'s' if len(identifiers) == 1 else ''} like "
            "an identifier (almost every lead has its own value) and "
            f"{'was' if len(identifiers) == 1 else 'were'} not learned from."
        )
    return features, notes


def _matrix(
    features: list[Feature], rows: list[_Lead], as_of: datetime | list[datetime]
) -> np.ndarray:
    """Which condition holds for which lead, decided by the scoring engine's
    own condition test: a learned point is exactly a rule's point. ``as_of``
    is one time for all rows, or each row's own (a hand-off's time)."""
    times = as_of if isinstance(as_of, list) else [as_of] * len(rows)
    x = np.zeros((len(rows), len(features)))
    for j, feature in enumerate(features):
        rule = feature.rule
        if "field" not in rule:
            continue  # activity features are filled in by _activity_columns
        spec = field_for(rule["field"])
        assert spec is not None
        condition = engine.Condition.build(
            rule["field"], spec.type, rule["operator"], rule.get("value")
        )
        holds = engine.condition_holds
        x[:, j] = [
            holds(condition, _value(row, rule["field"]), when)
            for row, when in zip(rows, times, strict=True)
        ]
    return x


def _activity_features(lead_ids: list[int], as_of: datetime) -> tuple[list[Feature], np.ndarray]:
    """For leads with activities, two features per activity kind, each an
    engagement rule the engine runs as it is: "any such activity in the last
    90 days" (points capped at one activity's) and, where leads often have
    several, "each, up to N" (capped at N activities' points), N being what
    nine in ten of the leads with any stay within. Together they score a
    first demo request and every further one up to N apart."""
    since = as_of - timedelta(days=ACTIVITY_WINDOW_DAYS)
    position = {lead_id: i for i, lead_id in enumerate(lead_ids)}
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    per_lead = (
        Activity.objects.filter(lead__known_outcome__isnull=False, occurred_at__gte=since)
        .values_list("lead_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for lead_id, kind, n in per_lead.iterator(chunk_size=20_000):
        if lead_id in position:
            counts[kind][position[lead_id]] = n
    least = max(MIN_ROWS, MIN_SHARE * len(lead_ids))
    kinds = sorted(k for k, leads in counts.items() if len(leads) >= least)
    columns: list[np.ndarray] = []
    features = []
    for kind in kinds:
        rows = np.fromiter(counts[kind].keys(), dtype=int)
        n = np.fromiter(counts[kind].values(), dtype=float)
        words = kind.replace("_", " ")
        column = f"{words[:1].upper()}{words[1:]} activities"
        rule = {"layer": Layer.ENGAGEMENT, "activity_kinds": [kind],
                "window_days": ACTIVITY_WINDOW_DAYS}  # fmt: skip
        to_cap = int(min(10, max(1, np.quantile(n, 0.9))))
        for cap in (1, to_cap) if to_cap > 1 else (1,):
            x = np.zeros(len(lead_ids))
            x[rows] = np.minimum(n, cap)
            label = (
                f"Any {words} in the last {ACTIVITY_WINDOW_DAYS} days"
                if cap == 1
                else f"Each {words} in the last {ACTIVITY_WINDOW_DAYS} days, up to {cap}"
            )
            features.append(Feature(label, dict(rule), column, activities_to_cap=cap))
            columns.append(x)
    x = np.column_stack(columns) if columns else np.zeros((len(lead_ids), 0))
    return features, x


def _live_condition_features(live: ScoringModel) -> list[Feature]:
    """The live version's fit rules, as candidates like any other: kept with
    learned points, or dropped when they add nothing."""
    return [
        Feature(
            rule.name,
            {"field": rule.field, "operator": rule.operator, "value": rule.value},
            f"the live rule “{rule.name}”",
            existing_rule_id=rule.pk,
            old_points=rule.points,
        )
        for rule in live.rules.filter(layer__in=[Layer.DEMOGRAPHIC, Layer.FIRMOGRAPHIC])
        .exclude(field="")
        .order_by("pk")
    ]


def _times(leads: list[Lead]) -> tuple[np.ndarray, str, str | None]:
    """When each lead arose, and from what: the date the imported file gave
    (``originated_at``) when most leads have one, else the created date when
    it really differs between leads (not one import's timestamp), else none."""
    originated = [lead.originated_at for lead in leads]
    dated = sum(d is not None for d in originated)
    if leads and dated >= 0.5 * len(leads):
        times = np.array([d.timestamp() if d else np.nan for d in originated])
        note = None
        if dated < len(leads):
            note = (
                f"{len(leads) - dated:,} of {len(leads):,} leads have no date in the imported "
                "file: they were only learned from, never judged on."
            )
        return times, "the date each lead has in the imported file", note
    days = Counter(lead.created_at.date() for lead in leads)
    if len(days) > 1 and max(days.values()) <= 0.5 * len(leads):
        times = np.array([lead.created_at.timestamp() for lead in leads])
        return times, "the date each lead was created", None
    return np.full(len(leads), np.nan), "", None


def history_dataset(*, progress: Progress, live: ScoringModel | None = None) -> Dataset:
    """Rows: imported leads with a known outcome (leads whose outcome is not
    known yet are not evidence). Columns: conditions on everything known
    before contact."""
    progress(5, "Reading leads with a known outcome")
    leads = list(
        Lead.objects.filter(known_outcome__isnull=False)
        .select_related("account", "source")
        .order_by("pk")
    )
    rows = [_Lead(lead_values(lead), lead.attributes or {}) for lead in leads]
    names = dict(LeadSource.objects.values_list("slug", "name"))
    as_of = timezone.now()
    features, notes = history_features(rows, names, as_of=as_of)
    if live is not None:
        features = _live_condition_features(live) + features
    progress(15, f"Testing {len(features):,} candidate conditions on {len(rows):,} leads")
    x = _matrix(features, rows, as_of)
    lead_ids = [lead.pk for lead in leads]
    activity_features, activity_x = _activity_features(lead_ids, as_of)
    features += activity_features
    x = np.hstack([x, activity_x]) if activity_features else x
    times, time_source, time_note = _times(leads)
    if time_note:
        notes.append(time_note)
    return Dataset(
        features,
        x,
        np.array([int(lead.known_outcome) for lead in leads], dtype=int),
        times,
        None,
        notes,
        counted="imported leads with a known outcome",
        time_source=time_source,
        lead_ids=np.array(lead_ids, dtype=int),
        has_activities=bool(activity_features),
    )


# --- the leak guard -----------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    column: str
    auc: float
    overridden: bool = False
    model_auc: float | None = None  # left out because the whole model was too good

    def words(self) -> str:
        if self.model_auc is not None:
            return (
                f"With {self.column}, the whole model predicts the outcome almost perfectly "
                f"(AUC {self.model_auc:.3f}): it is probably filled in after contact."
            )
        return (
            f"{self.column} predicts the outcome almost perfectly (AUC {self.auc:.3f} on its "
            "own): it is probably filled in after contact."
        )


def _column_auc(x: np.ndarray, y: np.ndarray, split: scorecard.Split, columns: list[int]) -> float:
    """How well one column's conditions alone predict, on the choosing rows
    (learned on the learning rows); either direction counts."""
    xc, yc = x[split.choose][:, columns], y[split.choose]
    if len(columns) == 1:
        value = scorecard.auc(yc, xc[:, 0]) or 0.5
    else:
        card = scorecard.fit_scorecard(x[split.learn][:, columns], y[split.learn])
        value = scorecard.auc(yc, xc @ card.coefficients) or 0.5
    return max(value, 1 - value)


def _matches(column: str, names: Iterable[str]) -> bool:
    wanted = {_normalised(n) for n in names}
    return _normalised(column) in wanted


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def leak_guard(
    dataset: Dataset, split: scorecard.Split, *, keep: Iterable[str] = ()
) -> tuple[np.ndarray, list[Leak]]:
    """The feature indexes to learn from, and the columns left out because
    one alone predicts the outcome almost perfectly (ops may keep a column,
    naming it in ``keep``)."""
    keep = list(keep)
    by_column: dict[str, list[int]] = defaultdict(list)
    for j, feature in enumerate(dataset.features):
        by_column[feature.column or feature.label].append(j)
    leaks: list[Leak] = []
    allowed = np.ones(len(dataset.features), dtype=bool)
    for column, columns in by_column.items():
        value = _column_auc(dataset.x, dataset.y, split, columns)
        if value > LEAK_FEATURE_AUC:
            kept = _matches(column, keep)
            leaks.append(Leak(column, value, overridden=kept))
            if not kept:
                allowed[columns] = False
    return np.flatnonzero(allowed), leaks


# --- learning and judging ---------------------------------------------------------------


@dataclass(frozen=True)
class Learned:
    split: scorecard.Split
    selection: scorecard.Selection
    points: np.ndarray  # per feature of the dataset; 0 for what was not kept
    leaks: list[Leak]
    candidates: int
    learned_from: np.ndarray  # the features learning could use (no constants, duplicates, leaks)


def choose_split(dataset: Dataset) -> scorecard.Split:
    undated = np.isnan(dataset.times)
    if undated.all():
        return scorecard.split_at_random(dataset.y)
    return scorecard.split_by_time(dataset.times, undated=undated if undated.any() else None)


def learn(dataset: Dataset, *, max_rules: int = 15, keep: Iterable[str] = ()) -> Learned:
    """Splits the rows in three, leaves out leaks, learns a readable scorecard
    on the learning rows."""
    scorecard.Evidence().check(dataset.y, dataset.counted)
    split = choose_split(dataset)
    for part, name in ((split.learn, "learn from"), (split.choose, "choose the threshold on"),
                       (split.report, "report on")):  # fmt: skip
        positives = int(dataset.y[part].sum())
        if positives == 0 or positives == len(part):
            raise scorecard.NotEnoughEvidence(
                f"The {len(part):,} {dataset.counted} to {name} all have the same outcome: "
                "there is nothing to learn or judge. Nothing was proposed."
            )
    # Conditions that never or always hold on the learning rows, or that hold
    # for exactly the same rows as an earlier one, add nothing a person can read.
    learn_x = dataset.x[split.learn]
    usable = []
    seen: set[bytes] = set()
    for j in range(dataset.x.shape[1]):
        column = learn_x[:, j]
        if column.min() == column.max():
            continue
        key = np.packbits(column > 0).tobytes() + column.astype(np.float32).tobytes()
        if key in seen:
            continue
        seen.add(key)
        usable.append(j)
    usable_idx = np.array(usable, dtype=int)
    sub = Dataset(
        [dataset.features[j] for j in usable_idx],
        dataset.x[:, usable_idx],
        dataset.y,
        dataset.times,
    )
    allowed, leaks = leak_guard(sub, split, keep=keep)
    while True:
        selection = scorecard.readable_scorecard(
            sub.x[:, allowed], sub.y, split, max_rules=max_rules
        )
        whole = selection.full_auc or 0.5
        # A column ops chose to keep may make the whole model this good: their call.
        if whole <= LEAK_MODEL_AUC or not len(allowed) or any(k.overridden for k in leaks):
            break
        # The whole model is too good to be true: the strongest column not
        # kept by ops goes, and the rest is learned again.
        strengths = defaultdict(list)
        for position, j in enumerate(allowed):
            feature = sub.features[j]
            strengths[feature.column or feature.label].append(position)
        candidates = [
            (_column_auc(sub.x[:, allowed], sub.y, split, cols), column)
            for column, cols in strengths.items()
            if not _matches(column, keep) and column not in {leak.column for leak in leaks}
        ]
        if not candidates:
            break
        value, column = max(candidates)
        leaks.append(Leak(column, value, model_auc=whole))
        allowed = np.array(
            [j for j in allowed if (sub.features[j].column or sub.features[j].label) != column],
            dtype=int,
        )
    points = np.zeros(dataset.x.shape[1], dtype=int)
    points[usable_idx[allowed]] = selection.card.points
    return Learned(split, selection, points, leaks, len(usable_idx), usable_idx[allowed])


def _part_dates(times: np.ndarray, part: np.ndarray) -> tuple[str, str] | None:
    values = times[part]
    values = values[~np.isnan(values)]
    if not values.size:
        return None
    first, last = (datetime.fromtimestamp(v, tz=UTC).date() for v in (values.min(), values.max()))
    return first.isoformat(), last.isoformat()


def describe_split(dataset: Dataset, split: scorecard.Split) -> dict[str, Any]:
    parts = []
    for key, words, part in (
        ("learn", "Learned from", split.learn),
        ("choose", "Threshold chosen on", split.choose),
        ("report", "Figures from", split.report),
    ):
        dates = _part_dates(dataset.times, part) if split.by_time else None
        parts.append(
            {
                "key": key,
                "words": words,
                "rows": len(part),
                "positives": int(dataset.y[part].sum()),
                "from": dates[0] if dates else None,
                "to": dates[1] if dates else None,
            }
        )
    if split.by_time:
        summary = (
            f"By time ({dataset.time_source}): the oldest 60 % to learn from, the next 20 % "
            "to choose the threshold on, the newest 20 % to report on."
        )
    else:
        summary = (
            "These leads have no date to put them in order (no date column was mapped at "
            "import, and they were all created at the same time), so the split is random: "
            "60 % to learn from, 20 % to choose the threshold on, 20 % to report on, each "
            "with the same share of each outcome (seeded: the same rows give the same split)."
        )
    return {"by_time": split.by_time, "summary": summary, "parts": parts}


# --- the engine's word on the history leads -----------------------------------------


def engine_scores(
    *, model: ScoringModel, lead_ids: np.ndarray, as_of: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's total (in points) and whether it qualifies under ``model``,
    computed by the scoring engine (set-wise on PostgreSQL, one lead at a time
    elsewhere): exactly what the preview and live scoring give."""
    compiled = engine.compile_model(model)
    ids = [int(i) for i in lead_ids]
    found: dict[int, tuple[float, bool]] = {}
    if connection.vendor == "postgresql":
        for start in range(0, len(ids), 20_000):
            chunk = ids[start : start + 20_000]
            sql = bulk.scores_sql(
                compiled, as_of=as_of, lead_filter=bulk.Sql("{lead_id} = ANY(%s)", [chunk])
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT s.lead_id, s.total, s.qualifies FROM ({sql.text}) s", sql.params
                )
                for lead_id, total, qualifies in cursor:
                    found[lead_id] = (float(total) / 100, bool(qualifies))
    else:
        leads = Lead.objects.filter(pk__in=ids).select_related("account", "source")
        activities: dict[int, list[engine.ActivityFacts]] = defaultdict(list)
        for a in Activity.objects.filter(lead_id__in=ids):
            activities[a.lead_id].append(
                engine.ActivityFacts(a.kind, a.url, a.properties, a.occurred_at)
            )
        for lead in leads:
            result = engine.score(
                compiled,
                values=lead_values(lead),
                attributes=lead.attributes,
                source_id=lead.source_id,
                activities=activities[lead.pk],
                as_of=as_of,
            )
            found[lead.pk] = (result.total_cents / 100, result.qualifies)
    totals = np.array([found[i][0] for i in ids])
    qualifies = np.array([found[i][1] for i in ids])
    return totals, qualifies


# --- the run ---------------------------------------------------------------------------


class NoUsableSignal(Exception):
    """The evidence does not support a draft; ``report`` holds the figures."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Settings:
    target: float = 0.65
    min_volume: float = 0.05
    max_rules: int = 15
    keep: tuple[str, ...] = ()
    keep_reason: str = ""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _figures_dict(figures: scorecard.Figures, threshold: int) -> dict[str, Any]:
    return {
        "auc": figures.auc.as_dict(),
        "acceptance": figures.acceptance.as_dict(),
        "volume": figures.volume.as_dict(),
        "mqls": figures.mqls,
        "accepted": figures.accepted,
        "rows": figures.rows,
        "threshold": threshold,
    }


def _verdict(
    figures: dict[str, scorecard.Figures], lift: scorecard.Interval | None, counted: str
) -> list[str]:
    """Why the evidence shows no usable signal; empty when it does."""
    reasons = []
    draft = figures["draft"].auc
    if draft.low is None or draft.low <= scorecard.SIGNAL_AUC:
        interval = (
            f" (95 % interval {draft.low:.2f}{DASH}{draft.high:.2f})"
            if draft.low is not None and draft.high is not None
            else ""
        )
        value = "n/a" if draft.value is None else f"{draft.value:.2f}"
        reasons.append(
            f"On the newest {figures['draft'].rows:,} {counted}, the draft's AUC is "
            f"{value}{interval}: the interval does not clear {scorecard.SIGNAL_AUC:.2f}, "
            "so nothing here reliably tells good leads from bad."
        )
    if lift is not None and lift.low is not None and lift.low <= 0:
        reasons.append(
            f"The draft does no better than the live version on the same rows: AUC "
            f"{lift.value:+.2f} (95 % interval {lift.low:+.2f} to {lift.high:+.2f})."
        )
    return reasons


def _drift(dataset: Dataset, learned: Learned, report_auc: float | None) -> str | None:
    """Says so when the older rows predict well and the newest do not."""
    split = learned.split
    if not split.by_time or report_auc is None:
        return None
    card = learned.selection.card
    columns = np.flatnonzero(learned.points)
    if not columns.size:
        return None
    x = dataset.x[:, columns]
    learn_auc = scorecard.auc(dataset.y[split.learn], x[split.learn] @ card.coefficients[card.kept])
    if learn_auc is None or learn_auc < 0.65 or report_auc > learn_auc - 0.1:
        return None
    learn_dates = _part_dates(dataset.times, split.learn)
    report_dates = _part_dates(dataset.times, split.report)
    return (
        f"The older data does not predict the newer: what was learned reaches AUC "
        f"{learn_auc:.2f} on the {dataset.counted} it learned from"
        + (f" ({learn_dates[0]} to {learn_dates[1]})" if learn_dates else "")
        + f" but {report_auc:.2f} on the newest"
        + (f" ({report_dates[0]} to {report_dates[1]})" if report_dates else "")
        + ". What made leads convert has changed over time."
    )


def _threshold_words(proposal: scorecard.ThresholdProposal, settings: Settings) -> str | None:
    if proposal.reached_target:
        return None
    return (
        f"The target acceptance of {_percent(settings.target)} cannot be reached: at most "
        f"{_percent(proposal.best_acceptance)} acceptance, at "
        f"{_percent(proposal.best_acceptance_volume)} of leads. Proposed instead: the "
        f"threshold with the best acceptance that still sends at least "
        f"{_percent(settings.min_volume)} of leads."
    )


def _live_words(live: ScoringModel, scores: np.ndarray, qualifies: np.ndarray) -> str | None:
    if scores.size and np.all(scores == scores[0]):
        return (
            f"The live version (v{live.version}) gives every one of these leads the same "
            f"score ({_number_text(float(scores[0]))} points)"
            + (", and makes none of them an MQL" if not qualifies.any() else "")
            + ": it cannot tell them apart (imported leads have no activities)."
        )
    if not qualifies.any():
        return f"The live version (v{live.version}) makes none of these leads an MQL."
    return None


def _rules_report(dataset: Dataset, points: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    judged = dataset.x.min(axis=0) != dataset.x.max(axis=0)
    for j, (feature, p) in enumerate(zip(dataset.features, points, strict=True)):
        if p == 0 and feature.existing_rule_id is None:
            continue
        # A live rule these rows cannot judge (it holds for all or none of
        # them) stays as it is in the draft (write_draft).
        untouched = feature.existing_rule_id is not None and not judged[j]
        rows.append(
            {
                "rule": feature.label,
                "existing_rule_id": feature.existing_rule_id,
                "old_points": feature.old_points,
                "new_points": feature.old_points if untouched else int(p),
                "support": float((dataset.x[:, j] > 0).mean()),
                "untouched": untouched,
            }
        )
    rows.sort(key=lambda r: (r["untouched"], -abs(r["new_points"])))
    return rows


def build_report(
    *,
    dataset: Dataset,
    learned: Learned,
    live: ScoringModel,
    settings: Settings,
    proposal: scorecard.ThresholdProposal,
    y: np.ndarray,
    draft_scores: np.ndarray,
    draft_qualifies: np.ndarray,
    live_scores: np.ndarray,
    live_qualifies: np.ndarray,
    threshold: int,
    notes: list[str],
) -> tuple[dict[str, Any], list[str]]:
    """Everything the panel shows, and the reasons (if any) there is no
    usable signal. Every figure is on the report rows only."""
    figures, lift = scorecard.bootstrap(
        y,
        {"draft": draft_scores, "live": live_scores},
        {"draft": draft_qualifies, "live": live_qualifies},
    )
    reasons = _verdict(figures, lift, dataset.counted)
    notes = list(notes)
    for words in (
        _threshold_words(proposal, settings),
        _drift(dataset, learned, figures["draft"].auc.value),
        _live_words(live, live_scores, live_qualifies),
    ):
        if words:
            notes.append(words)
    selection = learned.selection
    report = {
        "counted": dataset.counted,
        "rows": len(dataset.y),
        "positives": int(dataset.y.sum()),
        "split": describe_split(dataset, learned.split),
        "verdict": "no_signal" if reasons else "proposed",
        "reasons": reasons,
        "draft": _figures_dict(figures["draft"], threshold),
        "live": _figures_dict(figures["live"], live.threshold),
        "live_version": live.version,
        "lift": lift.as_dict() if lift else None,
        "target_acceptance": settings.target,
        "min_volume": settings.min_volume,
        "threshold": threshold,
        "threshold_reaches_target": proposal.reached_target,
        "chosen_on": {
            "acceptance": proposal.acceptance_rate,
            "volume": proposal.volume_share,
            "best_acceptance": proposal.best_acceptance,
            "best_acceptance_volume": proposal.best_acceptance_volume,
        },
        "selection": {
            "method": selection.method,
            "full_auc": selection.full_auc,
            "readable_auc": selection.readable_auc,
            "candidates": learned.candidates,
            "kept": int(np.count_nonzero(learned.points)),
            "max_rules": settings.max_rules,
        },
        "excluded": [
            {"column": leak.column, "auc": leak.auc, "why": leak.words()}
            for leak in learned.leaks
            if not leak.overridden
        ],
        "kept_despite_leak": [
            {"column": leak.column, "auc": leak.auc, "reason": settings.keep_reason}
            for leak in learned.leaks
            if leak.overridden
        ],
        "rules": _rules_report(dataset, learned.points),
        "notes": notes,
        # The promise, for whoever checks it against the engine.
        "promised": {"mqls": figures["draft"].mqls, "accepted": figures["draft"].accepted},
        "auc_proposed": figures["draft"].auc.value,
        "auc_live": figures["live"].auc.value,
    }
    return report, reasons


def _fit_bounds(draft: ScoringModel) -> dict[str, int]:
    """Bounds wide enough that no learned point is clipped away: fit by the
    sum of the fit points of each sign, engagement by the capped rules'."""
    points = list(
        draft.rules.filter(layer__in=[Layer.DEMOGRAPHIC, Layer.FIRMOGRAPHIC]).values_list(
            "points", flat=True
        )
    )
    capped = [
        cap if p > 0 else -cap
        for p, cap in draft.rules.filter(layer=Layer.ENGAGEMENT, cap__isnull=False).values_list(
            "points", "cap"
        )
    ]
    fit_floor = min(draft.fit_floor, sum(p for p in points if p < 0))
    fit_ceiling = max(draft.fit_ceiling, sum(p for p in points if p > 0))
    engagement_floor = min(draft.engagement_floor, sum(c for c in capped if c < 0))
    engagement_ceiling = max(draft.engagement_ceiling, sum(c for c in capped if c > 0))
    return {
        "fit_floor": fit_floor,
        "fit_ceiling": fit_ceiling,
        "engagement_floor": engagement_floor,
        "engagement_ceiling": engagement_ceiling,
        "total_floor": min(draft.total_floor, fit_floor + engagement_floor),
        "total_ceiling": max(draft.total_ceiling, fit_ceiling + engagement_ceiling),
    }


@transaction.atomic
def write_draft(
    *,
    points: np.ndarray,
    dataset: Dataset,
    live: ScoringModel,
    source: str,
    by: User | None,
) -> ScoringModel:
    """A new draft: the live version with the learned points for its rules,
    the learned rules added, and the live fit rules the learning judged and
    did not keep removed. Its threshold is set afterwards (set_threshold)."""
    draft = scoring_services.clone_model(source=live, by=by, name=f"{live.name} (recalibrated)")
    rules_by_signature = {rule_signature(r): r for r in draft.rules.all()}
    live_rules = {r.pk: r for r in live.rules.all()}
    judged = dataset.x.min(axis=0) != dataset.x.max(axis=0)
    for j, (feature, p) in enumerate(zip(dataset.features, points, strict=True)):
        p = int(p)
        if feature.existing_rule_id is not None:
            if not judged[j]:
                # Held for all or none of these rows: they cannot say what it
                # is worth, so it keeps its points (the hand-offs' minimums and
                # threshold were met with them).
                continue
            rule = rules_by_signature[rule_signature(live_rules[feature.existing_rule_id])]
            if p == 0 and feature.rule:
                scoring_services.delete_rule(rule=rule, by=by)
                continue
            if p == rule.points:
                continue
            if rule.cap and rule.points:
                rule.cap = abs(p) * (feature.activities_to_cap or 1) or None
            rule.points = p
            scoring_services.save_rule(rule=rule, by=by)
        elif p != 0:
            fields = dict(feature.rule)
            layer = fields.pop("layer", None) or (
                Layer.FIRMOGRAPHIC
                if str(fields.get("field", "")).startswith("account.")
                else Layer.DEMOGRAPHIC
            )
            if layer == Layer.ENGAGEMENT:
                # The feature counted activities up to this many: so does the rule.
                fields["cap"] = abs(p) * (feature.activities_to_cap or 1)
            scoring_services.save_rule(
                rule=Rule(
                    model=draft,
                    layer=layer,
                    name=feature.label[:200],
                    description=feature.label[:200],
                    points=p,
                    **fields,
                ),
                by=by,
            )
    return draft


READABLE_THRESHOLD = 50  # where a shifted threshold lands: the usual "50 points makes an MQL"


def make_readable(*, draft: ScoringModel, by: User | None) -> int:
    """When a draft's threshold is zero or below (its learned points are
    mostly penalties), every lead starts at a base of points instead, so the
    threshold reads 50: a fit rule that holds for every lead (each has a
    source), with the fit and total bounds, the minimum fit, the grade bands
    and the threshold moved by as much. Every total moves by the same amount
    and every bar with it, so who qualifies, and with which grade, does not
    change. Returns the shift (0 when the threshold is already positive)."""
    if draft.threshold > 0:
        return 0
    shift = READABLE_THRESHOLD - draft.threshold
    scoring_services.save_rule(
        rule=Rule(
            model=draft, layer=Layer.DEMOGRAPHIC, name=f"Every lead starts at {shift:,} points",
            description="Holds for every lead: it only moves the scale so the threshold is "
            "positive.",
            field="source", operator="is_set", value=None, points=shift,
        ),
        by=by,
    )  # fmt: skip
    moved = {
        name: getattr(draft, name) + shift
        for name in (
            "threshold", "min_fit", "fit_floor", "fit_ceiling", "total_floor", "total_ceiling",
            "grade_a_min", "grade_b_min", "grade_c_min",
        )
    }  # fmt: skip
    scoring_services.update_model_settings(model=draft, by=by, **moved)
    return shift


def _propose(
    scores: np.ndarray, y: np.ndarray, settings: Settings, floor: int
) -> scorecard.ThresholdProposal:
    return scorecard.propose_threshold(
        scores, y, target=settings.target, min_volume=settings.min_volume, floor=floor
    )


def recalibrate_history(
    *, dataset: Dataset, learned: Learned, live: ScoringModel, settings: Settings,
    by: User | None, progress: Progress,
) -> tuple[ScoringModel, dict[str, Any]]:  # fmt: skip
    """Writes the draft, then asks the scoring engine what it does: the
    threshold is chosen on the engine's totals for the choosing rows, and the
    figures are the engine's MQLs among the report rows. Raises NoUsableSignal
    (and keeps no draft) when the evidence does not support one."""
    assert dataset.lead_ids is not None
    split = learned.split
    as_of = timezone.now()
    with transaction.atomic():
        draft = write_draft(
            points=learned.points, dataset=dataset, live=live, source="history", by=by
        )
        bounds = _fit_bounds(draft)
        # The live minimums are on the live points' scale (and imported leads
        # often have no activities): the learned points alone decide.
        minimums = {"min_fit": bounds["fit_floor"], "min_engagement": bounds["engagement_floor"]}
        draft = scoring_services.update_model_settings(
            model=draft, by=by, threshold=bounds["total_floor"], **bounds, **minimums
        )
        progress(70, "Scoring the held-out leads with the draft, as the engine does")
        totals, eligible = engine_scores(
            model=draft, lead_ids=dataset.lead_ids[split.choose], as_of=as_of
        )
        proposal = _propose(
            np.where(eligible, totals, -np.inf), dataset.y[split.choose], settings,
            bounds["total_floor"],
        )  # fmt: skip
        draft = scoring_services.update_model_settings(
            model=draft, by=by, threshold=proposal.threshold
        )
        shift = make_readable(draft=draft, by=by)
        draft.refresh_from_db()
        report_ids = dataset.lead_ids[split.report]
        draft_totals, draft_qualifies = engine_scores(model=draft, lead_ids=report_ids, as_of=as_of)
        live_totals, live_qualifies = engine_scores(model=live, lead_ids=report_ids, as_of=as_of)
        notes = list(dataset.notes)
        why = (
            "These leads' activities are learned from like any other condition"
            if dataset.has_activities
            else "Imported leads have no activities"
        )
        notes.append(
            f"{why}, so the draft's minimum fit and minimum "
            f"engagement are set to their floors ({draft.min_fit:,} and "
            f"{draft.min_engagement:,}; the live version asks for {live.min_fit:,} and "
            f"{live.min_engagement:,}): the learned points alone decide who becomes an MQL."
        )
        notes.append(
            "The draft's figures are what the scoring engine gives these leads under the "
            "draft itself: the preview and live scoring will do the same."
        )
        if shift:
            notes.append(
                f"The learned points are mostly penalties, so every lead starts at "
                f"{shift:,} points and the threshold reads {draft.threshold:,} instead of "
                f"{draft.threshold - shift:,}: every total and bar moved by as much, so who "
                "qualifies does not change."
            )
        report, reasons = build_report(
            dataset=dataset, learned=learned, live=live, settings=settings,
            proposal=proposal, y=dataset.y[split.report],
            draft_scores=draft_totals, draft_qualifies=draft_qualifies,
            live_scores=live_totals, live_qualifies=live_qualifies,
            threshold=draft.threshold, notes=notes,
        )  # fmt: skip
        report["report_lead_ids"] = [int(i) for i in report_ids]
        if reasons:
            transaction.set_rollback(True)
            raise NoUsableSignal(" ".join(reasons), report)
        draft = scoring_services.update_model_settings(
            model=draft, by=by, notes=_notes(report, "imported history")
        )
    return draft, report


def recalibrate_handoffs(
    *, dataset: Dataset, learned: Learned, live: ScoringModel, settings: Settings,
    by: User | None, progress: Progress,
) -> tuple[ScoringModel, dict[str, Any]]:  # fmt: skip
    """Writes the draft (new points for the live rules, the learned conditions
    on lead fields as new rules), then replays each
    hand-off under it as the engine combines points (replay_handoffs): the
    threshold is chosen on the choosing hand-offs, the figures are the report
    hand-offs'. Raises NoUsableSignal (and keeps no draft) when the evidence
    does not support one."""
    split = learned.split
    assert dataset.live_scores is not None
    progress(85, "Writing the draft version")
    with transaction.atomic():
        draft = write_draft(
            points=learned.points, dataset=dataset, live=live, source="hand-offs", by=by
        )
        totals, eligible = replay_handoffs(
            model=draft, live=live, dataset=dataset, rows=split.choose
        )
        proposal = _propose(
            np.where(eligible, totals, -np.inf), dataset.y[split.choose], settings,
            draft.total_floor,
        )  # fmt: skip
        draft = scoring_services.update_model_settings(
            model=draft, by=by, threshold=proposal.threshold
        )
        draft_totals, eligible = replay_handoffs(
            model=draft, live=live, dataset=dataset, rows=split.report
        )
        live_scores = dataset.live_scores[split.report]
        notes = list(dataset.notes)
        decays = draft.rules.filter(half_life_days__gt=0).exists()
        notes.append(
            "The draft's figures replay each hand-off under the draft: the rules its "
            "snapshot recorded as holding when sales got it"
            + (" (activities decayed as they were then)" if decays else "")
            + " and the learned conditions on its lead's fields as they are now"
            + ", with the draft's points, caps, floors, ceilings, minimums and threshold, "
            "combined as the scoring engine does. The engine cannot score a past hand-off "
            "as it stood (a lead's fields are kept as they are now, not as they were), so "
            "the preview, which scores leads as they are now, can differ."
        )
        report, reasons = build_report(
            dataset=dataset, learned=learned, live=live, settings=settings,
            proposal=proposal, y=dataset.y[split.report],
            draft_scores=draft_totals,
            draft_qualifies=eligible & (draft_totals >= proposal.threshold),
            # Every hand-off was an MQL of the version that scored it.
            live_scores=live_scores, live_qualifies=np.ones(len(live_scores), dtype=bool),
            threshold=proposal.threshold, notes=notes,
        )  # fmt: skip
        assert dataset.snapshot_ids is not None
        report["report_snapshot_ids"] = [int(i) for i in dataset.snapshot_ids[split.report]]
        if reasons:
            transaction.set_rollback(True)
            raise NoUsableSignal(" ".join(reasons), report)
        draft = scoring_services.update_model_settings(
            model=draft, by=by, notes=_notes(report, "hand-offs")
        )
    return draft, report


def _notes(report: dict[str, Any], source: str) -> str:
    auc = report["draft"]["auc"]
    return (
        f"Proposed by recalibration from {source}: AUC {auc['value']:.3f} "
        f"(95 % interval {auc['low']:.2f}{DASH}{auc['high']:.2f}) on the newest "
        f"{report['draft']['rows']:,} {report['counted']}, threshold {report['threshold']}."
    )


def start_recalibration(
    *,
    source: str,
    outcome: str,
    target: float = 0.65,
    min_volume: float = 0.05,
    max_rules: int = 15,
    keep_columns: list[str] | None = None,
    keep_reason: str = "",
    by: User | None = None,
) -> Recalibration:
    """Records a queued run and has a worker do it after commit. Columns in
    ``keep_columns`` are learned from even when the leak guard would leave
    them out; ``keep_reason`` says why (required with them)."""
    keep_columns = [c.strip() for c in keep_columns or [] if c.strip()]
    if keep_columns and not keep_reason.strip():
        raise ValueError(
            "Say why the columns kept despite the leak guard are known before contact."
        )
    if source == Recalibration.Source.HISTORY:
        outcome = Recalibration.Outcome.KNOWN
    return start_job(
        Recalibration,
        source=source,
        outcome=outcome,
        target_acceptance=target,
        min_volume=min_volume,
        max_rules=max_rules,
        keep_columns=keep_columns,
        keep_reason=keep_reason.strip(),
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
    outcome (proposed, refused with the counts or the figures that show no
    signal, or failed) is recorded on the run. False when there was nothing
    to claim."""
    return run_job(Recalibration, pk=run_id, work=_recalibrate)


def _recalibrate(run: Recalibration) -> dict[str, Any]:
    def progress(percent: int, step: str) -> None:
        run.record_progress(progress=percent, step=step)

    live = live_model()
    settings = Settings(
        target=float(run.target_acceptance),
        min_volume=float(run.min_volume),
        max_rules=run.max_rules,
        keep=tuple(run.keep_columns or ()),
        keep_reason=run.keep_reason,
    )
    try:
        if live is None:
            raise scorecard.NotEnoughEvidence("There is no live scoring model to recalibrate.")
        if run.source == Recalibration.Source.HISTORY:
            dataset = history_dataset(progress=progress, live=live)
        else:
            dataset = handoff_dataset(live=live, outcome=run.outcome, progress=progress)
        progress(55, "Fitting the scorecard")
        learned = learn(dataset, max_rules=settings.max_rules, keep=settings.keep)
        recalibrate = (
            recalibrate_history
            if run.source == Recalibration.Source.HISTORY
            else recalibrate_handoffs
        )
        draft, report = recalibrate(
            dataset=dataset, learned=learned, live=live, settings=settings,
            by=run.requested_by, progress=progress,
        )  # fmt: skip
    except scorecard.NotEnoughEvidence as refused:
        raise JobRefused(str(refused), progress=100) from None
    except NoUsableSignal as no_signal:
        raise JobRefused(
            f"No usable signal: no draft was written. {no_signal}",
            progress=100,
            report=no_signal.report,
            based_on=live,
        ) from None
    return {
        "proposal": draft,
        "report": report,
        "progress": 100,
        "step": "Done",
        "based_on": live,
    }
