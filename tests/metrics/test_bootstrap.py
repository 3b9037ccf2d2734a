"""bootstrap_ci: coverage of a known truth, determinism, paired resampling, errors."""

import numpy as np
import pytest

from sotlearn.metrics import bootstrap_ci, weight_auroc


def test_point_and_interval_cover_the_truth():
    rng = np.random.RandomState(0)
    x = rng.normal(loc=2.0, scale=1.0, size=400)
    point, low, high = bootstrap_ci(np.mean, x, n_boot=500, random_state=0)
    assert point == pytest.approx(x.mean())
    assert low < 2.0 < high
    # the 95% interval of a mean is about 2 * 1.96 * sd / sqrt(n) = 0.196 wide
    assert 0.15 < high - low < 0.25


def test_interval_covers_the_truth_at_about_the_nominal_rate():
    rng = np.random.RandomState(1)
    hits = 0
    for seed in range(100):
        x = rng.exponential(size=60)  # true mean 1
        _, low, high = bootstrap_ci(np.mean, x, n_boot=200, confidence=0.9, random_state=seed)
        hits += low < 1.0 < high
    # 90% nominal; percentile intervals on a skewed n = 60 sample under-cover a little
    assert 78 <= hits <= 97


def test_deterministic_under_random_state():
    x = np.arange(50.0) ** 1.5
    assert bootstrap_ci(np.median, x, random_state=7) == bootstrap_ci(np.median, x, random_state=7)
    assert bootstrap_ci(np.median, x, random_state=7) != bootstrap_ci(np.median, x, random_state=8)


@pytest.mark.filterwarnings("ignore:metric_fn was undefined:RuntimeWarning")
def test_arrays_are_resampled_together():
    # perfectly separated weights: every paired resample with both classes has AUROC 1
    weights = np.r_[np.ones(20) * 2, np.ones(5)]
    is_harmful = np.r_[np.zeros(20, bool), np.ones(5, bool)]
    assert bootstrap_ci(weight_auroc, weights, is_harmful, n_boot=200, random_state=0) == (1.0, 1.0, 1.0)


def test_undefined_resamples_are_dropped_with_a_warning():
    weights = np.arange(6.0)
    is_harmful = np.array([1, 0, 0, 0, 0, 0], bool)
    with pytest.warns(RuntimeWarning, match="undefined on"):
        point, low, high = bootstrap_ci(weight_auroc, weights, is_harmful, n_boot=100, random_state=0)
    assert point == 1.0 and low == high == 1.0


def test_clear_errors():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="at least one array"):
        bootstrap_ci(np.mean)
    with pytest.raises(ValueError, match="same first dimension"):
        bootstrap_ci(lambda a, b: 0.0, x, x[:5])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(np.mean, x, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(np.mean, x, confidence=1.0)

    def needs_distinct_rows(a):
        if len(np.unique(a)) < len(a):
            raise ValueError("undefined with repeated rows")
        return 0.0

    # defined on the data, undefined on every resample (all 10 rows distinct: p = 0.00036)
    with pytest.raises(ValueError, match="all 5 resamples"):
        bootstrap_ci(needs_distinct_rows, x, n_boot=5, random_state=0)
