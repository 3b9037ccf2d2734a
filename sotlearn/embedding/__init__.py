"""Text in, vectors out: scikit-learn transformers that embed conversations.

Both embedders take plain strings, :class:`~sotlearn.datasets.Conversation`
records, record mappings in the common fine-tuning formats, pandas columns
or a ``datasets.Dataset``, and load their model lazily (in ``fit``).
"""

from ._embedding_cache import EmbeddingCache
from ._lm_hidden_state_embedder import LMHiddenStateEmbedder
from ._sentence_embedder import SentenceEmbedder

__all__ = ["EmbeddingCache", "LMHiddenStateEmbedder", "SentenceEmbedder"]
