"""What the text embedders share: input handling, caching, lazy loading, pickling."""

from abc import abstractmethod

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils.validation import check_is_fitted

from ._inputs import as_items

# keys of the loaded model objects in __dict__, dropped from pickles by default
_MODEL_ATTRIBUTES = ("_model", "_tokenizer")


class BaseTextEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the text embedders; not meant to be used directly.

    Subclasses implement ``_load`` (set ``_model``, and ``_tokenizer`` if
    any, and return the output dimension), ``_model_key`` (identity of the model for the cache),
    ``_prepare`` (the exact string to embed for one item) and ``_embed``.
    """

    @abstractmethod
    def _load(self):
        """Load the model into ``self._model``; return the embedding dimension."""

    @abstractmethod
    def _model_key(self):
        """A string that identifies the model and every option changing its vectors."""

    @abstractmethod
    def _prepare(self, item):
        """The string embedded for one str or Conversation item."""

    @abstractmethod
    def _embed(self, texts, raw):
        """Embed distinct strings; ``raw`` marks those given as str rather than Conversation."""

    def _check_device(self):
        import torch

        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but torch sees no CUDA device; use device='cpu'."
            )

    @property
    def _n_features_out(self):
        # read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out
        return self.n_features_out_

    def _ensure_loaded(self):
        # the model is absent after unpickling without weights
        if getattr(self, "_model", None) is None:
            self._load()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the model; the embedder learns nothing from ``X``.

        Parameters
        ----------
        X : sequence of str or Conversation, records, pandas or datasets column
            Ignored apart from input validation.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted embedder.
        """
        as_items(X)
        self._check_device()
        self.n_features_out_ = self._load()
        return self

    def transform(self, X):
        """Embed each row of ``X``.

        Parameters
        ----------
        X : sequence of str or Conversation, records, pandas or datasets column
            Strings are embedded as they are; conversations and records
            (alpaca, dolly, messages, prompt/response, question/answer) by
            the part chosen with ``text``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out), dtype float32
            One embedding per row of ``X``.
        """
        check_is_fitted(self)
        items = as_items(X)
        out = np.zeros((len(items), self._n_features_out), dtype=np.float32)
        if not items:
            return out
        self._ensure_loaded()
        raw = np.array([isinstance(item, str) for item in items])
        texts = [self._prepare(item) for item in items]
        # "raw" strings and conversation parts are kept apart in the cache
        for is_raw in (True, False):
            rows = np.flatnonzero(raw == is_raw)
            if rows.size:
                out[rows] = self._embed_cached([texts[i] for i in rows], is_raw)
        return out

    def _embed_cached(self, texts, raw):
        distinct = list(dict.fromkeys(texts))
        target = "raw" if raw else self.text
        vectors = {}
        if self.cache is not None:
            found = self.cache.get(self._model_key(), target, distinct)
            vectors = {t: v for t, v in zip(distinct, found) if v is not None}
        todo = [t for t in distinct if t not in vectors]
        if todo:
            computed = np.asarray(self._embed(todo, raw), dtype=np.float32)
            vectors.update(zip(todo, computed))
            if self.cache is not None:
                self.cache.put(self._model_key(), target, todo, computed)
        return np.stack([vectors[t] for t in texts])

    def __getstate__(self):
        # a copy: on Python >= 3.11 object.__getstate__ returns __dict__ itself
        state = dict(super().__getstate__())
        if not self.keep_model_in_pickle:
            for name in _MODEL_ATTRIBUTES:
                state.pop(name, None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
