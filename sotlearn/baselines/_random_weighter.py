"""RandomWeighter: the random-selection baseline."""

from numbers import Real

from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._weighter_base import BaseWeighter, split_references


class RandomWeighter(BaseWeighter):
    """Random importance weights: the random-selection baseline.

    Each row gets an i.i.d. Exponential(1) draw, rescaled to mean one, so the
    weights of ``n`` rows are ``n`` times a uniform draw from the simplex
    (Dirichlet(1, ..., 1)) and the top-K cut keeps a uniformly random subset:
    the expected harmful recall at keep ratio ``rho`` is ``rho``. The
    reference sets are validated (so the call forms match the other
    weighters) but not used.

    Parameters
    ----------
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw. With an int, every call weighting the same number of
        rows returns the same weights.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sotlearn.SafetyOTWeighter : The method these baselines are compared to.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.baselines import RandomWeighter
    >>> X_ref = np.array([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.1]])
    >>> weighter = RandomWeighter(random_state=0).fit(X_ref, [0, 0, 1, 1])
    >>> w = weighter.score_samples(np.zeros((5, 2)))
    >>> w.shape, round(float(w.mean()), 6)
    ((5,), 1.0)
    """

    _parameter_constraints = {
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(self, keep_ratio=0.8, random_state=None):
        self.keep_ratio = keep_ratio
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the reference sets (they do not change the weights).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The safe anchor (two-matrix form) or all rows (labelled form).
        y : array-like of shape (m_h, n_features) or (n_samples,)
            The harmful reference (two-matrix form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : RandomWeighter
            The fitted weighter.
        """
        split_references(self, X, y)
        return self

    def _compute_weights(self, X):
        draws = check_random_state(self.random_state).exponential(size=X.shape[0])
        return draws / draws.mean()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
