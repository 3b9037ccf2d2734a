import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sotlearn import SafetyOTWeighter, safety_ot_weights


def _clusters(rng, n_safe=40, n_harm=40, n_down_safe=30, n_down_harm=10, d=8, spread=0.3):
    """Safe anchor around e0, harmful reference around e1, downstream from both."""
    centre_safe, centre_harm = np.eye(d)[0] * 3, np.eye(d)[1] * 3
    X_safe = centre_safe + spread * rng.randn(n_safe, d)
    X_harm = centre_harm + spread * rng.randn(n_harm, d)
    X_down = np.vstack(
        [centre_safe + spread * rng.randn(n_down_safe, d), centre_harm + spread * rng.randn(n_down_harm, d)]
    )
    is_harm = np.r_[np.zeros(n_down_safe, bool), np.ones(n_down_harm, bool)]
    return X_safe, X_harm, X_down, is_harm


@pytest.fixture
def data():
    return _clusters(np.random.RandomState(0))


def test_two_matrix_and_labelled_forms_agree(data):
    X_safe, X_harm, X, _ = data
    w_two = SafetyOTWeighter().fit(X_safe, X_harm).transform(X)
    X_all = np.vstack([X_safe, X_harm, X])
    y_all = np.r_[np.zeros(len(X_safe)), np.ones(len(X_harm)), -np.ones(len(X))]
    w_lab = SafetyOTWeighter().fit(X_all, y_all).transform(X)
    assert w_two.shape == (len(X), 1)
    np.testing.assert_allclose(w_two, w_lab, rtol=0, atol=1e-12)


def test_identical_references_give_uniform_weights(data):
    X_safe, _, X, _ = data
    w = SafetyOTWeighter(push=1.0).fit(X_safe, X_safe.copy()).score_samples(X)
    np.testing.assert_allclose(w, np.ones(len(X)), atol=1e-10)


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
@pytest.mark.parametrize("solver, reg_m", [("sinkhorn", None), ("sinkhorn", 1.0), ("emd", None)])
def test_planted_harmful_cluster_is_weighted_down(data, metric, solver, reg_m):
    X_safe, X_harm, X, is_harm = data
    w = SafetyOTWeighter(metric=metric, solver=solver, reg_m=reg_m).fit(X_safe, X_harm).score_samples(X)
    assert w.mean() == pytest.approx(1.0)
    # the margin: every harmful-cluster row weighs less than half of any safe-cluster row
    assert w[is_harm].max() < 0.5 * w[~is_harm].min()


def test_pull_only_push_only_and_one_step_are_settings(data):
    X_safe, X_harm, X, is_harm = data
    for params in ({"push": 0.0}, {"pull": 0.0}, {"max_iter": 1, "learning_rate": 1.0}):
        w = SafetyOTWeighter(**params).fit(X_safe, X_harm).score_samples(X)
        assert w[is_harm].max() < w[~is_harm].min(), params


def test_one_step_equals_closed_form_from_uniform(data):
    """One full step from uniform is w ~ exp(-(f_S - f_H) / tau) with the uniform-marginal potentials."""
    from sotlearn._cost import pairwise_cost
    from sotlearn._sinkhorn import sinkhorn_potentials

    X_safe, X_harm, X, _ = data
    est = SafetyOTWeighter(max_iter=1, learning_rate=1.0, tau=0.5, sinkhorn_tol=1e-12).fit(X_safe, X_harm)
    w = est.score_samples(X)
    log_a = np.full(len(X), -np.log(len(X)))
    f = []
    for ref in (X_safe, X_harm):
        C = pairwise_cost(X, ref, "cosine") / est.cost_scale_
        f.append(sinkhorn_potentials(C, log_a, np.full(len(ref), -np.log(len(ref))), 0.05, tol=1e-12)[0])
    expected = np.exp(-(f[0] - f[1]) / 0.5)
    np.testing.assert_allclose(w, len(X) * expected / expected.sum(), rtol=1e-6)


def test_permuting_rows_permutes_weights(data):
    X_safe, X_harm, X, _ = data
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    perm = np.random.RandomState(1).permutation(len(X))
    np.testing.assert_allclose(est.score_samples(X[perm]), est.score_samples(X)[perm], atol=1e-10)


def test_reference_order_and_scaling_invariance(data):
    X_safe, X_harm, X, _ = data
    w = SafetyOTWeighter().fit(X_safe, X_harm).score_samples(X)
    rng = np.random.RandomState(2)
    w_perm = SafetyOTWeighter().fit(X_safe[rng.permutation(len(X_safe))], X_harm[::-1]).score_samples(X)
    np.testing.assert_allclose(w, w_perm, atol=1e-8)
    # cosine cost ignores scale; sqeuclidean with normalize_cost is scale-free too
    w_scaled = SafetyOTWeighter().fit(7 * X_safe, 7 * X_harm).score_samples(0.1 * X)
    np.testing.assert_allclose(w, w_scaled, atol=1e-8)
    est = SafetyOTWeighter(metric="sqeuclidean")
    np.testing.assert_allclose(
        clone(est).fit(X_safe, X_harm).score_samples(X),
        clone(est).fit(5 * X_safe, 5 * X_harm).score_samples(5 * X),
        atol=1e-8,
    )


