import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from transformers import AutoModelForCausalLM, AutoTokenizer

from sotlearn import LMHiddenStateEmbedder as TopLevelLMHiddenStateEmbedder
from sotlearn.datasets import Conversation
from sotlearn.embedding import LMHiddenStateEmbedder

# very different lengths, so that batches carry a lot of padding
CONVERSATIONS = [
    Conversation("hi", "hello"),
    Conversation("how do i bake a cake for my friends this weekend?", "sure, here is a cake."),
    Conversation("what is two plus four", "6", system="be brief."),
    Conversation("write a poem about the sea", "the sea, the sea, the endless sea " * 3),
    Conversation("steal a car", "sorry"),
]


def test_top_level_export_is_the_same_class():
    assert TopLevelLMHiddenStateEmbedder is LMHiddenStateEmbedder


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("text", ["prompt", "response", "conversation"])
@pytest.mark.parametrize("model", ["tiny_causal_lm", "tiny_gpt2"])
def test_batched_equals_one_by_one(model, padding_side, text, request):
    # GPT-2's absolute positions catch left padding that shifts position ids;
    # right padding catches reading the state of a padding token.
    model = request.getfixturevalue(model)
    batched = LMHiddenStateEmbedder(
        model, text=text, batch_size=5, padding_side=padding_side
    ).fit_transform(CONVERSATIONS)
    single = LMHiddenStateEmbedder(model, text=text, batch_size=1).fit(CONVERSATIONS)
    one_by_one = np.vstack([single.transform([c]) for c in CONVERSATIONS])
    assert batched.shape == (5, 16) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-4, atol=1e-5)


def test_vector_is_the_final_hidden_state_of_the_last_template_token(tiny_causal_lm):
    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm, dtype=torch.float32)
    conversation = CONVERSATIONS[2]
    formatted = tokenizer.apply_chat_template(conversation.messages, tokenize=False)
    assert formatted == "<|system|>be brief.</s><|user|>what is two plus four</s><|assistant|>6</s>"
    ids = tokenizer(formatted, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        expected = model(ids, output_hidden_states=True).hidden_states[-1][0, -1].numpy()
    got = LMHiddenStateEmbedder(tiny_causal_lm, batch_size=5).fit_transform(CONVERSATIONS)
    np.testing.assert_allclose(got[2], expected, rtol=1e-4, atol=1e-5)


def test_prompt_ends_with_the_generation_prompt(tiny_causal_lm):
    embedder = LMHiddenStateEmbedder(tiny_causal_lm, text="prompt").fit(["hi"])
    assert embedder._prepare(CONVERSATIONS[0]) == "<|user|>hi</s><|assistant|>"
    embedder.set_params(text="response")
    assert embedder._prepare(CONVERSATIONS[0]) == "<|assistant|>hello</s>"


def test_strings_are_embedded_without_the_template(tiny_causal_lm):
    embedder = LMHiddenStateEmbedder(tiny_causal_lm).fit(["hi"])
    raw, templated = embedder.transform(["hi"]), embedder.transform([Conversation("hi")])
    assert not np.allclose(raw, templated)


def test_long_sequences_are_cut_from_the_left(tiny_causal_lm):
    long = Conversation("a " * 300, "the end")
    cut = LMHiddenStateEmbedder(tiny_causal_lm, max_length=20).fit([long])
    # the last 20 tokens alone, given as a plain string, give the same state
    ids = cut._tokenizer(cut._prepare(long), add_special_tokens=False)["input_ids"]
    tail = cut._tokenizer.decode(ids[-20:])
    assert tail.endswith("the end</s>") and len(ids) > 20
    np.testing.assert_allclose(cut.transform([long]), cut.transform([tail]), rtol=1e-4, atol=1e-5)


def test_sklearn_manners_and_pickle(tiny_causal_lm):
    embedder = LMHiddenStateEmbedder(tiny_causal_lm, batch_size=2)
    assert not hasattr(embedder, "_model")
    assert embedder.fit(CONVERSATIONS) is embedder
    assert embedder.get_feature_names_out()[0] == "lmhiddenstateembedder0"
    twin = clone(embedder)
    assert twin.get_params() == embedder.get_params() and not hasattr(twin, "_model")
    expected = embedder.transform(CONVERSATIONS)
    restored = pickle.loads(pickle.dumps(embedder))
    assert getattr(restored, "_model", None) is None
    np.testing.assert_allclose(restored.transform(CONVERSATIONS), expected, rtol=1e-5, atol=1e-6)
    kept = pickle.loads(pickle.dumps(embedder.set_params(keep_model_in_pickle=True)))
    assert kept._model is not None


def test_no_chat_template_is_a_clear_error(tiny_causal_lm_no_template):
    embedder = LMHiddenStateEmbedder(tiny_causal_lm_no_template).fit(["hi"])
    assert embedder.transform(["plain text works"]).shape == (1, 16)
    with pytest.raises(ValueError, match="no chat template"):
        embedder.transform([Conversation("hi", "hello")])


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        LMHiddenStateEmbedder(str(tmp_path / "nope")).fit(["hi"])
