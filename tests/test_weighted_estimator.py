import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sotlearn import SafetyOTWeighter, WeightedEstimator


class _RecordingRegressor(LinearRegression):
    """Keeps what fit received so the test can check the routing."""

    def fit(self, X, y, sample_weight=None):
        self.seen_X_, self.seen_y_, self.seen_weight_ = X, y, sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def _problem(rng):
    X_safe = rng.normal([3, 0], 0.3, (30, 2))
    X_harm = rng.normal([0, 3], 0.3, (30, 2))
    X_down = np.vstack([rng.normal([3, 0], 0.3, (40, 2)), rng.normal([0, 3], 0.3, (10, 2))])
    X = np.vstack([X_safe, X_harm, X_down])
    role = np.r_[np.zeros(30), np.ones(30), -np.ones(50)]
    # The downstream target follows y = x0 on safe rows but is poisoned on harmful rows.
    y = np.r_[X[:60, 0], X_down[:40, 0], 100 + X_down[40:, 0]]
    return X, y, role


def test_weights_reach_sample_weight_and_purify():
    X, y, role = _problem(np.random.RandomState(0))
    model = WeightedEstimator(SafetyOTWeighter(), _RecordingRegressor(), keep_ratio=0.8).fit(
        X, y, sample_role=role
    )
    assert model.support_.shape == (50,) and model.support_.sum() == 40
    assert not model.support_[40:].any(), "the poisoned rows are cut"
    assert model.sample_weight_.mean() == pytest.approx(1.0)
    np.testing.assert_array_equal(model.estimator_.seen_weight_, model.sample_weight_)
    np.testing.assert_array_equal(model.estimator_.seen_X_, X[60:][model.support_])
    # the purified fit recovers y = x0 that the poisoned rows would have broken
    assert model.predict(np.array([[1.0, 0.0]]))[0] == pytest.approx(1.0, abs=1e-6)
    poisoned = LinearRegression().fit(X[60:], y[60:])
    assert abs(poisoned.predict(np.array([[1.0, 0.0]]))[0] - 1.0) > 1.0


def test_weights_equal_weighter_on_downstream_rows():
    X, y, role = _problem(np.random.RandomState(1))
    model = WeightedEstimator(SafetyOTWeighter(), _RecordingRegressor()).fit(X, y, sample_role=role)
    expected = SafetyOTWeighter().fit(X, role).score_samples(X[role == -1])
    np.testing.assert_allclose(model.sample_weight_, expected / expected.mean())


def test_prefitted_weighter_and_missing_roles():
    X, y, role = _problem(np.random.RandomState(2))
    weighter = SafetyOTWeighter().fit(X[role == 0], X[role == 1])
    model = WeightedEstimator(weighter, _RecordingRegressor()).fit(X[role == -1], y[role == -1])
    assert model.weighter_ is weighter
    with pytest.raises(ValueError, match="needs sample_role"):
        WeightedEstimator(SafetyOTWeighter(), LinearRegression()).fit(X, y)
    with pytest.raises(ValueError, match=r"sample_role must have shape \(110,\)"):
        WeightedEstimator(SafetyOTWeighter(), LinearRegression()).fit(X, y, sample_role=role[:5])


def test_composes_with_a_step_in_front_and_grid_search():
    X, y, role = _problem(np.random.RandomState(3))
    pipe = make_pipeline(StandardScaler(), WeightedEstimator(SafetyOTWeighter(), LinearRegression()))
    pipe.fit(X, y, weightedestimator__sample_role=role)
    assert pipe.predict(X[:3]).shape == (3,)
    grid = GridSearchCV(
        WeightedEstimator(SafetyOTWeighter(), LinearRegression(), keep_ratio=0.8),
        {"weighter__push": [0.0, 1.0]},
        cv=2,
    )
    # the search splits every row; each fold still holds both reference sets
    order = np.random.RandomState(0).permutation(len(X))
    grid.fit(X[order], y[order], sample_role=role[order])
    assert set(grid.best_params_) == {"weighter__push"}
    assert clone(grid.best_estimator_).get_params()["keep_ratio"] == 0.8
