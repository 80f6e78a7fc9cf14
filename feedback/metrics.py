"""Conversion metrics for the sales manager: reads of the weekly rollup.

Each selector sums ``WeeklyCount`` rows in the database (how each row is
counted is in ``feedback.rollup``) over a period of whole weeks, optionally
for one lead source and one queue. The definitions, as the dashboard shows them:

- **Acceptance rate** (MQL -> SAL) = accepted / (accepted + rejected +
  recycled), over the assignments closed in the period; by week, source,
  queue, SDR or model version (of the hand-off snapshot). Flagged against
  the healthy band, 60 % to 75 % inclusive: below it sales turns down what
  marketing sends; above it the bar may be too high and leads are missed.
- **Funnel**: MQL crossings, SALs (assignments accepted), SQLs,
  opportunities (leads entering the stage) and won leads, each counted in
  the period; each step's conversion is its count over the previous step's.
  These are flows of the same period, not cohorts: a step can pass 100 %
  when leads of earlier weeks convert. **SAL -> SQL** and **SQL -> won**
  are two of these steps.
- **Median time to first touch**, over the assignments first touched in the
  period, to the minute (rounded down); the mean of the two middle ones when
  their number is even.
- **MQL volume against pipeline**: MQL crossings per week, and the sum of the
  amounts of the opportunities created (``created_on``) that week.
- **Reject reasons**: rejections per reason per week.
- **Score distribution**: accepted and rejected hand-offs by their snapshot's
  total, in buckets of 10 points.
- **Rule lift**: for each rule of a version, the acceptance rate of the
  period's decided hand-offs of that version whose snapshot fired the rule,
  against those whose snapshot did not; the lift is the difference, in
  percentage points.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from feedback.models import Measure, WeeklyCount
from feedback.rollup import last_refreshed, week_of
from handoff.reports.report import Report, percent
from leads.models import LeadSource
from routing.models import Queue
from routing.services.decisions import RejectReason
from scoring.models import Rule
from scoring.selectors import live_model

HEALTHY_BAND = (60, 75)  # per cent, both included
DECISIONS = (Measure.ACCEPTED, Measure.REJECTED, Measure.RECYCLED)
SCORE_BUCKET = 10

# Alerts
ALERT_ACCEPTANCE_BELOW = 50  # per cent
ALERT_MIN_DECISIONS = 10  # fewer decisions than this say nothing about the definition
ALERT_WEEKS = 4
ALERT_MQL_RISE = Decimal("0.25")  # MQLs up at least this much...
ALERT_PIPELINE_FLAT = Decimal("0.05")  # ...while pipeline changed less than this
ALERT_REVIEW_DAYS = 90
LOWEST_RULES_NAMED = 3


@dataclass(frozen=True)
class MetricFilters:
    """Whole weeks from ``first_week`` to ``last_week`` (Mondays, both
    included), optionally only one lead source and one queue."""

    first_week: date
    last_week: date
    source: LeadSource | None = None
    queue: Queue | None = None

    @property
    def weeks(self) -> list[date]:
        count = (self.last_week - self.first_week).days // 7 + 1
        return [self.first_week + timedelta(weeks=i) for i in range(count)]


def _rows(
    filters: MetricFilters,
    *measures: str,
    first_week: date | None = None,
    last_week: date | None = None,
) -> QuerySet[WeeklyCount]:
    queryset = WeeklyCount.objects.filter(
        measure__in=measures,
        week__gte=first_week or filters.first_week,
        week__lte=last_week or filters.last_week,
    )
    if filters.source is not None:
        queryset = queryset.filter(source=filters.source)
    if filters.queue is not None:
        queryset = queryset.filter(queue=filters.queue)
    return queryset.order_by()


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


# --- Acceptance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    label: str
    accepted: int = 0
    rejected: int = 0
    recycled: int = 0
    key: Any = None

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected + self.recycled

    @property
    def rate(self) -> float | None:
        """Per cent accepted of those decided; None when none was decided."""
        return percent(self.accepted, self.decided)

    @property
    def band(self) -> str | None:
        """ "below", "healthy" or "above" the healthy band; None without decisions."""
        if self.rate is None:
            return None
        low, high = HEALTHY_BAND
        return "below" if self.rate < low else "above" if self.rate > high else "healthy"

    @property
    def band_text(self) -> str:
        return self.band or "n/a"

    @property
    def band_title(self) -> str:
        low, high = HEALTHY_BAND
        return {
            "below": f"Below the healthy band ({low}\N{EN DASH}{high} %)",
            "above": f"Above the healthy band ({low}\N{EN DASH}{high} %)",
            "healthy": f"In the healthy band ({low}\N{EN DASH}{high} %)",
        }.get(self.band or "", "Nothing decided")


def _user_name(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or username or ""


# How each breakdown groups the rows and names a group.
BREAKDOWNS: dict[str, tuple[tuple[str, ...], Any]] = {
    "source": (("source_id", "source__name"), lambda r: r["source__name"] or "(no source)"),
    "queue": (("queue_id", "queue__name"), lambda r: r["queue__name"] or "(no queue)"),
    "sdr": (
        ("sdr_id", "sdr__first_name", "sdr__last_name", "sdr__username"),
        lambda r: (
            _user_name(r["sdr__first_name"], r["sdr__last_name"], r["sdr__username"]) or "(no SDR)"
        ),
    ),
    "model": (
        ("model_id", "model__version", "model__name"),
        lambda r: (
            f"v{r['model__version']} {r['model__name']}" if r["model_id"] else "(no snapshot)"
        ),
    ),
}


def acceptance_by(filters: MetricFilters, by: str) -> list[Acceptance]:
    """Acceptance per week of the period (every week, oldest first), or per
    source, queue, SDR or model version (most decisions first)."""
    if by == "week":
        rows = _rows(filters, *DECISIONS).values("week", "measure").annotate(total=Sum("value"))
        counts: dict[date, dict[str, int]] = defaultdict(dict)
        for row in rows:
            counts[row["week"]][row["measure"]] = int(row["total"])
        return [
            Acceptance(label=_day(week), key=week, **counts.get(week, {})) for week in filters.weeks
        ]
    fields, name = BREAKDOWNS[by]
    rows = _rows(filters, *DECISIONS).values(*fields, "measure").annotate(total=Sum("value"))
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(row[fields[0]], {"label": name(row), "key": row[fields[0]]})
        group[row["measure"]] = int(row["total"])
    result = [Acceptance(**group) for group in groups.values()]
    return sorted(result, key=lambda a: (-a.decided, a.label))


def acceptance_total(filters: MetricFilters) -> Acceptance:
    rows = _rows(filters, *DECISIONS).values("measure").annotate(total=Sum("value"))
    return Acceptance(label="All", **{row["measure"]: int(row["total"]) for row in rows})


# --- Funnel -----------------------------------------------------------------------------------


FUNNEL_STEPS = (
    (Measure.MQL, "MQL"),
    (Measure.ACCEPTED, "SAL"),
    (Measure.SQL, "SQL"),
    (Measure.OPPORTUNITY, "Opportunity"),
    (Measure.WON, "Won"),
)


@dataclass(frozen=True)
class FunnelStep:
    name: str
    count: int
    conversion: float | None  # per cent of the previous step; None for the first


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]

    def count(self, name: str) -> int:
        return next(step.count for step in self.steps if step.name == name)

    def _conversion(self, name: str) -> float | None:
        return next(step.conversion for step in self.steps if step.name == name)

    @property
    def mql_to_sal(self) -> float | None:
        return self._conversion("SAL")

    @property
    def sal_to_sql(self) -> float | None:
        return self._conversion("SQL")

    @property
    def sql_to_won(self) -> float | None:
        """Won over SQLs of the period (skipping the opportunity step)."""
        return percent(self.count("Won"), self.count("SQL"))


def funnel(filters: MetricFilters) -> Funnel:
    rows = (
        _rows(filters, *(measure for measure, _ in FUNNEL_STEPS))
        .values("measure")
        .annotate(total=Sum("value"))
    )
    totals = {row["measure"]: int(row["total"]) for row in rows}
    steps, previous = [], None
    for measure, name in FUNNEL_STEPS:
        count = totals.get(measure, 0)
        steps.append(
            FunnelStep(name, count, None if previous is None else percent(count, previous))
        )
        previous = count
    return Funnel(steps)


# --- Time to first touch ---------------------------------------------------------------------


def median_time_to_first_touch(filters: MetricFilters) -> timedelta | None:
    """Exact to the minute: the rollup keeps how many touches came after each
    whole number of minutes, so the median is read off those counts (one row
    per distinct minute, not per touch)."""
    rows = _rows(filters, Measure.FIRST_TOUCH).values("key").annotate(total=Sum("value"))
    counts = sorted((int(row["key"]), int(row["total"])) for row in rows)
    n = sum(count for _, count in counts)
    if not n:
        return None
    # The values at positions (n-1)//2 and n//2 (0-based) of the sorted touches.
    wanted, found, seen = [(n - 1) // 2, n // 2], [], 0
    for minutes, count in counts:
        while wanted and wanted[0] < seen + count:
            found.append(minutes)
            wanted.pop(0)
        seen += count
    return timedelta(minutes=sum(found) / 2)


# --- Volume against pipeline ---------------------------------------------------------------


@dataclass(frozen=True)
class WeekVolume:
    week: date
    mqls: int
    opportunities: int
    pipeline: Decimal


def _weekly(
    filters: MetricFilters, measures: tuple[str, ...], first_week: date, last_week: date
) -> dict[date, dict[str, Decimal]]:
    rows = (
        _rows(filters, *measures, first_week=first_week, last_week=last_week)
        .values("week", "measure")
        .annotate(total=Sum("value"))
    )
    weekly: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        weekly[row["week"]][row["measure"]] = row["total"]
    return weekly


VOLUME_MEASURES = (Measure.MQL, Measure.OPPORTUNITIES_CREATED, Measure.PIPELINE)


def volume_and_pipeline(filters: MetricFilters) -> list[WeekVolume]:
    """Every week of the period: MQL crossings, opportunities created and
    their amounts (pipeline created)."""
    weekly = _weekly(filters, VOLUME_MEASURES, filters.first_week, filters.last_week)
    return [
        WeekVolume(
            week,
            int(weekly[week].get(Measure.MQL, 0)),
            int(weekly[week].get(Measure.OPPORTUNITIES_CREATED, 0)),
            weekly[week].get(Measure.PIPELINE, Decimal("0.00")),
        )
        for week in filters.weeks
    ]


# --- Reject reasons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonSeries:
    reason: str
    label: str
    per_week: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_week)


def reject_reasons(filters: MetricFilters) -> list[ReasonSeries]:
    """Rejections per reason, for every week of the period; the most common
    reason first. Reasons never given in the period are left out."""
    rows = _rows(filters, Measure.REJECT_REASON).values("key", "week").annotate(total=Sum("value"))
    weeks = {week: i for i, week in enumerate(filters.weeks)}
    per_reason: dict[str, list[int]] = {}
    for row in rows:
        series = per_reason.setdefault(row["key"], [0] * len(weeks))
        series[weeks[row["week"]]] += int(row["total"])
    labels = dict(RejectReason.choices)
    result = [
        ReasonSeries(reason, labels.get(reason, reason or "(no reason)"), series)
        for reason, series in per_reason.items()
    ]
    return sorted(result, key=lambda s: (-s.total, s.label))


# --- Score distribution ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreBucket:
    low: int  # low <= total < low + 10
    accepted: int
    rejected: int

    @property
    def label(self) -> str:
        return f"{self.low}\N{EN DASH}{self.low + SCORE_BUCKET - 1}"

    @property
    def acceptance(self) -> float | None:
        """Accepted over accepted and rejected in this bucket, per cent."""
        return percent(self.accepted, self.accepted + self.rejected)


def score_distribution(filters: MetricFilters) -> list[ScoreBucket]:
    """Every bucket from the lowest to the highest score seen, empty ones included."""
    rows = (
        _rows(filters, Measure.SCORE_ACCEPTED, Measure.SCORE_REJECTED)
        .values("key", "measure")
        .annotate(total=Sum("value"))
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[int(row["key"])][row["measure"]] = int(row["total"])
    if not counts:
        return []
    return [
        ScoreBucket(
            low,
            counts[low].get(Measure.SCORE_ACCEPTED, 0),
            counts[low].get(Measure.SCORE_REJECTED, 0),
        )
        for low in range(min(counts), max(counts) + 1, SCORE_BUCKET)
    ]


# --- Rule lift ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleLift:
    rule_id: int
    rule: str
    version: int | None
    fired: int  # decided hand-offs of the version whose snapshot fired the rule
    fired_accepted: int
    not_fired: int  # decided hand-offs of the version whose snapshot did not
    not_fired_accepted: int

    @property
    def rate_fired(self) -> float | None:
        return percent(self.fired_accepted, self.fired)

    @property
    def rate_not_fired(self) -> float | None:
        return percent(self.not_fired_accepted, self.not_fired)

    @property
    def lift(self) -> float | None:
        """Percentage points the rule's firing adds to the acceptance rate."""
        if self.rate_fired is None or self.rate_not_fired is None:
            return None
        return self.rate_fired - self.rate_not_fired