def test_float32_and_float64_agree(data):
    X_safe, X_harm, X, _ = data
    w64 = SafetyOTWeighter().fit(X_safe, X_harm).transform(X)
    w32 = SafetyOTWeighter().fit(X_safe.astype(np.float32), X_harm.astype(np.float32)).transform(
        X.astype(np.float32)
    )
    assert w32.dtype == np.float32 and w64.dtype == np.float64
    np.testing.assert_allclose(w32, w64, atol=1e-4)


def test_random_state_reproducible_with_subsampled_cost_scale():
    rng = np.random.RandomState(0)
    X_safe, X_harm = rng.randn(700, 5), rng.randn(700, 5) + 0.5
    X = rng.randn(50, 5)
    a = SafetyOTWeighter(random_state=3, max_iter=5).fit(X_safe, X_harm)
    b = SafetyOTWeighter(random_state=3, max_iter=5).fit(X_safe, X_harm)
    assert a.cost_scale_ == b.cost_scale_
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_fit_weights_the_unlabelled_rows(data):
    X_safe, X_harm, X, is_harm = data
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    assert est.n_iter_ == 0 and est.converged_ and est.weights_.shape == (0,)
    X_all = np.vstack([X_safe, X_harm, X])
    y_all = np.r_[np.zeros(len(X_safe)), np.ones(len(X_harm)), -np.ones(len(X))]
    est = SafetyOTWeighter().fit(X_all, y_all)
    assert est.converged_ and 1 <= est.n_iter_ < est.max_iter
    np.testing.assert_array_equal(est.weights_, est.score_samples(X))
    assert est.weights_[~is_harm].min() > est.weights_[is_harm].max()


def test_duplicated_reference_rows_are_reported_not_converged():
    """Downstream rows that duplicate reference rows at small reg make the
    potentials jump with w (a nearly non-smooth objective) and the iteration
    cycles; the residual criterion must say so however much the step is
    damped, and a larger reg smooths it into convergence."""
    from sotlearn._cost import reference_cost_scale

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 64))
    X_safe = centres[rng.integers(0, 12, 150)] + rng.standard_normal((150, 64))
    X_harm = centres[rng.integers(8, 20, 150)] + rng.standard_normal((150, 64))
    X = np.vstack([X_safe, X_harm])
    scale = reference_cost_scale(X, "cosine", np.random.RandomState(0))
    w, info = safety_ot_weights(X, X_safe, X_harm, cost_scale=scale)
    assert not info["converged"] and info["n_iter"] == 100
    assert np.all(np.isfinite(w)) and w[:150].mean() > 5 * w[150:].mean()
    w, info = safety_ot_weights(X, X_safe, X_harm, cost_scale=scale, reg=0.3)
    assert info["converged"] and w[:150].mean() > w[150:].mean()


def test_convergence_warning(data):
    X_safe, X_harm, X, _ = data
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        SafetyOTWeighter(max_iter=2, tol=0.0).fit(X_safe, X_harm).transform(X)


def test_tiny_reg_gives_finite_weights(data):
    X_safe, X_harm, X, is_harm = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = SafetyOTWeighter(reg=1e-4, max_iter=10).fit(X_safe, X_harm).score_samples(X)
    assert np.all(np.isfinite(w))
    assert w[is_harm].max() < w[~is_harm].min()


def test_select_keeps_top_fraction(data):
    X_safe, X_harm, X, is_harm = data
    est = SafetyOTWeighter(keep_ratio=0.75).fit(X_safe, X_harm)
    mask = est.select(X)
    assert mask.sum() == 30
    assert not mask[is_harm].any()
    assert est.select(X, keep_ratio=0.1).sum() == 4


def test_score_is_auroc_of_safe_over_harmful(data):
    X_safe, X_harm, X, is_harm = data
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    assert est.score(X, is_harm.astype(int)) == 1.0
    assert est.score(X, 1 - is_harm.astype(int)) == 0.0
    y = np.where(is_harm, 1, -1)
    with pytest.raises(ValueError, match="needs both safe"):
        est.score(X, y)


def test_set_output_pandas(data):
    X_safe, X_harm, X, _ = data
    columns = [f"e{i}" for i in range(X.shape[1])]
    est = SafetyOTWeighter().set_output(transform="pandas")
    est.fit(pd.DataFrame(X_safe, columns=columns), pd.DataFrame(X_harm, columns=columns))
    out = est.transform(pd.DataFrame(X, columns=columns))
    assert list(out.columns) == ["weight"] and out.shape == (len(X), 1)


