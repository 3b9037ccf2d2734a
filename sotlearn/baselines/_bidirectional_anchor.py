"""BidirectionalAnchorWeighter: far from the harmful anchor and close to the safe one."""

from numbers import Integral, Real

from scipy.special import softmax
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from .._weighter_base import BaseWeighter, split_references
from ._representation_matching import mean_top_cosine


class BidirectionalAnchorWeighter(BaseWeighter):
    """Bidirectional anchoring (He et al. 2024): similar to harmful minus similar to safe.

    He et al. rank downstream rows by their similarity to harmful anchors
    *minus* their similarity to safe anchors (the same harmful questions
    answered with refusals), so that rows which are merely on-topic, close to
    both, are not selected; in their code the two anchor scores are the
    cosine similarities to the anchors' mean (normalised) gradient, combined
    with weights +1 and -1. This baseline applies the rule to the given
    embeddings and reverses it as a defence:

        s_i = sim(x_i, H) - sim(x_i, S),
        sim(x, R) = mean of the n_neighbors largest cos(x, r_j) over rows r_j of R

    and ``w = n * softmax(-s / temperature)`` (mean one, higher for rows that
    are closer to the safe anchor than to the harmful reference). With
    ``n_neighbors=None`` each similarity is the mean over the whole set,
    which matches the mean-anchor rule up to a positive factor per set.

    Parameters
    ----------
    n_neighbors : int or None, default=None
        How many of the most similar rows of each reference set are averaged;
        capped at the size of the set. ``None`` averages over all rows.
    temperature : float, default=0.1
        Scale of the scores in the softmax; it changes how peaked the weights
        are, not their order.
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.

    Attributes
    ----------
    X_safe_ : ndarray of shape (m_s, n_features)
        Safe anchor.
    X_harm_ : ndarray of shape (m_h, n_features)
        Harmful reference.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    RepresentationMatchingWeighter : The harmful side alone.
    sotlearn.SafetyOTWeighter : Push-pull on whole distributions.

    References
    ----------
    .. [1] He, Xia and Henderson, "What is in Your Safe Data? Identifying
       Benign Data that Breaks Safety", COLM 2024, arXiv:2404.01099
       (bidirectional anchoring; ``online_gradient/rank.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.baselines import BidirectionalAnchorWeighter
    >>> X_safe = np.array([[1.0, 0.0], [1.0, 0.1]])
    >>> X_harm = np.array([[0.0, 1.0], [0.1, 1.0]])
    >>> weighter = BidirectionalAnchorWeighter().fit(X_safe, X_harm)
    >>> w = weighter.score_samples([[1.0, 0.05], [0.05, 1.0]])
    >>> bool(w[0] > w[1]), round(float(w.mean()), 6)
    (True, 1.0)
    """

    _parameter_constraints = {
        "n_neighbors": [None, Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, n_neighbors=None, temperature=0.1, keep_ratio=0.8):
        self.n_neighbors = n_neighbors
        self.temperature = temperature
        self.keep_ratio = keep_ratio

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the safe anchor and the harmful reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The safe anchor (two-matrix form) or all rows (labelled form).
        y : array-like of shape (m_h, n_features) or (n_samples,)
            The harmful reference (two-matrix form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : BidirectionalAnchorWeighter
            The fitted weighter.
        """
        self.X_safe_, self.X_harm_, _ = split_references(self, X, y)
        return self

    def _compute_weights(self, X):
        score = mean_top_cosine(X, self.X_harm_, self.n_neighbors) - mean_top_cosine(
            X, self.X_safe_, self.n_neighbors
        )
        return X.shape[0] * softmax(-score / self.temperature)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
