"""Fitting a whole-number scorecard to outcomes, and judging it honestly.

Pure numbers, no database: given which conditions held for each row (a 0/1
matrix, or capped counts), what happened (1/0) and when, it

- splits the rows in three: the oldest to learn from, the next to choose the
  threshold on, the newest to report on (or, without dates, a seeded
  stratified random split), so that every reported figure comes from rows used
  for neither learning nor choosing;
- keeps at most a set number of rules (L1-regularised path, then a plain
  refit), as long as that stays within 0.01 AUC of the full model;
- turns coefficients into whole points people can read and edit;
- proposes a threshold on the choosing rows: the most volume that reaches the
  target acceptance, never a sliver below the minimum volume;
- puts a bootstrap interval on AUC, acceptance and volume on the report rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

# One unit of log-odds is worth this many points: fine enough that rounding to
# whole points costs almost nothing, coarse enough to read.
POINTS_PER_LOGIT = 20
LEARN_SHARE, CHOOSE_SHARE = 0.6, 0.2  # the rest (20 %) is reported on
SEED = 20_260_101
BOOTSTRAP_ROUNDS = 1000
# A model whose AUC interval does not clear this has no usable signal.
SIGNAL_AUC = 0.55


class NotEnoughEvidence(Exception):
    """Too few labelled outcomes to learn from; the message says how many."""


@dataclass(frozen=True)
class Evidence:
    minimum_total: int = 200
    minimum_per_class: int = 30

    def check(self, y: np.ndarray, what: str = "hand-offs with a decision") -> None:
        positives = int(y.sum())
        negatives = int(len(y) - positives)
        if (
            len(y) < self.minimum_total
            or positives < self.minimum_per_class
            or negatives < self.minimum_per_class
        ):
            raise NotEnoughEvidence(
                f"Recalibration needs at least {self.minimum_total:,} {what} with at least "
                f"{self.minimum_per_class:,} of each outcome; it has {len(y):,} "
                f"({positives:,} positive, {negatives:,} negative). Nothing was proposed."
            )


# --- the split ---------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    learn: np.ndarray  # row indexes
    choose: np.ndarray
    report: np.ndarray
    by_time: bool

    @property
    def learn_and_choose(self) -> np.ndarray:
        return np.concatenate([self.learn, self.choose])


def split_by_time(times: np.ndarray, *, undated: np.ndarray | None = None) -> Split:
    """The oldest 60 % to learn from, the next 20 % to choose the threshold
    on, the newest 20 % to report on. Rows without a date (``undated``, a
    boolean mask) only ever help learning: they cannot be placed in time."""
    rows = np.arange(len(times))
    dated = rows if undated is None else rows[~undated]
    order = dated[np.argsort(times[dated], kind="stable")]
    n = len(order)
    learn_end = round(n * LEARN_SHARE)
    choose_end = round(n * (LEARN_SHARE + CHOOSE_SHARE))
    extra = np.array([], dtype=int) if undated is None else rows[undated]
    return Split(
        learn=np.concatenate([order[:learn_end], extra]).astype(int),
        choose=order[learn_end:choose_end],
        report=order[choose_end:],
        by_time=True,
    )


def split_at_random(y: np.ndarray, *, seed: int = SEED) -> Split:
    """Without dates: a random 60/20/20 split that keeps the share of each
    outcome in every part, the same for the same rows (seeded)."""
    rows = np.arange(len(y))
    learn, rest = train_test_split(
        rows, train_size=LEARN_SHARE, stratify=y, random_state=seed, shuffle=True
    )
    choose, report = train_test_split(
        rest, train_size=0.5, stratify=y[rest], random_state=seed, shuffle=True
    )
    return Split(np.sort(learn), np.sort(choose), np.sort(report), by_time=False)


# --- the fit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scorecard:
    points: np.ndarray  # whole points per feature (0 for features not kept)
    coefficients: np.ndarray  # unrounded, log-odds per feature
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        return x @ self.points

    @property
    def kept(self) -> np.ndarray:
        return np.flatnonzero(self.points)


def _logistic(x: np.ndarray, y: np.ndarray, *, c: float = 1.0) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=c, max_iter=2000).fit(x, y)


def fit_scorecard(x: np.ndarray, y: np.ndarray, *, columns: np.ndarray | None = None) -> Scorecard:
    """A plain (L2, C=1) logistic regression on ``columns`` (all by default),
    rounded to whole points; features left out get 0."""
    width = x.shape[1]
    columns = np.arange(width) if columns is None else columns
    coefficients = np.zeros(width)
    intercept = float(np.log(max(y.mean(), 1e-9) / max(1 - y.mean(), 1e-9)))
    if len(columns):
        model = _logistic(x[:, columns], y)
        coefficients[columns] = model.coef_[0]
        intercept = float(model.intercept_[0])
    return Scorecard(
        points=np.rint(coefficients * POINTS_PER_LOGIT).astype(int),
        coefficients=coefficients,
        intercept=intercept,
    )


def l1_path(x: np.ndarray, y: np.ndarray, *, max_rules: int) -> list[np.ndarray]:
    """Sets of features chosen by L1-regularised fits, from the strongest
    penalty to the weakest, each with at most ``max_rules`` features."""
    found: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    # Scale the penalty to the data: liblinear's C multiplies the summed loss.
    for c in np.geomspace(0.5, 200, 14) / len(y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(
                l1_ratio=1.0, C=c, solver="liblinear", max_iter=500, random_state=0
            ).fit(x, y)
        chosen = np.flatnonzero(np.abs(model.coef_[0]) > 1e-6)
        if len(chosen) > max_rules:
            break
        key = tuple(chosen)
        if chosen.size and key not in seen:
            seen.add(key)
            found.append(chosen)
    return found


def forward_selection(
    x_learn: np.ndarray,
    y_learn: np.ndarray,
    x_judge: np.ndarray,
    y_judge: np.ndarray,
    *,
    max_rules: int,
    candidates: np.ndarray,
) -> np.ndarray:
    """Greedy: adds, one at a time, the candidate that raises the judging AUC
    most (by an unrounded refit), up to ``max_rules`` features."""
    chosen: list[int] = []
    best_auc = 0.5
    pool = list(candidates)
    while len(chosen) < max_rules and pool:
        scored = []
        for j in pool:
            columns = np.array([*chosen, j])
            model = _logistic(x_learn[:, columns], y_learn)
            scored.append((auc(y_judge, x_judge[:, columns] @ model.coef_[0]) or 0.5, j))
        value, j = max(scored)
        if value <= best_auc + 1e-4:
            break
        chosen.append(j)
        pool.remove(j)
        best_auc = value
    return np.array(sorted(chosen), dtype=int)


@dataclass(frozen=True)
class Selection:
    card: Scorecard
    full_auc: float | None  # the unrounded model with every feature, on the choosing rows
    readable_auc: float | None  # the kept rules, unrounded, on the choosing rows
    method: str


def readable_scorecard(
    x: np.ndarray,
    y: np.ndarray,
    split: Split,
    *,
    max_rules: int,
    tolerance: float = 0.01,
) -> Selection:
    """At most ``max_rules`` rules whose AUC on the choosing rows stays within
    ``tolerance`` of the full model's: the L1 path's largest set, or forward
    selection when that does better; then refit on the learning rows."""
    xl, yl = x[split.learn], y[split.learn]
    xc, yc = x[split.choose], y[split.choose]
    full = _logistic(xl, yl)
    full_auc = auc(yc, xc @ full.coef_[0])

    def judged(columns: np.ndarray) -> float:
        card = fit_scorecard(xl, yl, columns=columns)
        return auc(yc, xc @ card.coefficients) or 0.5

    if x.shape[1] <= max_rules:
        card = fit_scorecard(xl, yl)
        return Selection(card, full_auc, full_auc, "every candidate (no more than the limit)")
    options: list[tuple[float, str, np.ndarray]] = []
    path = l1_path(xl, yl, max_rules=max_rules)
    if path:
        options.append((judged(path[-1]), "L1-regularised fit", path[-1]))
    best_so_far = max((o[0] for o in options), default=0.0)
    if full_auc is None or best_so_far < full_auc - tolerance:
        # Forward selection among the strongest candidates by their own AUC.
        strength = np.array([abs((auc(yl, xl[:, j]) or 0.5) - 0.5) for j in range(x.shape[1])])
        candidates = np.argsort(-strength)[: max(3 * max_rules, 30)]
        chosen = forward_selection(xl, yl, xc, yc, max_rules=max_rules, candidates=candidates)
        if chosen.size:
            options.append((judged(chosen), "forward selection", chosen))
    if not options:
        card = fit_scorecard(xl, yl, columns=np.array([], dtype=int))
        return Selection(card, full_auc, None, "nothing")
    value, method, columns = max(options, key=lambda o: o[0])
    card = fit_scorecard(xl, yl, columns=columns)
    return Selection(card, full_auc, value, method)


def auc(y: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve; None when only one outcome is present."""
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, scores))