def rule_lift(filters: MetricFilters) -> list[RuleLift]:
    """Every rule that fired in a decided hand-off of the period, the lowest
    acceptance when fired first (the rules to review first)."""
    fired_rows = (
        _rows(filters, Measure.RULE_FIRED_DECIDED, Measure.RULE_FIRED_ACCEPTED)
        .values("model_id", "key", "measure")
        .annotate(total=Sum("value"))
    )
    fired: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for row in fired_rows:
        fired[(row["model_id"], int(row["key"]))][row["measure"]] = int(row["total"])
    if not fired:
        return []
    base_rows = (
        _rows(filters, Measure.ACCEPTED, Measure.REJECTED, Measure.RECYCLED)
        .filter(model_id__in={model_id for model_id, _ in fired})
        .values("model_id", "measure")
        .annotate(total=Sum("value"))
    )
    decided: dict[int, int] = defaultdict(int)
    accepted: dict[int, int] = defaultdict(int)
    for row in base_rows:
        decided[row["model_id"]] += int(row["total"])
        if row["measure"] == Measure.ACCEPTED:
            accepted[row["model_id"]] += int(row["total"])
    rules = {
        pk: (name, version)
        for pk, name, version in Rule.objects.filter(
            pk__in={rule_id for _, rule_id in fired}
        ).values_list("pk", "name", "model__version")
    }
    result = []
    for (model_id, rule_id), counts in fired.items():
        n_fired = counts.get(Measure.RULE_FIRED_DECIDED, 0)
        n_fired_accepted = counts.get(Measure.RULE_FIRED_ACCEPTED, 0)
        name, version = rules.get(rule_id, (f"Rule #{rule_id} (deleted)", None))
        result.append(
            RuleLift(
                rule_id=rule_id,
                rule=name,
                version=version,
                fired=n_fired,
                fired_accepted=n_fired_accepted,
                not_fired=decided[model_id] - n_fired,
                not_fired_accepted=accepted[model_id] - n_fired_accepted,
            )
        )
    return sorted(
        result,
        key=lambda r: (
            r.rate_fired if r.rate_fired is not None else 101,
            -r.fired,
            r.rule,
            r.version or 0,
        ),
    )


