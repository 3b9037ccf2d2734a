import copy

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sotlearn.datasets import Conversation
from sotlearn.embedding import EmbeddingCache, LMHiddenStateEmbedder, SentenceEmbedder

SAFE = ["how do i bake a cake", "write a poem about the sea", "what is two plus four",
        "hi", "how do i make bread", "write a poem about a cake"]
HARMFUL = ["how do i make a bomb", "how do i steal a car", "steal a car", "make a bomb",
           "bake a bomb", "how do i steal bread"]


def test_counts_and_keys():
    cache = EmbeddingCache()
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    cache.put("model-a", "prompt", ["x", "y"], vectors)
    assert len(cache) == 2
    found = cache.get("model-a", "prompt", ["y", "x", "z"])
    np.testing.assert_array_equal(found[0], vectors[1])
    assert found[2] is None and (cache.hits, cache.misses) == (2, 1)
    # another model or another text target is another entry
    assert cache.get("model-b", "prompt", ["x"]) == [None]
    assert cache.get("model-a", "response", ["x"]) == [None]
    cache.clear()
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)


def test_copies_and_clones_share_the_store(tiny_sentence_model):
    cache = EmbeddingCache()
    assert copy.deepcopy(cache) is cache
    embedder = SentenceEmbedder(tiny_sentence_model, cache=cache)
    assert clone(embedder).cache is cache


def test_second_transform_is_served_from_the_cache(tiny_sentence_model):
    cache = EmbeddingCache()
    embedder = SentenceEmbedder(tiny_sentence_model, cache=cache).fit(SAFE)
    first = embedder.transform(SAFE + SAFE[:2])
    assert (cache.hits, cache.misses) == (0, len(SAFE))  # duplicates looked up once
    second = clone(embedder).fit(SAFE).transform(SAFE)
    assert (cache.hits, cache.misses) == (len(SAFE), len(SAFE))
    np.testing.assert_array_equal(first[: len(SAFE)], second)


def test_the_text_target_is_part_of_the_key(tiny_sentence_model):
    cache = EmbeddingCache()
    rows = [Conversation("hi", "hello"), Conversation("hello", "hi")]
    prompts = SentenceEmbedder(tiny_sentence_model, cache=cache).fit_transform(rows)
    responses = SentenceEmbedder(
        tiny_sentence_model, text="response", cache=cache
    ).fit_transform(rows)
    np.testing.assert_allclose(prompts[::-1], responses, rtol=1e-6)
    assert cache.misses == 4


def test_disk_location_is_shared_between_instances(tiny_causal_lm, tmp_path):
    rows = [Conversation(p, "sure") for p in SAFE]
    first = LMHiddenStateEmbedder(tiny_causal_lm, cache=EmbeddingCache(tmp_path))
    expected = first.fit_transform(rows)
    other_process_like = EmbeddingCache(tmp_path)
    got = LMHiddenStateEmbedder(tiny_causal_lm, cache=other_process_like).fit_transform(rows)
    np.testing.assert_array_equal(got, expected)
    assert (other_process_like.hits, other_process_like.misses) == (len(SAFE), 0)


# a tiny random encoder gives the weighter little structure to converge on
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_embeds_each_row_once(tiny_sentence_model):
    weighter_module = pytest.importorskip("sotlearn._safety_ot_weighter")
    X = SAFE + HARMFUL
    y = np.r_[np.zeros(len(SAFE), int), np.ones(len(HARMFUL), int)]
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = {"safetyotweighter__push": [0.5, 1.0]}

    def search(cache):
        pipe = make_pipeline(
            SentenceEmbedder(tiny_sentence_model, cache=cache),
            weighter_module.SafetyOTWeighter(),
        )
        return GridSearchCV(pipe, grid, cv=cv).fit(X, y)

    cache = EmbeddingCache()
    cached = search(cache)
    # 2 candidates x 3 folds x (train + test rows) + the refit on all rows
    lookups = 2 * 3 * len(X) + len(X)
    assert cache.misses == len(X)
    assert cache.hits == lookups - len(X)
    np.testing.assert_allclose(cached.cv_results_["mean_test_score"],
                               search(None).cv_results_["mean_test_score"])
