"""Percentile bootstrap confidence intervals for any metric."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state


def bootstrap_ci(metric_fn, *arrays, n_boot=1000, confidence=0.95, random_state=None):
    """Point estimate and percentile bootstrap interval of ``metric_fn(*arrays)``.

    Rows are resampled with replacement, with the same indices for every
    array (so paired arrays such as weights and labels stay paired), and the
    interval is given by the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
    quantiles of the resampled metric. Resamples on which the metric is
    undefined (``metric_fn`` raises ``ValueError``, e.g. an AUROC on a
    resample with one class) are dropped with a warning.

    Parameters
    ----------
    metric_fn : callable
        ``metric_fn(*arrays) -> float``.
    *arrays : array-like
        One or more arrays with the same first dimension.
    n_boot : int, default=1000
        Number of bootstrap resamples.
    confidence : float in (0, 1), default=0.95
        Coverage of the interval.
    random_state : int, RandomState instance or None, default=None
        Seeds the resampling; an int makes the interval reproducible.

    Returns
    -------
    point : float
        ``metric_fn`` on the full arrays.
    low, high : float
        Interval bounds.

    References
    ----------
    .. [1] Efron and Tibshirani, "An Introduction to the Bootstrap", 1993,
       chapter 13 (percentile intervals).

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.metrics import bootstrap_ci
    >>> x = np.arange(100.0)
    >>> point, low, high = bootstrap_ci(np.mean, x, random_state=0)
    >>> point, bool(low < 49.5 < high), bool(high - low < 15)
    (49.5, True, True)
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array to resample.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive int, got {n_boot!r}.")
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}.")
    arrays = [np.asarray(a) for a in arrays]
    lengths = {a.shape[0] if a.ndim else None for a in arrays}
    if len(lengths) != 1 or None in lengths or 0 in lengths:
        raise ValueError(
            f"arrays must be non-empty with the same first dimension; got shapes "
            f"{[a.shape for a in arrays]}."
        )
    n = lengths.pop()
    point = float(metric_fn(*arrays))
    rng = check_random_state(random_state)
    values = []
    for _ in range(n_boot):
        idx = rng.randint(0, n, size=n)
        try:
            values.append(float(metric_fn(*(a[idx] for a in arrays))))
        except ValueError:
            continue
    if not values:
        raise ValueError(f"metric_fn raised ValueError on all {n_boot} resamples; no interval.")
    if len(values) < n_boot:
        warnings.warn(
            f"metric_fn was undefined on {n_boot - len(values)} of {n_boot} resamples; "
            "they were dropped, so the interval may be too narrow.",
            RuntimeWarning,
            stacklevel=2,
        )
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return point, float(low), float(high)
