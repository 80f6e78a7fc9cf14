"""Fitting a whole-number scorecard to outcomes.

Pure numbers, no database: given which conditions held for each hand-off (a
0/1 matrix), what happened (1/0) and when (for a split by time), it fits a
logistic regression, turns coefficients into whole points people can read and
edit, proposes the threshold that gives a target acceptance rate on leads the
fit never saw, and reports the held-out AUC of the rounded scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

# One unit of log-odds is worth this many points: fine enough that rounding to
# whole points costs almost nothing, coarse enough to read.
POINTS_PER_LOGIT = 20


class NotEnoughEvidence(Exception):
    """Too few labelled outcomes to learn from; the message says how many."""


@dataclass(frozen=True)
class Evidence:
    minimum_total: int = 200
    minimum_per_class: int = 30

    def check(self, y: np.ndarray, what: str = "labelled hand-offs") -> None:
        positives = int(y.sum())
        negatives = int(len(y) - positives)
        if (
            len(y) < self.minimum_total
            or positives < self.minimum_per_class
            or negatives < self.minimum_per_class
        ):
            raise NotEnoughEvidence(
                f"Recalibration needs at least {self.minimum_total} {what} with at least "
                f"{self.minimum_per_class} of each outcome; it has {len(y)} "
                f"({positives} positive, {negatives} negative). Nothing was proposed."
            )


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # indexes
    test: np.ndarray


def split_by_time(times: np.ndarray, *, test_share: float = 0.3) -> Split:
    """The oldest leads to learn from, the newest to judge on."""
    order = np.argsort(times, kind="stable")
    cut = round(len(order) * (1 - test_share))
    return Split(train=order[:cut], test=order[cut:])


@dataclass(frozen=True)
class Scorecard:
    points: np.ndarray  # whole points per feature
    intercept_points: int
    coefficients: np.ndarray  # unrounded, log-odds per feature
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        return x @ self.points


def fit_scorecard(x: np.ndarray, y: np.ndarray, *, regularisation: float = 1.0) -> Scorecard:
    model = LogisticRegression(C=regularisation, max_iter=2000)
    model.fit(x, y)
    coefficients = model.coef_[0]
    return Scorecard(
        points=np.rint(coefficients * POINTS_PER_LOGIT).astype(int),
        intercept_points=round(float(model.intercept_[0]) * POINTS_PER_LOGIT),
        coefficients=coefficients,
        intercept=float(model.intercept_[0]),
    )


def auc(y: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve; None when only one outcome is present."""
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, scores))


@dataclass(frozen=True)
class ThresholdProposal:
    threshold: int
    acceptance_rate: float  # among leads at or above the threshold
    volume_share: float  # share of leads at or above the threshold
    reached_target: bool


def propose_threshold(
    scores: np.ndarray,
    y: np.ndarray,
    *,
    target: float = 0.65,
) -> ThresholdProposal:
    """The lowest whole-point threshold whose MQLs are accepted at least at the
    target rate (the most volume that stays healthy). When no threshold reaches
    the target, the one with the best acceptance rate, flagged as such."""
    best: ThresholdProposal | None = None
    for threshold in sorted({int(s) for s in scores}):
        above = scores >= threshold
        rate = float(y[above].mean())
        proposal = ThresholdProposal(threshold, rate, float(above.mean()), rate >= target)
        if proposal.reached_target:
            return proposal
        if best is None or rate > best.acceptance_rate:
            best = proposal
    assert best is not None, "no scores to propose a threshold from"
    return best
