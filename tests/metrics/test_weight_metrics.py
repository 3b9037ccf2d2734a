"""harmful_recall_at_keep and weight_auroc on hand-made weight vectors."""

import numpy as np
import pytest

from sotlearn.metrics import harmful_recall_at_keep, weight_auroc

WEIGHTS = np.array([0.9, 0.1, 1.5, 0.4, 1.2, 0.3, 2.0, 0.8, 1.1, 1.7])
IS_HARMFUL = np.array([0, 1, 0, 0, 1, 0, 0, 1, 0, 0], bool)  # harmful weights 0.1, 1.2, 0.8


@pytest.mark.parametrize(
    "keep_ratio, expected",
    [
        # kept, by weight: 2.0 1.7 1.5 1.2 | 1.1 0.9 0.8 | 0.4 0.3 | 0.1
        (0.4, 1 / 3),
        (0.7, 2 / 3),
        (0.9, 2 / 3),
        (1.0, 1.0),
        (0.05, 0.0),  # ceil(0.5) = 1 row kept: the weight 2.0
    ],
)
def test_recall_at_keep_exact(keep_ratio, expected):
    assert harmful_recall_at_keep(WEIGHTS, IS_HARMFUL, keep_ratio) == pytest.approx(expected)


def test_recall_ties_are_broken_by_row_order():
    # all equal: the first ceil(0.5 * 4) = 2 rows are kept
    assert harmful_recall_at_keep([1, 1, 1, 1], [1, 0, 0, 1], keep_ratio=0.5) == 0.5
    assert harmful_recall_at_keep([1, 1, 1, 1], [0, 0, 1, 1], keep_ratio=0.5) == 0.0


def test_random_weights_give_recall_near_keep_ratio():
    rng = np.random.RandomState(0)
    is_harmful = np.r_[np.ones(100, bool), np.zeros(900, bool)]
    recalls = [harmful_recall_at_keep(rng.rand(1000), is_harmful, 0.8) for _ in range(100)]
    assert abs(np.mean(recalls) - 0.8) < 0.02


def test_auroc_exact():
    # benign weights vs harmful weights 0.1, 1.2, 0.8: pairs won by benign rows
    # 0.9: 2, 1.5: 3, 0.4: 1, 0.3: 1, 2.0: 3, 1.1: 2, 1.7: 3 -> 15 of 21
    assert weight_auroc(WEIGHTS, IS_HARMFUL) == pytest.approx(15 / 21)
    assert weight_auroc([2.0, 1.0], [0, 1]) == 1.0
    assert weight_auroc([1.0, 2.0], [0, 1]) == 0.0
    assert weight_auroc([1.0, 1.0], [0, 1]) == 0.5


def test_metrics_are_permutation_invariant():
    perm = np.random.RandomState(0).permutation(10)
    assert weight_auroc(WEIGHTS[perm], IS_HARMFUL[perm]) == weight_auroc(WEIGHTS, IS_HARMFUL)
    # no ties in WEIGHTS, so the kept set does not depend on row order
    assert harmful_recall_at_keep(WEIGHTS[perm], IS_HARMFUL[perm]) == harmful_recall_at_keep(WEIGHTS, IS_HARMFUL)


@pytest.mark.parametrize("keep_ratio", [0.0, 1.5, -0.2, True, "0.8"])
def test_recall_rejects_bad_keep_ratio(keep_ratio):
    with pytest.raises(ValueError, match="keep_ratio"):
        harmful_recall_at_keep(WEIGHTS, IS_HARMFUL, keep_ratio)


@pytest.mark.parametrize("metric", [harmful_recall_at_keep, weight_auroc])
def test_clear_errors(metric):
    with pytest.raises(ValueError, match="same length"):
        metric(WEIGHTS, IS_HARMFUL[:5])
    with pytest.raises(ValueError, match="same length"):
        metric(WEIGHTS[:, None], IS_HARMFUL)
    with pytest.raises(ValueError, match="0/1"):
        metric(WEIGHTS, np.arange(10))
    with pytest.raises(ValueError, match="NaN"):
        metric(np.r_[np.nan, WEIGHTS[1:]], IS_HARMFUL)
    with pytest.raises(ValueError, match="harmful"):
        metric(WEIGHTS, np.zeros(10))
