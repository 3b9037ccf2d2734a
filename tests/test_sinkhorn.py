import numpy as np
import ot
import pytest

from sotlearn._sinkhorn import emd_potentials, marginal_gradient, sinkhorn_potentials, soft_c_transform


@pytest.fixture
def problem():
    rng = np.random.RandomState(0)
    X, Y = rng.randn(30, 3), rng.randn(20, 3)
    C = ot.dist(X, Y)
    C /= np.median(C)
    a = rng.rand(30) + 0.1
    return C, np.log(a / a.sum()), np.full(20, -np.log(20))


def _plan(C, log_a, log_b, f, g, eps):
    return np.exp(log_a[:, None] + log_b[None, :] + (f[:, None] + g[None, :] - C) / eps)


@pytest.mark.parametrize("eps", [1.0, 0.05, 1e-3])
def test_balanced_marginals_and_pot_agreement(problem, eps):
    C, log_a, log_b = problem
    f, g, n_iter, converged = sinkhorn_potentials(C, log_a, log_b, eps, max_iter=20000, tol=1e-10)
    assert converged
    P = _plan(C, log_a, log_b, f, g, eps)
    np.testing.assert_allclose(P.sum(1), np.exp(log_a), atol=1e-8)
    np.testing.assert_allclose(P.sum(0), np.exp(log_b), atol=1e-8)
    if eps >= 0.05:
        # POT's log-domain solver writes P = diag(u) K diag(v): eps log u = f + eps log a,
        # up to the (f + c, g - c) gauge
        _, log = ot.sinkhorn(np.exp(log_a), np.exp(log_b), C, eps, method="sinkhorn_log",
                             log=True, stopThr=1e-12, numItermax=20000)
        f_pot = eps * log["log_u"] - eps * log_a
        np.testing.assert_allclose(f - f.mean(), f_pot - f_pot.mean(), atol=1e-6)


def test_unbalanced_fixed_point_and_pot(problem):
    C, log_a, log_b = problem
    eps, reg_m = 0.1, 0.5
    f, g, _, converged = sinkhorn_potentials(C, log_a, log_b, eps, reg_m=reg_m, tol=1e-12, max_iter=5000)
    assert converged
    np.testing.assert_allclose(f, soft_c_transform(C, g, log_b, eps, reg_m), atol=1e-10)
    P = _plan(C, log_a, log_b, f, g, eps)
    P_pot = ot.unbalanced.sinkhorn_unbalanced(np.exp(log_a), np.exp(log_b), C, eps, reg_m,
                                              reg_type="kl", stopThr=1e-12, numItermax=5000)
    np.testing.assert_allclose(P, P_pot, atol=1e-7)


def test_warm_start_needs_fewer_iterations(problem):
    C, log_a, log_b = problem
    f, g, cold, _ = sinkhorn_potentials(C, log_a, log_b, 0.05, tol=1e-9)
    _, _, warm, _ = sinkhorn_potentials(C, log_a, log_b, 0.05, g_init=g, tol=1e-9)
    assert warm < cold / 5


def test_tiny_eps_stays_finite(problem):
    C, log_a, log_b = problem
    f, g, _, _ = sinkhorn_potentials(C, log_a, log_b, 1e-5, max_iter=200)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(g))


def test_emd_potentials_are_dual_optimal(problem):
    C, log_a, log_b = problem
    f, g, _, converged = emd_potentials(C, log_a, log_b)
    assert converged
    value = ot.emd2(np.exp(log_a) / np.exp(log_a).sum(), np.exp(log_b), C)
    assert f @ np.exp(log_a) + g @ np.exp(log_b) == pytest.approx(value, rel=1e-8)
    assert np.all(f[:, None] + g[None, :] <= C + 1e-9)


def test_marginal_gradient_is_numerical_derivative():
    """d/da of the unbalanced dual value is (reg_m + eps)(1 - exp(-f / reg_m))."""
    rng = np.random.RandomState(0)
    C = rng.rand(5, 4)
    log_b = np.full(4, -np.log(4))
    eps, reg_m = 0.2, 0.7
    a = rng.rand(5) + 0.5

    def value(a):
        f, g, _, _ = sinkhorn_potentials(C, np.log(a), log_b, eps, reg_m=reg_m, tol=1e-13, max_iter=10000)
        b = np.exp(log_b)
        return (-reg_m * a @ np.expm1(-f / reg_m) - reg_m * b @ np.expm1(-g / reg_m)
                - eps * (a @ (_plan(C, np.zeros(5), log_b, f, g, eps).sum(1)) - a.sum() * b.sum()))

    f, *_ = sinkhorn_potentials(C, np.log(a), log_b, eps, reg_m=reg_m, tol=1e-13, max_iter=10000)
    grad = marginal_gradient(f, eps, reg_m)
    h = 1e-6
    numeric = [(value(a + h * e) - value(a - h * e)) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)
    np.testing.assert_array_equal(marginal_gradient(f, eps, None), f)