# --- the threshold -------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdProposal:
    threshold: int
    acceptance_rate: float  # among leads at or above the threshold (choosing rows)
    volume_share: float  # share of leads at or above the threshold (choosing rows)
    reached_target: bool
    best_acceptance: float  # the best any threshold reaches on the choosing rows…
    best_acceptance_volume: float  # …and at what volume


def propose_threshold(
    scores: np.ndarray,
    y: np.ndarray,
    *,
    target: float = 0.65,
    min_volume: float = 0.05,
    floor: int | None = None,
) -> ThresholdProposal:
    """The lowest whole-point threshold whose MQLs are accepted at least at
    the target rate and that still sends at least ``min_volume`` of the leads
    (the most volume that stays healthy). When none does, the threshold with
    the best acceptance among those that send ``min_volume``: never a sliver.
    ``floor``: thresholds at or below it are not considered (every lead's
    total is at least the floor, so such a threshold would take everyone)."""
    values = sorted({int(np.ceil(s)) for s in scores if np.isfinite(s)})
    if floor is not None:
        values = [v for v in values if v > floor] or [floor + 1]
    n = len(scores)
    # Best reachable acceptance: among thresholds sending at least 20 rows (or
    # 1 % of the rows), so one lucky lead is not "100 %".
    least = max(20, int(0.01 * n))
    best_rate, best_volume = 0.0, 0.0
    healthy: ThresholdProposal | None = None
    fallback: tuple[float, int, float] | None = None
    for threshold in values:
        above = scores >= threshold
        count = int(above.sum())
        if count == 0:
            break
        rate = float(y[above].mean())
        volume = count / n
        if count >= least and rate > best_rate:
            best_rate, best_volume = rate, volume
        if volume >= min_volume:
            if healthy is None and rate >= target:
                healthy = ThresholdProposal(threshold, rate, volume, True, 0.0, 0.0)
            if fallback is None or rate > fallback[0]:
                fallback = (rate, threshold, volume)
    if healthy is not None:
        return ThresholdProposal(
            healthy.threshold, healthy.acceptance_rate, healthy.volume_share, True,
            best_rate, best_volume,
        )  # fmt: skip
    if fallback is None:  # every threshold sends less than the minimum: the lowest
        threshold = values[0]
        above = scores >= threshold
        rate = float(y[above].mean()) if above.any() else 0.0
        return ThresholdProposal(
            threshold, rate, float(above.mean()), False, best_rate, best_volume
        )
    rate, threshold, volume = fallback
    return ThresholdProposal(threshold, rate, volume, False, best_rate, best_volume)


