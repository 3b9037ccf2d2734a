"""Dual potentials of (unbalanced) entropic and exact optimal transport.

Convention: ``a`` (n,) and ``b`` (m,) are the two marginals, ``C`` (n, m) the
cost and ``eps`` the entropic regularisation. The potentials ``(f, g)`` solve

    f_i = -kappa * eps * log sum_j b_j exp((g_j - C_ij) / eps)
    g_j = -kappa * eps * log sum_i a_i exp((f_i - C_ij) / eps)

with ``kappa = 1`` for balanced OT and ``kappa = reg_m / (reg_m + eps)`` when
the marginals are relaxed by ``reg_m * KL`` (Sejourne et al. 2019). In this
form ``f`` is a soft c-transform of ``g``, which is what lets a new row be
scored from the reference side alone.
"""

import numpy as np
import ot

# Scalings are folded back into the potentials once their log exceeds this, so
# the kernel stays in range (Schmitzer 2019, "stabilized" Sinkhorn).
_ABSORB_LOG = 30.0
# Below this many units in the last place of a log-sum, an update is rounding
# noise: in float32 (the default at scale) ``tol=1e-7`` is out of reach.
_TOL_ULPS = 64


def _kappa(eps, reg_m):
    return 1.0 if reg_m is None else reg_m / (reg_m + eps)


def soft_c_transform(C, g, log_b, eps, reg_m=None):
    """Row potentials ``f`` from column potentials ``g`` (exact log-domain update).

    Parameters
    ----------
    C : ndarray of shape (n, m)
        Cost between the n rows to score and the m reference points.
    g : ndarray of shape (m,)
        Reference-side potentials.
    log_b : ndarray of shape (m,)
        Log of the reference marginal.
    eps : float
        Entropic regularisation, in cost units.
    reg_m : float or None, default=None
        Marginal relaxation of unbalanced OT; ``None`` for balanced OT.

    Returns
    -------
    f : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._sinkhorn import soft_c_transform
    >>> C = np.array([[0.0, 1.0]])
    >>> f = soft_c_transform(C, np.zeros(2), np.log([0.5, 0.5]), eps=1e-3)
    >>> np.round(f, 4)  # -eps log(0.5 e^0 + 0.5 e^-1000) = eps log 2
    array([0.0007])
    """
    # In-place max-shifted log-sum-exp: scipy's logsumexp allocates several
    # n x m temporaries and runs at a tenth of the speed of a float32 exp.
    Z = np.subtract(g[None, :], C, dtype=C.dtype)
    Z /= eps
    Z += log_b.astype(C.dtype, copy=False)[None, :]
    shift = Z.max(axis=1)
    Z -= shift[:, None]
    np.exp(Z, out=Z)
    return -_kappa(eps, reg_m) * eps * (shift + np.log(Z.sum(axis=1)))


