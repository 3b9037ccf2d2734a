"""ProbeWeighter: a supervised safe-vs-harmful classifier as a weighter."""

from numbers import Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval

from .._weighter_base import BaseWeighter, split_references

# keeps the weights finite when every row is confidently harmful (all p_safe == 0)
_PROBA_FLOOR = 1e-12


class ProbeWeighter(BaseWeighter):
    """Weights from a safe-vs-harmful probe trained on the reference rows.

    The instance-level baseline: a classifier is fitted on the safe anchor
    (label 1) and the harmful reference (label 0), and each downstream row is
    weighted by its predicted probability of being safe, rescaled to mean one:
    ``w_i = n * p_i / sum_j p_j`` with ``p_i = P(safe | x_i)`` (floored at
    ``1e-12``). Unlabelled rows (``y == -1``) do not train the probe.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` or None, default=None
        The probe, cloned before fitting. ``None`` uses
        ``LogisticRegression(max_iter=1000)``, a linear probe.
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.

    Attributes
    ----------
    estimator_ : classifier
        The fitted probe (classes 0 = harmful, 1 = safe).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    RepresentationMatchingWeighter : Unsupervised similarity to harmful rows.
    sotlearn.SafetyOTWeighter : Distribution-level weighting.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.baselines import ProbeWeighter
    >>> X_safe = np.array([[1.0, 0.0], [1.0, 0.1], [0.9, 0.0]])
    >>> X_harm = np.array([[0.0, 1.0], [0.1, 1.0], [0.0, 0.9]])
    >>> weighter = ProbeWeighter().fit(X_safe, X_harm)
    >>> w = weighter.score_samples([[1.0, 0.05], [0.05, 1.0]])
    >>> bool(w[0] > w[1]), round(float(w.mean()), 6)
    (True, 1.0)
    """

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict_proba"])],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, estimator=None, keep_ratio=0.8):
        self.estimator = estimator
        self.keep_ratio = keep_ratio

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the probe on the safe anchor and the harmful reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The safe anchor (two-matrix form) or all rows (labelled form).
        y : array-like of shape (m_h, n_features) or (n_samples,)
            The harmful reference (two-matrix form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : ProbeWeighter
            The fitted weighter.
        """
        X_safe, X_harm, _ = split_references(self, X, y)
        base = LogisticRegression(max_iter=1000) if self.estimator is None else self.estimator
        labels = np.r_[np.ones(X_safe.shape[0], dtype=int), np.zeros(X_harm.shape[0], dtype=int)]
        self.estimator_ = clone(base).fit(np.vstack([X_safe, X_harm]), labels)
        return self

    def _compute_weights(self, X):
        safe_column = list(self.estimator_.classes_).index(1)
        p_safe = self.estimator_.predict_proba(X)[:, safe_column].astype(np.float64)
        p_safe = np.maximum(p_safe, _PROBA_FLOOR)
        return p_safe / p_safe.mean()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
