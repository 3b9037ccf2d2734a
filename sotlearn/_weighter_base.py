"""Shared scikit-learn surface of every weighter: the two ``fit`` call forms,
weights as a transform, top-K selection and a ``score`` for model selection."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._selection import top_k_mask

SAFE, HARMFUL, UNLABELLED = 0, 1, -1


def _check_reference(X, name, n_features=None):
    X = check_array(X, dtype=[np.float64, np.float32], input_name=name)
    if X.shape[0] < 2:
        raise ValueError(
            f"{name} has {X.shape[0]} row(s) (shape={X.shape}); a reference set needs at least 2 rows."
        )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but the safe anchor has {n_features}; "
            "both reference sets must be embedded in the same space."
        )
    return X


def split_references(estimator, X, y):
    """Parse ``fit(X_safe, X_harm)`` or ``fit(X, y)`` into numeric reference sets.

    Returns ``(X_safe, X_harm, X_unlabelled)`` where ``X_unlabelled`` holds the
    rows labelled -1 (none in the two-matrix form) and sets
    ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None: "
            "it needs reference sets. Call fit(X_safe, X_harm) with two "
            "matrices, or fit(X, y) with y = 0 (safe anchor), 1 (harmful reference), "
            "-1 (unlabelled downstream row)."
        )
    if np.asarray(y).ndim == 2:
        X_safe = validate_data(estimator, X, dtype=[np.float64, np.float32], ensure_min_samples=1)
        X_safe = _check_reference(X_safe, "X_safe")
        X_harm = _check_reference(y, "X_harm", n_features=X_safe.shape[1])
        X_harm = X_harm.astype(X_safe.dtype, copy=False)
        return X_safe, X_harm, X_safe[:0]
    X, y = validate_data(
        estimator, X, y, dtype=[np.float64, np.float32], y_numeric=True, ensure_min_samples=1
    )
    labels = np.unique(y)
    unexpected = np.setdiff1d(labels, [UNLABELLED, SAFE, HARMFUL])
    if unexpected.size:
        raise ValueError(
            f"y must hold 0 (safe anchor), 1 (harmful reference) or -1 (unlabelled); "
            f"got unexpected labels {[int(v) if float(v).is_integer() else v for v in unexpected.tolist()]}."
        )
    for label, name in ((SAFE, "safe (y == 0)"), (HARMFUL, "harmful (y == 1)")):
        count = int(np.sum(y == label))
        if count < 2:
            raise ValueError(
                f"y has {count} {name} row(s); each reference set needs at least 2 rows."
            )
    return X[y == SAFE], X[y == HARMFUL], X[y == UNLABELLED]


class BaseWeighter(TransformerMixin, BaseEstimator):
    """Mixin for estimators that learn one importance weight per row.

    Subclasses implement ``fit`` and ``_compute_weights(X)`` returning one
    mean-one weight per row of a validated numeric ``X``; higher is safer.
    """

    def score_samples(self, X):
        """Weights of the rows of ``X``, treated together as one downstream set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Downstream embeddings.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Non-negative weights with mean 1 (so they can be passed as
            ``sample_weight`` as they are); higher means safer.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        weights = self._compute_weights(X)
        if not np.all(np.isfinite(weights)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite weights; "
                "check the inputs for duplicated scales or raise `reg`."
            )
        return weights.astype(X.dtype, copy=False)

    def transform(self, X):
        """Weights of the rows of ``X`` as one column (see :meth:`score_samples`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Downstream embeddings.

        Returns
        -------
        weights : ndarray of shape (n_samples, 1)
            The mean-one weights of :meth:`score_samples` as a column.
        """
        return self.score_samples(X)[:, None]

    def get_feature_names_out(self, input_features=None):
        """Name of the single output column, ``"weight"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str, shape (1,)
            ``["weight"]``.
        """
        check_is_fitted(self)
        return np.asarray(["weight"], dtype=object)

    def select(self, X, keep_ratio=None):
        """Boolean mask of the rows of ``X`` kept by the top-K cut.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Downstream embeddings.
        keep_ratio : float in (0, 1] or None, default=None
            Fraction of rows to keep; ``None`` uses the estimator's
            ``keep_ratio``.

        Returns
        -------
        mask : ndarray of bool, shape (n_samples,)
            True for the ``ceil(keep_ratio * n_samples)`` rows with the
            largest weights.
        """
        ratio = self.keep_ratio if keep_ratio is None else keep_ratio
        return top_k_mask(self.score_samples(X), ratio)

    def score(self, X, y, sample_weight=None):
        """AUROC of the weights for telling safe rows (y == 0) from harmful rows (y == 1).

        All rows of ``X`` are weighted together (as one downstream set); rows
        with ``y == -1`` take part in the weighting but not in the AUROC. 1.0
        means every safe row outweighs every harmful row, 0.5 is chance, so
        ``GridSearchCV`` can select parameters without a custom scorer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to weight.
        y : array-like of shape (n_samples,)
            0 for safe, 1 for harmful, -1 for unlabelled.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the AUROC.

        Returns
        -------
        score : float
            AUROC in [0, 1]; 1.0 when every safe row outweighs every harmful row.
        """
        y = np.asarray(y)
        weights = self.score_samples(X)
        labelled = y != UNLABELLED
        if set(np.unique(y[labelled]).tolist()) != {SAFE, HARMFUL}:
            raise ValueError(
                "score needs both safe (y == 0) and harmful (y == 1) rows; "
                f"got labels {np.unique(y).tolist()}."
            )
        sw = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        return float(roc_auc_score(y[labelled] == SAFE, weights[labelled], sample_weight=sw))
