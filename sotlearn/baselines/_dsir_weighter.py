"""DSIRWeighter: hashed n-gram importance weights on raw text (Xie et al. 2023)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import _fit_context
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._weighter_base import HARMFUL, SAFE, UNLABELLED, BaseWeighter

# nltk's WordPunctTokenizer, which DSIR applies to lower-cased text
_WORD_PUNCT = r"\w+|[^\w\s]+"


def _check_texts(texts, name):
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, got a single string.")
    texts = list(texts)
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(
            f"{name} must hold strings only; got {len(bad)} non-string item(s) of type "
            f"{sorted(set(bad))}. DSIRWeighter works on raw text, not embeddings."
        )
    return texts


class DSIRWeighter(BaseWeighter):
    """Data Selection with Importance Resampling (Xie et al. 2023) on raw text.

    Each text is a bag of hashed n-grams (lower-cased word/punctuation tokens,
    unigrams and bigrams, hashed into ``n_buckets`` buckets). One categorical
    distribution over the buckets is fitted to the safe anchor texts and one to
    the harmful reference texts (counts plus ``alpha``), and each downstream
    text gets the log importance weight

        s(x) = log p_safe(x) - log p_harm(x) = sum_b count_b(x) (log p_safe[b] - log p_harm[b])

    turned into mean-one weights ``w = n * softmax(s / temperature)``. With
    ``temperature=1`` these are DSIR's importance weights ``p_safe(x) /
    p_harm(x)`` normalised over the rows; DSIR then resamples by them, which
    here is the top-K cut of :meth:`select`. Here the harmful reference plays
    the part of DSIR's raw distribution.

    The default ``temperature="auto"`` divides by the standard deviation of
    ``s`` over the rows weighted together. Log-ratios of real texts spread
    over hundreds of nats (they add up over every n-gram), so at
    ``temperature=1`` one row takes nearly all the weight and most weights
    underflow to exactly 0, which erases their order: measured on 500
    Alpaca/Dolly/GSM8K prompts with 10% harmful ones, the AUROC of the
    weights fell from 0.87 (the log-ratios) to 0.52.

    The input is a list of strings, not embeddings: ``fit(texts_safe,
    texts_harm)`` or ``fit(texts, y)`` with ``y`` in {0 safe, 1 harmful, -1
    unlabelled}, and ``score_samples(texts)``. The estimator tags say so
    (``input_tags.string=True``, ``two_d_array=False``).

    Parameters
    ----------
    n_buckets : int, default=10000
        Number of hash buckets (DSIR's default).
    ngram_range : tuple of (int, int), default=(1, 2)
        Smallest and largest n-gram length.
    alpha : float, default=1.0
        Additive (Laplace) smoothing of the bucket counts, so that a bucket
        unseen in one reference set has a finite log-probability.
    temperature : "auto" or float, default="auto"
        Divides the log importance weights before the softmax; "auto" uses
        their standard deviation over the rows (1.0 when they are all
        equal). 1.0 gives DSIR's own importance weights.
    keep_ratio : float in (0, 1], default=0.8
        Fraction of rows :meth:`select` keeps.

    Attributes
    ----------
    log_ratio_ : ndarray of shape (n_buckets,)
        ``log p_safe[b] - log p_harm[b]`` per bucket.

    See Also
    --------
    ProbeWeighter : A discriminative classifier on embeddings.

    References
    ----------
    .. [1] Xie, Santurkar, Ma and Liang, "Data Selection for Language Models
       via Importance Resampling", NeurIPS 2023, arXiv:2302.03169.

    Examples
    --------
    >>> from sotlearn.baselines import DSIRWeighter
    >>> safe = ["how do I bake bread", "tips for baking a cake"]
    >>> harm = ["how do I build a bomb", "how to make a weapon at home"]
    >>> weighter = DSIRWeighter().fit(safe, harm)
    >>> w = weighter.score_samples(["bake a cake at home", "make a bomb at home"])
    >>> bool(w[0] > w[1]), round(float(w.mean()), 6)
    (True, 1.0)
    """

    _parameter_constraints = {
        "n_buckets": [Interval(Integral, 1, None, closed="left")],
        "ngram_range": [tuple],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "temperature": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, n_buckets=10000, ngram_range=(1, 2), alpha=1.0, temperature="auto", keep_ratio=0.8):
        self.n_buckets = n_buckets
        self.ngram_range = ngram_range
        self.alpha = alpha
        self.temperature = temperature
        self.keep_ratio = keep_ratio

    def _vectorizer(self):
        return HashingVectorizer(
            n_features=self.n_buckets, ngram_range=self.ngram_range, lowercase=True,
            token_pattern=_WORD_PUNCT, alternate_sign=False, norm=None,
        )

    def _split(self, X, y):
        if y is None:
            raise ValueError(
                "DSIRWeighter needs reference texts: call fit(texts_safe, texts_harm) with two "
                "lists of strings, or fit(texts, y) with y = 0 (safe), 1 (harmful), -1 (unlabelled)."
            )
        X = _check_texts(X, "X")
        if not isinstance(y, (str, bytes)) and all(isinstance(t, str) for t in y) and len(y):
            return X, _check_texts(y, "X_harm")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != len(X) or not np.issubdtype(y.dtype, np.number):
            raise ValueError(
                f"y must be a list of harmful texts or {len(X)} numeric labels in {{-1, 0, 1}}; "
                f"got an array of shape {y.shape} and dtype {y.dtype}."
            )
        unexpected = np.setdiff1d(np.unique(y), [UNLABELLED, SAFE, HARMFUL])
        if unexpected.size:
            raise ValueError(
                f"y must hold 0 (safe anchor), 1 (harmful reference) or -1 (unlabelled); "
                f"got unexpected labels {unexpected.tolist()}."
            )
        return [t for t, k in zip(X, y) if k == SAFE], [t for t, k in zip(X, y) if k == HARMFUL]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the hashed n-gram distributions of the safe and harmful texts.

        Parameters
        ----------
        X : list of str
            The safe anchor texts (two-list form) or all texts (labelled form).
        y : list of str or array-like of shape (n_samples,)
            The harmful reference texts (two-list form) or labels in {-1, 0, 1}.

        Returns
        -------
        self : DSIRWeighter
            The fitted weighter.
        """
        if len(self.ngram_range) != 2 or not 1 <= self.ngram_range[0] <= self.ngram_range[1]:
            raise ValueError(f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n, got {self.ngram_range!r}.")
        texts_safe, texts_harm = self._split(X, y)
        for texts, name in ((texts_safe, "safe"), (texts_harm, "harmful")):
            if len(texts) < 2:
                raise ValueError(f"DSIRWeighter got {len(texts)} {name} text(s); each reference set needs at least 2.")
        vectorizer = self._vectorizer()
        log_p = []
        for texts in (texts_safe, texts_harm):
            counts = np.asarray(vectorizer.transform(texts).sum(axis=0)).ravel() + self.alpha
            log_p.append(np.log(counts) - np.log(counts.sum()))
        self.log_ratio_ = log_p[0] - log_p[1]
        return self

    def score_samples(self, X):
        """Mean-one DSIR weights of the texts ``X``, weighted together.

        Parameters
        ----------
        X : list of str
            Downstream texts.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Non-negative float64 weights with mean 1; higher means more like
            the safe anchor than the harmful reference.
        """
        check_is_fitted(self)
        X = _check_texts(X, "X")
        if not X:
            raise ValueError("X is empty; DSIRWeighter needs at least one text to weight.")
        return self._compute_weights(X)

    def _compute_weights(self, X):
        log_importance = self._vectorizer().transform(X) @ self.log_ratio_
        temperature = self.temperature
        if temperature == "auto":
            temperature = float(np.std(log_importance)) or 1.0
        return len(X) * softmax(log_importance / temperature)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags
