"""WeightedEstimator: route a weighter's weights into another estimator's ``sample_weight``."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._selection import top_k_mask
from ._weighter_base import UNLABELLED


def _estimator_has(attr):
    def check(self):
        return hasattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, attr)

    return check


class WeightedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit an estimator on downstream rows weighted (and optionally purified) by a weighter.

    A scikit-learn :class:`~sklearn.pipeline.Pipeline` cannot feed one step's
    output into the next step's ``sample_weight``; this meta-estimator does:
    it fits ``weighter`` on the reference rows, weights the downstream rows,
    optionally keeps the top ``keep_ratio`` of them, and calls
    ``estimator.fit(X_down, y_down, sample_weight=weights)`` (the precedents
    are skada's ``make_da_pipeline`` and imbalanced-learn's samplers).

    Parameters
    ----------
    weighter : estimator with ``fit`` and ``score_samples``
        A weighter such as :class:`SafetyOTWeighter`, or a pipeline ending in
        one (an embedder in front lets the final estimator see raw text).
    estimator : estimator whose ``fit`` accepts ``sample_weight``
        The model to train, e.g. :class:`~sotlearn.finetune.WeightedLMFineTuner`.
    keep_ratio : float in (0, 1] or None, default=None
        Keep only this fraction of downstream rows (highest weights) before
        fitting; ``None`` keeps every row and only reweights.

    Attributes
    ----------
    weighter_ : estimator
        The fitted weighter.
    estimator_ : estimator
        The fitted final estimator.
    sample_weight_ : ndarray of shape (n_kept,)
        Mean-one weights passed to ``estimator_.fit``.
    support_ : ndarray of bool, shape (n_downstream,)
        Which downstream rows were kept.

    See Also
    --------
    SafetyOTWeighter : The push-pull OT weighter.

    Notes
    -----
    Downstream and reference rows come in one ``X`` with ``sample_role``
    (0 safe anchor, 1 harmful reference, -1 downstream), like skada's
    ``sample_domain``; only the downstream rows reach ``estimator``. Without
    ``sample_role`` the weighter must already be fitted and every row of ``X``
    is downstream; such a prefitted weighter is used as is (``clone``, hence
    ``GridSearchCV``, would drop its fit, so pass ``sample_role`` there).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sotlearn import SafetyOTWeighter, WeightedEstimator
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal([3, 0], 0.3, (20, 2)), rng.normal([0, 3], 0.3, (20, 2)),
    ...                rng.normal([2, 1], 1.0, (30, 2))])
    >>> role = np.r_[np.zeros(20), np.ones(20), -np.ones(30)]
    >>> y = X.sum(axis=1)
    >>> model = WeightedEstimator(SafetyOTWeighter(), Ridge(), keep_ratio=0.8)
    >>> model.fit(X, y, sample_role=role).support_.sum()
    np.int64(24)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        "weighter": [HasMethods(["fit", "score_samples"])],
        "estimator": [HasMethods(["fit"])],
        "keep_ratio": [None, Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, weighter, estimator, *, keep_ratio=None):
        self.weighter = weighter
        self.estimator = estimator
        self.keep_ratio = keep_ratio

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, sample_role=None, **fit_params):
        """Fit the weighter, weight the downstream rows and fit the estimator.

        Parameters
        ----------
        X : array-like or list of length n_samples
            All rows (numeric embeddings, or texts when the weighter embeds).
        y : array-like of shape (n_samples,), default=None
            Target of the final estimator (only downstream entries are used).
        sample_role : array-like of shape (n_samples,), default=None
            0 safe anchor, 1 harmful reference, -1 downstream. ``None`` means
            every row is downstream and ``weighter`` is already fitted.
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : WeightedEstimator
            The fitted meta-estimator.
        """
        if sample_role is None:
            try:
                check_is_fitted(self.weighter)
            except Exception as exc:
                raise ValueError(
                    "WeightedEstimator.fit needs sample_role (0 safe, 1 harmful, -1 downstream) "
                    "unless the weighter is already fitted."
                ) from exc
            self.weighter_ = self.weighter
            downstream = np.arange(len(X))
        else:
            sample_role = np.asarray(sample_role)
            if sample_role.shape != (len(X),):
                raise ValueError(
                    f"sample_role must have shape ({len(X)},) like X, got {sample_role.shape}."
                )
            downstream = np.flatnonzero(sample_role == UNLABELLED)
            if downstream.size == 0:
                raise ValueError("sample_role has no downstream rows (-1): nothing to fit on.")
            # Fit on the reference rows only: the downstream rows are weighted
            # once, below, instead of also inside the weighter's fit.
            references = np.flatnonzero(sample_role != UNLABELLED)
            self.weighter_ = clone(self.weighter).fit(
                _safe_indexing(X, references), sample_role[references]
            )
        X_down = _safe_indexing(X, downstream)
        weights = np.asarray(self.weighter_.score_samples(X_down), dtype=float)
        self.support_ = (
            np.ones(len(downstream), dtype=bool)
            if self.keep_ratio is None
            else top_k_mask(weights, self.keep_ratio)
        )
        kept = np.flatnonzero(self.support_)
        weights = weights[kept]
        self.sample_weight_ = weights / weights.mean()
        X_fit = _safe_indexing(X_down, kept)
        self.estimator_ = clone(self.estimator)
        if y is None:
            self.estimator_.fit(X_fit, sample_weight=self.sample_weight_, **fit_params)
        else:
            y_fit = _safe_indexing(_safe_indexing(y, downstream), kept)
            self.estimator_.fit(X_fit, y_fit, sample_weight=self.sample_weight_, **fit_params)
        return self

    @available_if(_estimator_has("predict"))
    def predict(self, X, **params):
        """Predict with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X, **params)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X):
        """Transform with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.transform(X)

    @available_if(_estimator_has("generate"))
    def generate(self, X, **params):
        """Generate with the fitted estimator (e.g. a fine-tuned language model)."""
        check_is_fitted(self)
        return self.estimator_.generate(X, **params)

    @available_if(_estimator_has("score"))
    def score(self, X, y=None, **params):
        """Score of the fitted estimator."""
        check_is_fitted(self)
        if y is None:
            return self.estimator_.score(X, **params)
        return self.estimator_.score(X, y, **params)

    @property
    def classes_(self):
        """Class labels of the fitted estimator."""
        return self.estimator_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = getattr(self.estimator, "_estimator_type", None)
        return tags
