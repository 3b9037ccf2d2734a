"""The large-n path (method="sampled"): agreement with the dense solve, chunking
and backend invariance, and the c-transform pass on its own.

Stated tolerance (also in SafetyOTWeighter's Notes): with ``n_subsample >= n``
the sampled weights equal the dense ones up to float32 rounding (rms error of
``log w`` below 1e-4); with ``n = 1500`` and ``n_subsample = 500`` the rms error
of ``log w`` is below 0.1 and the Spearman correlation above 0.99.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning

from sotlearn import SafetyOTWeighter, safety_ot_weights
from sotlearn._c_transform import SoftCTransform
from sotlearn._cost import pairwise_cost
from sotlearn._sinkhorn import soft_c_transform
from sotlearn._torch_backend import TorchSoftCTransform

# tau = 1 keeps the mirror descent well inside its convergent range, so the
# dense iterate is the fixed point that the sampled path evaluates.
# A tight tol, so that both paths stop at the fixed point and the comparison
# measures the paths rather than where each happened to stop.
PARAMS = {"tau": 1.0, "random_state": 0, "tol": 1e-6}


def _log_rms(w, w_ref):
    e = np.log(w) - np.log(w_ref)
    return float(np.sqrt(np.mean((e - e.mean()) ** 2)))


@pytest.fixture(scope="module")
def problem():
    rng = np.random.RandomState(0)
    d = 16
    centres = rng.randn(6, d)

    def draw(n, lo, hi):
        return centres[rng.randint(lo, hi, size=n)] + 0.6 * rng.randn(n, d)

    return draw(200, 0, 4), draw(200, 2, 6), draw(1500, 0, 6)


@pytest.fixture(scope="module")
def dense(problem):
    X_safe, X_harm, X = problem
    est = SafetyOTWeighter(method="dense", **PARAMS).fit(X_safe, X_harm)
    return est, est.score_samples(X)


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
def test_full_subsample_equals_dense(problem, metric):
    X_safe, X_harm, X = problem
    est = SafetyOTWeighter(metric=metric, **PARAMS)
    w_dense = est.set_params(method="dense").fit(X_safe, X_harm).score_samples(X)
    w = est.set_params(method="sampled", n_subsample=len(X)).score_samples(X)
    assert _log_rms(w, w_dense) < 1e-4
    assert w.mean() == pytest.approx(1.0)


def test_unbalanced_full_subsample_equals_dense(problem):
    X_safe, X_harm, X = problem
    X = X[:500]
    est = SafetyOTWeighter(reg_m=1.0, **PARAMS).fit(X_safe, X_harm)
    w_dense = est.set_params(method="dense").score_samples(X)
    w = est.set_params(method="sampled", n_subsample=len(X)).score_samples(X)
    assert _log_rms(w, w_dense) < 1e-4


def test_subsample_agrees_with_dense_within_stated_tolerance(problem, dense):
    est, w_dense = dense
    X = problem[2]
    w = SafetyOTWeighter(method="sampled", n_subsample=500, **PARAMS).fit(*problem[:2]).score_samples(X)
    assert _log_rms(w, w_dense) < 0.1
    assert spearmanr(w, w_dense)[0] > 0.99


def test_weights_do_not_depend_on_chunking_or_jobs(problem):
    X_safe, X_harm, X = problem
    est = SafetyOTWeighter(method="sampled", n_subsample=500, **PARAMS).fit(X_safe, X_harm)
    w = est.score_samples(X)
    w_jobs = est.set_params(chunk_size=7, n_jobs=2).score_samples(X)
    # The BLAS kernel blocks a GEMM by its shape, so a chunk of 7 rows may round
    # a dot product differently from a chunk of 4096 in the last float32 bit.
    np.testing.assert_allclose(w_jobs, w, rtol=1e-6)
    np.testing.assert_array_equal(est.set_params(n_jobs=1).score_samples(X), w_jobs)


def test_torch_backend_agrees_with_numpy(problem):
    X_safe, X_harm, X = problem
    est = SafetyOTWeighter(method="sampled", n_subsample=500, **PARAMS).fit(X_safe, X_harm)
    w_numpy = est.score_samples(X)
    w_torch = est.set_params(backend="torch", device="cpu").score_samples(X)
    np.testing.assert_allclose(w_torch, w_numpy, rtol=1e-5)


def test_auto_switches_on_n_subsample(problem):
    X_safe, X_harm, X = problem
    kwargs = dict(cost_scale=1.0, tau=1.0, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert safety_ot_weights(X, X_safe, X_harm, n_subsample=len(X), **kwargs)[1]["method"] == "dense"
        assert safety_ot_weights(X, X_safe, X_harm, n_subsample=100, **kwargs)[1]["method"] == "sampled"
        # exact OT has no soft c-transform: auto stays dense
        info = safety_ot_weights(X[:200], X_safe, X_harm, n_subsample=50, solver="emd", **kwargs)[1]
    assert info["method"] == "dense"


def test_sampled_rejects_emd(problem):
    X_safe, X_harm, _ = problem
    with pytest.raises(ValueError, match="method='sampled' extends entropic potentials"):
        SafetyOTWeighter(method="sampled", solver="emd").fit(X_safe, X_harm)


def test_float32_input_stays_float32_at_scale(problem):
    X_safe, X_harm, X = (A.astype(np.float32) for A in problem)
    w = SafetyOTWeighter(method="sampled", n_subsample=500, **PARAMS).fit(X_safe, X_harm).transform(X)
    assert w.dtype == np.float32 and np.all(np.isfinite(w))


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
@pytest.mark.parametrize("transform_class", [SoftCTransform, TorchSoftCTransform])
def test_c_transform_matches_explicit_cost(metric, transform_class):
    rng = np.random.RandomState(1)
    X, Y = rng.randn(40, 5), rng.randn(30, 5)
    g, log_b = rng.randn(30) * 0.1, np.log(rng.dirichlet(np.ones(30)))
    expected = soft_c_transform(pairwise_cost(X, Y, metric) / 2.0, g, log_b, 0.1, reg_m=0.5)
    for dtype, atol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        ct = transform_class(Y, g, log_b, 0.1, metric=metric, cost_scale=2.0, reg_m=0.5, dtype=dtype)
        np.testing.assert_allclose(ct(X), expected, atol=atol)


@pytest.mark.parametrize("transform_class", [SoftCTransform, TorchSoftCTransform])
def test_c_transform_underflow_rows_are_redone_exactly(transform_class):
    """A row far from every reference underflows the float32 kernel
    (exp(-1e4)); it is redone in float64 instead of returning inf."""
    rng = np.random.RandomState(2)
    Y = rng.randn(20, 3)
    X = np.vstack([Y[:5], [[1e3, 1e3, 1e3]]])
    g, log_b = np.zeros(20), np.full(20, -np.log(20))
    f = transform_class(Y, g, log_b, 1e-2, metric="sqeuclidean", dtype=np.float32)(X)
    assert np.all(np.isfinite(f))
    expected = soft_c_transform(pairwise_cost(X, Y, "sqeuclidean"), g, log_b, 1e-2)
    np.testing.assert_allclose(f, expected, rtol=1e-6, atol=1e-5)