def test_pipeline_and_grid_search_pick_planted_best_setting():
    """Safe rows lie on a sphere of radius 1, harmful ones on radius 3, in random
    directions: cosine cost cannot tell them apart, squared Euclidean can."""
    rng = np.random.RandomState(0)
    directions = rng.randn(120, 6)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radius = np.r_[np.ones(60), 3 * np.ones(60)]
    X = directions * radius[:, None] + 0.05 * rng.randn(120, 6)
    y = np.r_[np.zeros(60), np.ones(60)].astype(int)
    pipe = make_pipeline(StandardScaler(), SafetyOTWeighter(max_iter=30))
    grid = GridSearchCV(
        pipe,
        {"safetyotweighter__metric": ["cosine", "sqeuclidean"], "safetyotweighter__push": [0.0, 1.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_params_["safetyotweighter__metric"] == "sqeuclidean"
    assert grid.best_score_ > 0.95
    scores = grid.cv_results_["mean_test_score"]
    cosine = np.asarray(grid.cv_results_["param_safetyotweighter__metric"]) == "cosine"
    assert scores[cosine].max() < 0.75


def test_joblib_round_trip(tmp_path, data):
    X_safe, X_harm, X, _ = data
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    joblib.dump(est, tmp_path / "w.joblib")
    loaded = joblib.load(tmp_path / "w.joblib")
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), est.transform(X))


def test_contract_with_valid_roles(data):
    """What the role-label common checks would assert, with valid roles."""
    X_safe, X_harm, X, _ = data
    X_all = np.vstack([X_safe, X_harm])
    y = np.r_[np.zeros(len(X_safe)), np.ones(len(X_harm))]
    est = SafetyOTWeighter(max_iter=10)
    params = est.get_params()
    assert est.fit(X_all, y) is est
    assert est.get_params() == params
    assert est.n_features_in_ == X.shape[1]
    before = dict(est.__dict__)
    est.transform(X)
    assert set(est.__dict__) == set(before)
    with pytest.raises(ValueError, match="X has 3 features"):
        est.transform(X[:, :3])
    ref = est.transform(X)
    np.testing.assert_allclose(clone(est).fit(np.asfortranarray(X_all), y).transform(np.asfortranarray(X)), ref)
    np.testing.assert_allclose(clone(est).fit(X_all.astype(int), y).transform(X.astype(int)),
                               clone(est).fit(X_all.astype(int).astype(float), y).transform(X.astype(int).astype(float)))
    readonly = X_all.copy()
    readonly.setflags(write=False)
    np.testing.assert_allclose(clone(est).fit(readonly, y).transform(X), ref)
    with pytest.raises(ValueError, match="Expected 2D array"):
        est.transform(X[0])
    with pytest.raises(ValueError):
        clone(est).fit(X_all.astype(object).astype(str) + "x", y)


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda S, H: (np.where(np.eye(len(S), S.shape[1]) > 0, np.nan, S), H), "NaN"),
        (lambda S, H: (S, np.where(np.eye(len(H), H.shape[1]) > 0, np.inf, H)), "infinity"),
        (lambda S, H: (S, H[:, :3]), "X_harm has 3 features but the safe anchor has 8"),
        (lambda S, H: (S, H[:1]), r"X_harm has 1 row\(s\)"),
        (lambda S, H: (S[:1], H), r"X_safe has 1 row\(s\)"),
        (lambda S, H: (S, H[:0]), "minimum of 1 is required"),
        (lambda S, H: (np.full(S.shape, "a"), H), "could not convert"),
        (lambda S, H: (np.vstack([S, H]), np.r_[np.zeros(len(S)), 2 * np.ones(len(H))]), r"unexpected labels \[2\]"),
        (lambda S, H: (np.vstack([S, H]), np.r_[-np.ones(len(S)), np.ones(len(H))]), r"0 safe \(y == 0\)"),
        (lambda S, H: (np.vstack([S, H]), np.zeros(len(S) + len(H))), r"0 harmful \(y == 1\)"),
        (lambda S, H: (S, None), "requires y to be passed"),
    ],
)
def test_bad_input_errors(data, make_args, message):
    X_safe, X_harm, _, _ = data
    with pytest.raises(ValueError, match=message):
        SafetyOTWeighter().fit(*make_args(X_safe, X_harm))


@pytest.mark.parametrize("keep_ratio", [0.0, -0.1, 1.5])
def test_keep_ratio_outside_unit_interval(data, keep_ratio):
    X_safe, X_harm, X, _ = data
    with pytest.raises(ValueError, match="keep_ratio"):
        SafetyOTWeighter(keep_ratio=keep_ratio).fit(X_safe, X_harm)
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    with pytest.raises(ValueError, match=r"keep_ratio must be a float in \(0, 1\]"):
        est.select(X, keep_ratio=keep_ratio)


def test_transform_rejects_nan(data):
    X_safe, X_harm, X, _ = data
    est = SafetyOTWeighter().fit(X_safe, X_harm)
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(X)


def test_emd_with_unbalanced_is_rejected(data):
    X_safe, X_harm, _, _ = data
    with pytest.raises(ValueError, match="solver='emd' solves balanced OT only"):
        SafetyOTWeighter(solver="emd", reg_m=1.0).fit(X_safe, X_harm)


def test_function_reports_convergence(data):
    X_safe, X_harm, X, _ = data
    w, info = safety_ot_weights(X, X_safe, X_harm, cost_scale=1.0)
    assert info["converged"] and info["n_iter"] >= 1 and info["sinkhorn_iter"] >= info["n_iter"]
    assert w.shape == (len(X),)
