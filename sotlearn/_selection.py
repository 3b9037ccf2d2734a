"""Top-K selection of rows by weight (stage 2 of SOT: purification)."""

import numbers

import numpy as np


def check_keep_ratio(keep_ratio, name="keep_ratio"):
    """Validate a keep ratio in ``(0, 1]`` and return it as a float."""
    if (
        isinstance(keep_ratio, bool)
        or not isinstance(keep_ratio, numbers.Real)
        or not 0.0 < keep_ratio <= 1.0
    ):
        raise ValueError(f"{name} must be a float in (0, 1], got {keep_ratio!r}.")
    return float(keep_ratio)


def top_k_mask(weights, keep_ratio=0.8):
    """Boolean mask of the ``ceil(keep_ratio * n)`` rows with the largest weights.

    Ties are broken by row order (earlier rows are kept first), so the result is
    deterministic.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        One weight per row; higher means keep.
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows to keep.

    Returns
    -------
    mask : ndarray of bool, shape (n_samples,)
        True for the kept rows.

    Examples
    --------
    >>> from sotlearn import top_k_mask
    >>> top_k_mask([0.2, 3.0, 1.0, 1.0], keep_ratio=0.5)
    array([False,  True,  True, False])
    """
    keep_ratio = check_keep_ratio(keep_ratio)
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1:
        raise ValueError(f"weights must be 1-D, got shape {weights.shape}.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weights contain NaN or inf.")
    # round first: 0.7 * 10 is 7.000000000000001 in floating point
    n_keep = int(np.ceil(round(keep_ratio * weights.shape[0], 9)))
    order = np.argsort(-weights, kind="stable")
    mask = np.zeros(weights.shape[0], dtype=bool)
    mask[order[:n_keep]] = True
    return mask
