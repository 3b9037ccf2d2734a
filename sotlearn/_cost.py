"""Ground costs between downstream rows and reference rows."""

import numpy as np

METRICS = ("cosine", "sqeuclidean")


def _unit_rows(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    # A zero row has no direction: leaving it at zero gives it cosine
    # similarity 0 (cost 1) to everything instead of a NaN.
    norms[norms == 0] = 1.0
    return X / norms


def pairwise_cost(X, Y, metric="cosine"):
    """Cost matrix ``C[i, j] = c(X[i], Y[j])``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Y : ndarray of shape (m, d)
    metric : {"cosine", "sqeuclidean"}
        ``"cosine"`` is ``1 - cos(x, y)`` in ``[0, 2]``; ``"sqeuclidean"`` is
        ``||x - y||^2``.

    Returns
    -------
    ndarray of shape (n, m), same floating dtype as ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._cost import pairwise_cost
    >>> pairwise_cost(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 2.0]]))
    array([[0., 1.]])
    """
    if metric == "cosine":
        C = 1.0 - _unit_rows(X) @ _unit_rows(Y).T
    elif metric == "sqeuclidean":
        C = (
            np.einsum("ij,ij->i", X, X)[:, None]
            + np.einsum("ij,ij->i", Y, Y)[None, :]
            - 2.0 * (X @ Y.T)
        )
    else:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
    # Rounding can push a zero cost slightly negative; costs are distances.
    np.maximum(C, 0.0, out=C)
    return C


def reference_cost_scale(X_ref, metric, rng, max_rows=1000):
    """Median off-diagonal cost among (a sample of) the reference rows.

    Dividing every cost by this number makes ``reg`` a fraction of a typical
    cost, whatever the embedding's units, and it depends on the references
    only, so weights of a downstream batch do not depend on how it is chunked.
    """
    if X_ref.shape[0] > max_rows:
        X_ref = X_ref[rng.choice(X_ref.shape[0], size=max_rows, replace=False)]
    C = pairwise_cost(X_ref, X_ref, metric)
    off_diagonal = C[~np.eye(C.shape[0], dtype=bool)]
    for statistic in (np.median, np.mean):
        scale = float(statistic(off_diagonal))
        if scale > 0 and np.isfinite(scale):
            return scale
    # Every reference row is the same point: any positive unit is as good.
    return 1.0
