import numpy as np
import pytest

from feedback.scorecard import (
    Evidence,
    NotEnoughEvidence,
    auc,
    fit_scorecard,
    propose_threshold,
    split_by_time,
)


def synthetic(n: int, seed: int = 3):
    """Three conditions: the first helps a lot, the second a little, the third hurts."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 3))
    logit = -1.0 + 2.0 * x[:, 0] + 0.5 * x[:, 1] - 1.5 * x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_points_follow_the_evidence_in_sign_and_order():
    x, y = synthetic(20_000)

    card = fit_scorecard(x, y)

    assert card.points[0] > card.points[1] > 0 > card.points[2]
    assert card.points[0] == pytest.approx(40, abs=3)  # 2.0 log-odds x 20 points


def test_the_rounded_scorecard_ranks_as_well_as_the_unrounded_fit():
    x, y = synthetic(5_000)
    split = split_by_time(np.arange(len(y)))
    card = fit_scorecard(x[split.learn], y[split.learn])

    rounded = auc(y[split.report], card.score(x[split.report]))
    exact = auc(y[split.report], x[split.report] @ card.coefficients)

    assert rounded >= 0.99 * exact


def test_the_split_learns_from_the_oldest_and_reports_on_the_newest():
    times = np.array([5, 1, 4, 2, 3, 9, 8, 7, 6, 0])

    split = split_by_time(times)

    assert sorted(times[split.learn].tolist()) == [0, 1, 2, 3, 4, 5]
    assert sorted(times[split.choose].tolist()) == [6, 7]
    assert sorted(times[split.report].tolist()) == [8, 9]


def test_the_threshold_is_the_lowest_that_reaches_the_target_rate():
    scores = np.array([10, 20, 30, 40, 50, 60, 70, 80])
    accepted = np.array([0, 0, 1, 0, 1, 1, 1, 1])

    proposal = propose_threshold(scores, accepted, target=0.65)

    # >= 30: 5 of 6 accepted (83 %); >= 20: 5 of 7 (71 %); >= 10: 5 of 8 (62.5 %).
    assert (proposal.threshold, proposal.reached_target) == (20, True)
    assert proposal.acceptance_rate == pytest.approx(5 / 7)
    assert proposal.volume_share == pytest.approx(7 / 8)


def test_leads_that_cannot_qualify_count_in_the_volume_but_never_set_the_threshold():
    # -inf: kept from qualifying by a minimum fit or engagement, whatever the total.
    scores = np.array([-np.inf, -np.inf, 30, 40, 50, 60])
    accepted = np.array([1, 1, 0, 1, 1, 1])

    proposal = propose_threshold(scores, accepted, target=0.7, min_volume=0.05)

    assert proposal.threshold == 30
    assert proposal.volume_share == pytest.approx(4 / 6)


def test_when_no_threshold_reaches_the_target_the_best_one_is_flagged():
    proposal = propose_threshold(np.array([1, 2, 3]), np.array([1, 0, 0]), target=0.9)

    assert (proposal.threshold, proposal.reached_target) == (1, False)


def test_too_little_evidence_is_refused_with_the_counts():
    y = np.array([1] * 20 + [0] * 150)

    with pytest.raises(NotEnoughEvidence) as refused:
        Evidence().check(y)

    assert str(refused.value) == (
        "Recalibration needs at least 200 hand-offs with a decision with at least 30 of "
        "each outcome; it has 170 (20 positive, 150 negative). Nothing was proposed."
    )
