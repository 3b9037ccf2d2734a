"""Row potentials of any number of rows from learned reference-side potentials.

The entropic c-transform

    f(x) = -kappa * eps * log sum_j b_j exp((g_j - c(x, y_j) / s) / eps)

needs only ``x`` and the reference side ``(y_j, g_j, b_j)``, so a row pass
costs one GEMM against the references plus one exponential per (row,
reference) pair, with memory O(chunk_size * m + (n + m) d): the cost matrix is
never stored.
"""

import numpy as np

from ._cost import METRICS, _unit_rows
from ._sinkhorn import _kappa

# A kernel row sum below this has lost its relative precision in float32
# (its largest term is close to the subnormal range): such rows are redone
# exactly in float64 with their own log-sum-exp shift.
_TINY_ROW_SUM = 1e-30


class SoftCTransform:
    """Entropic c-transform against a fixed reference set, evaluated chunk by chunk.

    Parameters
    ----------
    Y : ndarray of shape (m, d)
        Reference rows.
    g : ndarray of shape (m,)
        Reference-side potentials, in units of ``cost / cost_scale``.
    log_b : ndarray of shape (m,)
        Log of the reference marginal.
    eps : float
        Entropic regularisation, in units of ``cost / cost_scale``.
    metric : {"cosine", "sqeuclidean"}, default="cosine"
        Ground cost; the same one :func:`sotlearn._cost.pairwise_cost` computes.
    cost_scale : float, default=1.0
        Every cost is divided by this number.
    reg_m : float or None, default=None
        Marginal relaxation of unbalanced OT; ``None`` for balanced OT.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Precision of the GEMM and the exponentials (float32 is eight times
        faster per exponential; its rows are checked and redone in float64
        only where they lose precision).

    Notes
    -----
    Writing ``z_ij = r_i + h_j + x_i . w_j`` for the exponent (``r_i`` is the
    row's own norm term for squared Euclidean costs), ``z_ij <= H =
    max_j (g_j + eps log b_j) / eps`` because costs are non-negative, so
    ``exp(z_ij - H)`` never overflows and the shift does not depend on the
    other rows: each row's potential is the same whatever the chunking.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._c_transform import SoftCTransform
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> ct = SoftCTransform(Y, np.zeros(2), np.log([0.5, 0.5]), eps=1e-3, dtype=np.float64)
    >>> np.round(ct(np.array([[2.0, 0.0]])), 4)  # cost 0 to the first row: eps log 2
    array([0.0007])
    """

    def __init__(self, Y, g, log_b, eps, *, metric="cosine", cost_scale=1.0, reg_m=None, dtype=np.float32):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
        Y = np.asarray(Y, dtype=np.float64)
        offset = (np.asarray(g, dtype=np.float64) + eps * np.asarray(log_b, dtype=np.float64)) / eps
        unit = cost_scale * eps
        if metric == "cosine":
            # (1 - x.y / |x||y|) / s: the constant 1 / s goes into the column offset.
            W, h = _unit_rows(Y) / unit, offset - 1.0 / unit
        else:
            W, h = 2.0 * Y / unit, offset - np.einsum("ij,ij->i", Y, Y) / unit
        self.metric, self.unit, self.dtype = metric, unit, np.dtype(dtype)
        self.scale = -_kappa(eps, reg_m) * eps
        self.H = float(offset.max())
        self.W64 = np.ascontiguousarray(W.T)
        self.h64 = h - self.H
        self.W = self.W64.astype(self.dtype)
        self.h = self.h64.astype(self.dtype)

    def _rows(self, X, dtype):
        """Rows as the GEMM sees them, and the per-row term ``r_i`` (None for cosine)."""
        X = np.asarray(X, dtype=dtype)
        if self.metric == "cosine":
            return _unit_rows(X), None
        return X, -np.einsum("ij,ij->i", X, X) / self.unit

    def _kernel_row_sums(self, X):
        """``sum_j exp(z_ij - H)`` for each row, in ``self.dtype``; returned as float64."""
        X, r = self._rows(X, self.dtype)
        Z = X @ self.W
        Z += self.h[None, :]
        if r is not None:
            Z += r.astype(self.dtype)[:, None]
        with np.errstate(under="ignore"):
            np.exp(Z, out=Z)
        return Z.sum(axis=1, dtype=np.float64)

    def _exact(self, X):
        """float64 log-sum-exp of ``z_ij - H`` with each row's own maximum as shift."""
        X, r = self._rows(X, np.float64)
        Z = X @ self.W64 + self.h64[None, :]
        if r is not None:
            Z += r[:, None]
        shift = Z.max(axis=1)
        return shift + np.log(np.exp(Z - shift[:, None]).sum(axis=1))

    def __call__(self, X):
        """Potentials ``f`` of the rows of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            Rows to score.

        Returns
        -------
        f : ndarray of shape (n,), float64
        """
        sums = self._kernel_row_sums(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_sums = np.log(sums)
        lost = ~(sums > _TINY_ROW_SUM) | ~np.isfinite(sums)
        if lost.any():
            log_sums[lost] = self._exact(np.asarray(X)[lost])
        return self.scale * (self.H + log_sums)