def sinkhorn_potentials(C, log_a, log_b, eps, *, g_init=None, reg_m=None, max_iter=1000, tol=1e-7):
    """Entropic OT potentials by stabilised Sinkhorn with a log-domain fallback.

    The fast path runs scaling iterations on the absorbed kernel
    ``exp((f_i + g_j - C_ij) / eps)`` (matrix-vector products only) and folds
    the scalings into ``(f, g)`` whenever they grow; whenever the kernel
    underflows (very small ``eps``) it switches to exact log-domain updates,
    which are slower but never overflow.

    Parameters
    ----------
    C : ndarray of shape (n, m)
        Cost matrix.
    log_a : ndarray of shape (n,)
        Log of the row marginal (``-inf`` entries are not allowed).
    log_b : ndarray of shape (m,)
        Log of the column marginal.
    eps : float
        Entropic regularisation in cost units.
    g_init : ndarray of shape (m,), default=None
        Warm start for the column potentials.
    reg_m : float or None, default=None
        KL relaxation of the marginals (unbalanced OT); ``None`` is balanced.
    max_iter : int, default=1000
        Maximum number of (row, column) update pairs.
    tol : float, default=1e-7
        Stop when no column potential moves by more than ``tol`` (cost units)
        in one update. The kernel runs in the dtype of ``C``; ``tol`` is raised
        to ``64 * eps * finfo(C.dtype).eps`` where it is below rounding noise
        (about ``4e-7`` at ``eps=0.05`` in float32).

    Returns
    -------
    f : ndarray of shape (n,)
    g : ndarray of shape (m,)
    n_iter : int
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._sinkhorn import sinkhorn_potentials
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> log_u = np.log([0.5, 0.5])
    >>> f, g, n_iter, converged = sinkhorn_potentials(C, log_u, log_u, eps=0.1)
    >>> converged, bool(np.allclose(f - f.mean(), 0.0))
    (True, True)
    """
    kappa = _kappa(eps, reg_m)
    # Every vector takes the cost's dtype: a float64 vector would silently
    # upcast (copy) the whole float32 kernel in each product.
    log_a, log_b = log_a.astype(C.dtype, copy=False), log_b.astype(C.dtype, copy=False)
    a, b = np.exp(log_a), np.exp(log_b)
    tol = max(tol, _TOL_ULPS * eps * float(np.finfo(C.dtype).eps))
    g = np.zeros(C.shape[1], dtype=C.dtype) if g_init is None else g_init.astype(C.dtype, copy=True)
    f = soft_c_transform(C, g, log_b, eps, reg_m)
    n_iter, use_kernel = 0, True
    while n_iter < max_iter:
        if use_kernel:
            # Built in place: one n x m buffer instead of three temporaries.
            K = np.subtract(f[:, None], C, dtype=C.dtype)
            K += g[None, :]
            K /= eps
            with np.errstate(under="ignore"):
                np.exp(K, out=K)
            log_u = np.zeros_like(f)
            log_v = np.zeros_like(g)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                while n_iter < max_iter:
                    n_iter += 1
                    new_log_u = (kappa - 1.0) * f / eps - kappa * np.log(K @ (b * np.exp(log_v)))
                    new_log_v = (kappa - 1.0) * g / eps - kappa * np.log(K.T @ (a * np.exp(new_log_u)))
                    if not (np.all(np.isfinite(new_log_u)) and np.all(np.isfinite(new_log_v))):
                        # The kernel underflowed somewhere: keep the last finite
                        # scalings and continue in the log domain.
                        use_kernel = False
                        break
                    step = eps * np.max(np.abs(new_log_v - log_v))
                    log_u, log_v = new_log_u, new_log_v
                    if step < tol:
                        return f + eps * log_u, g + eps * log_v, n_iter, True
                    if max(np.max(np.abs(log_u)), np.max(np.abs(log_v))) > _ABSORB_LOG:
                        break
            f, g = f + eps * log_u, g + eps * log_v
        else:
            n_iter += 1
            f = soft_c_transform(C, g, log_b, eps, reg_m)
            new_g = soft_c_transform(C.T, f, log_a, eps, reg_m)
            step = np.max(np.abs(new_g - g))
            g = new_g
            if step < tol:
                return soft_c_transform(C, g, log_b, eps, reg_m), g, n_iter, True
    return f, g, n_iter, False


def emd_potentials(C, log_a, log_b, *, max_iter=100000):
    """Exact OT potentials from the network simplex (``ot.emd``).

    Returns ``(f, g, n_iter, converged)`` like :func:`sinkhorn_potentials`;
    ``n_iter`` is 1 since the simplex is one solve.
    """
    a, b = np.exp(log_a), np.exp(log_b)
    # emd requires equal masses to machine precision.
    a, b = a / a.sum(), b / b.sum()
    _, log = ot.emd(a, b, np.ascontiguousarray(C), numItermax=max_iter, log=True)
    converged = log.get("warning") is None
    return np.asarray(log["u"], dtype=C.dtype), np.asarray(log["v"], dtype=C.dtype), 1, converged


def marginal_gradient(f, eps, reg_m):
    """Gradient of the (unbalanced) OT value with respect to the row marginal.

    For balanced OT it is ``f`` itself; with KL-relaxed marginals it is
    ``(reg_m + eps) * (1 - exp(-f / reg_m))``, which is increasing in ``f``
    and saturates, so an outlying row costs at most ``reg_m + eps``.
    """
    if reg_m is None:
        return f
    return (reg_m + eps) * -np.expm1(-f / reg_m)