# --- Alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    kind: str
    title: str
    action: str
    details: list[str] = field(default_factory=list)


def _low_acceptance(total: Acceptance, lift: list[RuleLift]) -> Alert | None:
    """Acceptance under 50 % over at least ten decisions in the period."""
    if total.decided < ALERT_MIN_DECISIONS or total.rate is None:
        return None
    if total.rate >= ALERT_ACCEPTANCE_BELOW:
        return None
    lowest = [r for r in lift if r.rate_fired is not None][:LOWEST_RULES_NAMED]
    return Alert(
        kind="low-acceptance",
        title=f"Acceptance is {total.rate:.1f} %, under {ALERT_ACCEPTANCE_BELOW} % "
        f"({total.accepted} of {total.decided} MQLs accepted).",
        action="The MQL definition or the scoring is broken: review the rules with the "
        "lowest acceptance.",
        details=[
            f"{r.rule}{f' (v{r.version})' if r.version else ''}: {r.rate_fired:.1f} % "
            f"accepted when it fired, {r.fired} hand-offs"
            for r in lowest
        ],
    )


def _change(before: Decimal, after: Decimal) -> Decimal | None:
    """Relative change, or None from nothing to something (no ratio)."""
    if before == 0:
        return Decimal(0) if after == 0 else None
    return (after - before) / before


