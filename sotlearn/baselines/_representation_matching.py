"""RepresentationMatchingWeighter: down-weight rows that look like the harmful reference."""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import _fit_context
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval

from .._weighter_base import BaseWeighter, split_references


def mean_top_cosine(X, reference, n_neighbors):
    """Mean of the ``n_neighbors`` largest cosine similarities of each row of ``X`` to ``reference``.

    ``n_neighbors=None`` averages over every reference row, which equals the
    cosine similarity to the mean of the unit-normalised reference rows up to a
    positive factor. Zero rows have similarity 0 to everything.
    """
    sims = normalize(X) @ normalize(reference).T
    if n_neighbors is None or n_neighbors >= sims.shape[1]:
        return sims.mean(axis=1)
    top = np.partition(sims, sims.shape[1] - n_neighbors, axis=1)[:, -n_neighbors:]
    return top.mean(axis=1)


class RepresentationMatchingWeighter(BaseWeighter):
    """Representation matching (He et al. 2024): the closer to harmful rows, the lower the weight.

    He et al. score each downstream row by the mean of its ``avg_n`` largest
    cosine similarities to the harmful anchor rows (``avg_n=1`` by default in
    their code: the nearest harmful row) and show that the top-scoring benign
    rows break safety when fine-tuned on. As a defence the ranking is
    reversed: the score is

        s_i = mean of the n_neighbors largest cos(x_i, h_j) over harmful rows h_j

    and the weights are ``w = n * softmax(-s / temperature)`` (mean one, higher
    for rows less similar to the harmful reference). The safe anchor is
    validated but not used (see :class:`BidirectionalAnchorWeighter`).

    Parameters
    ----------
    n_neighbors : int or None, default=1
        How many of the most similar harmful rows are averaged; capped at the
        size of the harmful reference. ``None`` averages over all of them,
        which ranks rows like the cosine similarity to the harmful centroid
        (of unit-normalised rows).
    temperature : float, default=0.1
        Scale of the similarities in the softmax; it changes how peaked the
        weights are, not their order.
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.

    Attributes
    ----------
    X_harm_ : ndarray of shape (m_h, n_features)
        Harmful reference.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    BidirectionalAnchorWeighter : Also rewards similarity to the safe anchor.
    sotlearn.SafetyOTWeighter : Compares distributions instead of single rows.

    References
    ----------
    .. [1] He, Xia and Henderson, "What is in Your Safe Data? Identifying
       Benign Data that Breaks Safety", COLM 2024, arXiv:2404.01099
       (``get_top_similarity_dataset_reps_general.py``, ``top_n_score``).

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.baselines import RepresentationMatchingWeighter
    >>> X_safe = np.array([[1.0, 0.0], [1.0, 0.1]])
    >>> X_harm = np.array([[0.0, 1.0], [0.1, 1.0]])
    >>> weighter = RepresentationMatchingWeighter().fit(X_safe, X_harm)
    >>> w = weighter.score_samples([[1.0, 0.05], [0.05, 1.0]])
    >>> bool(w[0] > w[1]), round(float(w.mean()), 6)
    (True, 1.0)
    """

    _parameter_constraints = {
        "n_neighbors": [None, Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, n_neighbors=1, temperature=0.1, keep_ratio=0.8):
        self.n_neighbors = n_neighbors
        self.temperature = temperature
        self.keep_ratio = keep_ratio

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the harmful reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The safe anchor (two-matrix form) or all rows (labelled form).
        y : array-like of shape (m_h, n_features) or (n_samples,)
            The harmful reference (two-matrix form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : RepresentationMatchingWeighter
            The fitted weighter.
        """
        _, self.X_harm_, _ = split_references(self, X, y)
        return self

    def _compute_weights(self, X):
        score = mean_top_cosine(X, self.X_harm_, self.n_neighbors)
        return X.shape[0] * softmax(-score / self.temperature)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