# --- intervals ---------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "low": self.low, "high": self.high}


def _cells(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of the given columns and how many rows each has."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return unique, counts


def _auc_from_counts(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC for each row of ``weights`` (resampled counts of the cells whose
    score and label are given), ties counting half."""
    values, index = np.unique(scores, return_inverse=True)
    k = len(values)
    positive = labels == 1
    pos = np.zeros((weights.shape[0], k))
    neg = np.zeros((weights.shape[0], k))
    np.add.at(pos.T, index[positive], weights[:, positive].T)
    np.add.at(neg.T, index[~positive], weights[:, ~positive].T)
    below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)


@dataclass(frozen=True)
class Figures:
    """What a version does on the report rows, each with its interval."""

    auc: Interval
    acceptance: Interval
    volume: Interval
    mqls: int
    accepted: int
    rows: int


def bootstrap(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    qualifies: dict[str, np.ndarray],
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = SEED,
) -> tuple[dict[str, Figures], Interval | None]:
    """Figures with 95 % bootstrap intervals for each named version (its
    scores, and which rows it makes MQLs), and the interval of the AUC lift of
    "draft" over "live" when both are given (paired: the same resamples).

    Resampling n rows with replacement gives each distinct (scores, MQL,
    outcome) cell a multinomial count, so a million rows cost as much as
    their few distinct cells."""
    names = list(scores)
    columns = [y.astype(float)]
    for name in names:
        columns += [scores[name].astype(float), qualifies[name].astype(float)]
    cells, counts = _cells(*columns)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, counts / n, size=rounds).astype(float)
    labels = cells[:, 0]
    figures: dict[str, Figures] = {}
    aucs: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        s, q = cells[:, 1 + 2 * i], cells[:, 2 + 2 * i].astype(bool)
        point_auc = auc(y, scores[name])
        sampled = _auc_from_counts(s, labels, weights)
        aucs[name] = sampled
        mqls = weights[:, q].sum(axis=1)
        accepted = weights[:, q & (labels == 1)].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            acceptance = accepted / mqls
        real_mqls = int(qualifies[name].sum())
        real_accepted = int(y[qualifies[name].astype(bool)].sum())
        figures[name] = Figures(
            auc=_interval(point_auc, sampled),
            acceptance=_interval(real_accepted / real_mqls if real_mqls else None, acceptance),
            volume=_interval(real_mqls / n, mqls / n),
            mqls=real_mqls,
            accepted=real_accepted,
            rows=n,
        )
    lift = None
    if "draft" in aucs and "live" in aucs:
        draft_auc, live_auc = auc(y, scores["draft"]), auc(y, scores["live"])
        if draft_auc is not None and live_auc is not None:
            lift = _interval(draft_auc - live_auc, aucs["draft"] - aucs["live"])
    return figures, lift


def _interval(value: float | None, sampled: np.ndarray) -> Interval:
    finite = sampled[np.isfinite(sampled)]
    if value is None or not finite.size:
        return Interval(value, None, None)
    low, high = np.quantile(finite, [0.025, 0.975])
    return Interval(value, float(low), float(high))