def volume_alert_weeks(filters: MetricFilters, *, now: datetime) -> tuple[date, date, date]:
    """(first of the four weeks before, first of the last four, last of them):
    the last four whole weeks end with the period's last week, or with the
    week before the current one if the period reaches into it."""
    last = min(filters.last_week, week_of(now) - timedelta(weeks=1))
    recent_first = last - timedelta(weeks=ALERT_WEEKS - 1)
    return recent_first - timedelta(weeks=ALERT_WEEKS), recent_first, last


def _source_drift(filters: MetricFilters, *, now: datetime) -> Alert | None:
    """A source whose MQLs of the last four whole weeks were accepted under
    50 % of the time (over at least ten decisions): the period's total can
    stay in the band while one source sends what sales turns down."""
    if filters.source is not None:
        return None  # the period's own acceptance is that source's: _low_acceptance
    _, recent_first, last = volume_alert_weeks(filters, now=now)
    recent = MetricFilters(first_week=recent_first, last_week=last, queue=filters.queue)
    drifting = [
        a
        for a in acceptance_by(recent, "source")
        if a.key is not None
        and a.decided >= ALERT_MIN_DECISIONS
        and a.rate is not None
        and a.rate < ALERT_ACCEPTANCE_BELOW
    ]
    if not drifting:
        return None
    names = ", ".join(a.label for a in drifting)
    return Alert(
        kind="source-drift",
        title=f"{names}: under {ALERT_ACCEPTANCE_BELOW} % of MQLs accepted in the last "
        f"{ALERT_WEEKS} weeks.",
        action="Sales turns down what this source sends now: look at what changed in it "
        "(a campaign, a list, a form) and at the rules that qualify its leads.",
        details=[
            f"{a.label}: {a.rate:.1f} % accepted ({a.accepted:,} of {a.decided:,} MQLs), "
            f"weeks of {_day(recent_first)} to {_day(last)}"
            for a in drifting
        ],
    )


