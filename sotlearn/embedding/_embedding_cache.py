"""EmbeddingCache: embeddings keyed by (model, text target, exact text)."""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """Embeddings already computed, shared by every clone of an embedder.

    Pass one instance as the ``cache`` parameter of
    :class:`~sotlearn.embedding.SentenceEmbedder` or
    :class:`~sotlearn.embedding.LMHiddenStateEmbedder`. ``sklearn.clone``
    (hence ``GridSearchCV`` and ``cross_validate``) keeps the *same* cache:
    copying an instance returns the instance itself, so the rows of every fold
    are embedded once.

    The in-memory store lives in one process. With ``location`` every entry
    is also written to that folder (one ``.npy`` file per text), which makes
    it visible to other processes, such as ``n_jobs`` workers, and to later
    sessions.

    Parameters
    ----------
    location : str, path-like or None, default=None
        Folder for the on-disk store; ``None`` keeps entries in memory only.

    Attributes
    ----------
    hits : int
        Texts answered from the cache since creation (or :meth:`clear`); the
        embedders look each distinct text of a ``transform`` call up once.
    misses : int
        Texts that had to be embedded.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn.embedding import EmbeddingCache
    >>> cache = EmbeddingCache()
    >>> cache.put("model-a", "prompt", ["hi"], np.ones((1, 3), dtype=np.float32))
    >>> found = cache.get("model-a", "prompt", ["hi", "bye"])
    >>> [f is not None for f in found], cache.hits, cache.misses
    ([True, False], 1, 1)
    """

    def __init__(self, location=None):
        self.location = location
        self.clear()

    def __deepcopy__(self, memo):
        # A cache is a shared resource: clones of an estimator must see one store.
        return self

    def __len__(self):
        return len(self._store)

    def clear(self):
        """Forget the in-memory entries and reset the counters (disk entries stay)."""
        self._store = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(model_key, target, text):
        # NUL separator: keeps ("a", "bc") and ("ab", "c") apart; texts never hold NUL
        return hashlib.sha256("\x00".join((model_key, target, text)).encode("utf-8")).hexdigest()

    def _path(self, key):
        return Path(self.location) / key[:2] / f"{key}.npy"

    def get(self, model_key, target, texts):
        """Cached vector of each text, or ``None`` where absent; counts hits and misses.

        Parameters
        ----------
        model_key : str
            Identifies the model (and its settings) that made the vectors.
        target : str
            Which part of the conversation was embedded.
        texts : list of str
            The embedded texts.

        Returns
        -------
        list of ndarray or None
            One entry per text.
        """
        found = []
        for text in texts:
            key = self._key(model_key, target, text)
            vector = self._store.get(key)
            if vector is None and self.location is not None and self._path(key).is_file():
                vector = self._store[key] = np.load(self._path(key))
            found.append(vector)
        n_hits = sum(v is not None for v in found)
        self.hits += n_hits
        self.misses += len(found) - n_hits
        return found

    def put(self, model_key, target, texts, vectors):
        """Store one row of ``vectors`` per text.

        Parameters
        ----------
        model_key : str
            Identifies the model (and its settings) that made the vectors.
        target : str
            Which part of the conversation was embedded.
        texts : list of str
            The embedded texts.
        vectors : array-like of shape (len(texts), n_features)
            Their embeddings.
        """
        for text, vector in zip(texts, vectors):
            key = self._key(model_key, target, text)
            self._store[key] = vector
            if self.location is not None:
                path = self._path(key)
                path.parent.mkdir(parents=True, exist_ok=True)
                # temp file + rename: a concurrent reader never sees half a file
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
                with os.fdopen(fd, "wb") as f:
                    np.save(f, vector)
                os.replace(tmp, path)
