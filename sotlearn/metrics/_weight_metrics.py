"""How well a weighting separates benign rows from injected harmful rows."""

import numpy as np
from sklearn.metrics import roc_auc_score

from .._selection import top_k_mask


def _check_weights_and_labels(weights, is_harmful):
    weights = np.asarray(weights, dtype=float)
    is_harmful = np.asarray(is_harmful)
    if weights.ndim != 1 or is_harmful.ndim != 1 or weights.shape != is_harmful.shape:
        raise ValueError(
            f"weights and is_harmful must be 1-D of the same length; got shapes "
            f"{weights.shape} and {is_harmful.shape}."
        )
    if not np.isin(is_harmful, [0, 1]).all():
        raise ValueError("is_harmful must hold booleans or 0/1 values.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weights contain NaN or inf.")
    return weights, is_harmful.astype(bool)


def harmful_recall_at_keep(weights, is_harmful, keep_ratio=0.8):
    """Fraction of the harmful rows that survive the top-``keep_ratio`` cut.

    The rows kept are those of :func:`sotlearn.top_k_mask` (the
    ``ceil(keep_ratio * n)`` largest weights, ties broken by row order).
    Random weights give ``keep_ratio`` in expectation; lower is better and 0
    means every harmful row was filtered out.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        One weight per row; higher means keep.
    is_harmful : array-like of bool or {0, 1}, shape (n_samples,)
        Which rows are the injected harmful ones (at least one).
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows kept.

    Returns
    -------
    recall : float
        Harmful rows kept divided by harmful rows.

    Examples
    --------
    >>> from sotlearn.metrics import harmful_recall_at_keep
    >>> harmful_recall_at_keep([5, 4, 3, 2, 1], [0, 1, 0, 0, 1], keep_ratio=0.6)
    0.5
    """
    weights, is_harmful = _check_weights_and_labels(weights, is_harmful)
    if not is_harmful.any():
        raise ValueError("is_harmful has no harmful row; the recall is undefined.")
    return float(top_k_mask(weights, keep_ratio)[is_harmful].mean())


def weight_auroc(weights, is_harmful):
    """AUROC of the weights for ranking benign rows above harmful rows.

    1.0 means every benign row outweighs every harmful row, 0.5 is chance;
    higher is better. Ties count one half.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        One weight per row; higher means safer.
    is_harmful : array-like of bool or {0, 1}, shape (n_samples,)
        Which rows are harmful; both kinds must be present.

    Returns
    -------
    auroc : float
        AUROC in [0, 1]; 1.0 when every benign row outweighs every harmful row.

    Examples
    --------
    >>> from sotlearn.metrics import weight_auroc
    >>> weight_auroc([3.0, 1.0, 2.0, 0.5], [0, 1, 0, 0])
    0.6666666666666666
    """
    weights, is_harmful = _check_weights_and_labels(weights, is_harmful)
    if is_harmful.all() or not is_harmful.any():
        raise ValueError("weight_auroc needs both benign and harmful rows in is_harmful.")
    return float(roc_auc_score(~is_harmful, weights))