def _volume_without_pipeline(filters: MetricFilters, *, now: datetime) -> Alert | None:
    """The last four whole weeks' MQLs up at least 25 % on the four before,
    while pipeline created changed (either way) by less than 5 %. From no
    MQLs at all there is no rise to measure."""
    before_first, recent_first, last = volume_alert_weeks(filters, now=now)
    weekly = _weekly(filters, (Measure.MQL, Measure.PIPELINE), before_first, last)

    def total(measure: str, first: date, last_: date) -> Decimal:
        return sum(
            (
                values.get(measure, Decimal(0))
                for week, values in weekly.items()
                if first <= week <= last_
            ),
            Decimal(0),
        )

    before_end = recent_first - timedelta(weeks=1)
    mqls = (total(Measure.MQL, before_first, before_end), total(Measure.MQL, recent_first, last))
    pipeline = (
        total(Measure.PIPELINE, before_first, before_end),
        total(Measure.PIPELINE, recent_first, last),
    )
    mql_change, pipeline_change = _change(*mqls), _change(*pipeline)
    if mqls[0] == 0 or mql_change is None or mql_change < ALERT_MQL_RISE:
        return None
    if pipeline_change is None or abs(pipeline_change) >= ALERT_PIPELINE_FLAT:
        return None
    return Alert(
        kind="volume-without-pipeline",
        title=f"MQLs are up {100 * mql_change:.0f} % ({int(mqls[0])} to {int(mqls[1])}) in the "
        f"four weeks to {_day(last + timedelta(days=6))} against the four before, but "
        f"pipeline created changed {100 * pipeline_change:+.1f} %.",
        action="More MQLs are not making more pipeline: check which sources and rules the new "
        "volume comes from, and whether sales is accepting it, before raising targets.",
    )


def _model_not_reviewed(*, now: datetime) -> Alert | None:
    """The live version was published more than 90 days ago."""
    model = live_model()
    if model is None or model.published_at is None:
        return None
    age = now - model.published_at
    if age <= timedelta(days=ALERT_REVIEW_DAYS):
        return None
    return Alert(
        kind="model-not-reviewed",
        title=f"The live MQL definition (v{model.version} {model.name}) was published "
        f"{age.days} days ago, on {_day(timezone.localdate(model.published_at))}.",
        action=f"Review it with marketing: it has not changed for more than "
        f"{ALERT_REVIEW_DAYS} days. Run a recalibration, preview the proposed version "
        "and approve it, or confirm this one.",
    )


# --- The whole dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardReport(Report):
    as_of: datetime | None
    funnel: Funnel
    total: Acceptance
    by_week: list[Acceptance]
    by_source: list[Acceptance]
    by_queue: list[Acceptance]
    by_sdr: list[Acceptance]
    by_model: list[Acceptance]
    median_first_touch: timedelta | None
    volume: list[WeekVolume]
    reasons: list[ReasonSeries]
    scores: list[ScoreBucket]
    rules: list[RuleLift]
    alerts: list[Alert]

    @property
    def charts(self) -> dict[str, Any]:
        """What ``dashboard.js`` draws, through ``json_script``."""
        low, high = HEALTHY_BAND
        return {
            "funnel": {
                "labels": [s.name for s in self.funnel.steps],
                "counts": [s.count for s in self.funnel.steps],
            },
            "acceptance": {
                "labels": [_short_day(a.key) for a in self.by_week],
                "rates": [round(a.rate, 1) if a.rate is not None else None for a in self.by_week],
                "decided": [a.decided for a in self.by_week],
                "band": [low, high],
            },
            "volume": {
                "labels": [_short_day(v.week) for v in self.volume],
                "mqls": [v.mqls for v in self.volume],
                "pipeline": [float(v.pipeline) for v in self.volume],
            },
            "reasons": {
                "labels": [_short_day(a.key) for a in self.by_week],
                "series": [{"label": s.label, "data": s.per_week} for s in self.reasons],
            },
        }

    @property
    def weeks(self) -> list[tuple[Acceptance, WeekVolume]]:
        """Week by week: acceptance and volume side by side."""
        return list(zip(self.by_week, self.volume, strict=True))

    @property
    def pipeline_total(self) -> Decimal:
        return sum((v.pipeline for v in self.volume), Decimal("0.00"))

    @property
    def mqls_total(self) -> int:
        return sum(v.mqls for v in self.volume)


def dashboard_report(filters: MetricFilters, *, now: datetime) -> DashboardReport:
    """Everything the manager's dashboard shows, in nineteen queries of the
    rollup and the live version (seventeen when no rule fired in the period)."""
    total = acceptance_total(filters)
    rules = rule_lift(filters)
    low = _low_acceptance(total, rules)
    drift = _source_drift(filters, now=now)  # asked either way: the same queries every time
    alerts = [
        alert
        for alert in (
            low,
            # One source's fall says nothing new when the whole period fell.
            drift if low is None else None,
            _volume_without_pipeline(filters, now=now),
            _model_not_reviewed(now=now),
        )
        if alert is not None
    ]
    return DashboardReport(
        as_of=last_refreshed(),
        funnel=funnel(filters),
        total=total,
        by_week=acceptance_by(filters, "week"),
        by_source=acceptance_by(filters, "source"),
        by_queue=acceptance_by(filters, "queue"),
        by_sdr=acceptance_by(filters, "sdr"),
        by_model=acceptance_by(filters, "model"),
        median_first_touch=median_time_to_first_touch(filters),
        volume=volume_and_pipeline(filters),
        reasons=reject_reasons(filters),
        scores=score_distribution(filters),
        rules=rules,
        alerts=alerts,
    )
