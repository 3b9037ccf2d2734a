"""DSIRWeighter on raw text: exact log-ratios, planted vocabulary, the estimator contract by hand."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone

from sotlearn.baselines import DSIRWeighter
from sotlearn.metrics import harmful_recall_at_keep, weight_auroc

SAFE = [
    "how do I bake sourdough bread at home",
    "give me a recipe for a chocolate cake",
    "what is a good way to water tomato plants",
    "suggest a weekend hiking trip near the lake",
]
HARM = [
    "how do I build a pipe bomb at home",
    "give me steps to make a nerve agent weapon",
    "how can I poison my neighbour without being caught",
    "write malware that steals bank passwords",
]


def test_log_ratio_matches_a_hand_count():
    # one bucket per token with unigrams only: the hashes of 'a' and 'b' differ in 2**20 buckets
    est = DSIRWeighter(n_buckets=2**20, ngram_range=(1, 1), alpha=1.0, temperature=1.0)
    est.fit(["a a", "a b"], ["b b", "b"])
    vec = est._vectorizer()
    a, b = vec.transform(["a"]).indices[0], vec.transform(["b"]).indices[0]
    total = 2**20
    # safe counts a:3 b:1, harmful a:0 b:3, each plus alpha=1 over every bucket
    log_p_safe = np.log([4, 2]) - np.log(4 + total)
    log_p_harm = np.log([1, 4]) - np.log(3 + total)
    assert_allclose(est.log_ratio_[[a, b]], log_p_safe - log_p_harm)
    # s("a b a") = 2 * r_a + r_b; weights = n * softmax(s / temperature)
    s = np.array([2 * est.log_ratio_[a] + est.log_ratio_[b], est.log_ratio_[b]])
    expected = np.exp(s - s.max())
    assert_allclose(est.score_samples(["a b a", "B"]), 2 * expected / expected.sum())


def test_planted_harmful_vocabulary_is_down_weighted():
    downstream = [
        "bake a loaf of bread for the weekend",
        "water the tomato plants every morning",
        "a recipe for chocolate cake with berries",
        "a hiking trip to the lake",
        "how do I build a bomb at home",
        "steps to poison a neighbour",
    ]
    is_harmful = np.r_[np.zeros(4, bool), np.ones(2, bool)]
    w = DSIRWeighter().fit(SAFE, HARM).score_samples(downstream)
    assert_allclose(w.mean(), 1.0)
    assert weight_auroc(w, is_harmful) == 1.0
    assert harmful_recall_at_keep(w, is_harmful, keep_ratio=4 / 6) == 0.0


def test_two_list_and_labelled_forms_agree_and_unlabelled_rows_are_ignored():
    texts = SAFE + HARM + ["an unlabelled downstream row about bombs"]
    y = [0] * 4 + [1] * 4 + [-1]
    a = DSIRWeighter().fit(SAFE, HARM)
    b = DSIRWeighter().fit(texts, np.array(y))
    assert_allclose(a.log_ratio_, b.log_ratio_)


def test_temperature_flattens_without_reordering():
    est = DSIRWeighter(temperature=1.0).fit(SAFE, HARM)
    texts = ["bread and cake", "a bomb and poison", "hiking near the lake"]
    sharp = est.score_samples(texts)
    flat = est.set_params(temperature=10.0).score_samples(texts)
    assert np.array_equal(np.argsort(sharp), np.argsort(flat))
    assert flat.max() < sharp.max()


def test_text_estimator_contract():
    est = DSIRWeighter(n_buckets=512)
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(alpha=0.5) is est and est.alpha == 0.5
    assert est.fit(SAFE, HARM) is est
    restored = pickle.loads(pickle.dumps(est))
    assert_allclose(restored.score_samples(SAFE), est.score_samples(SAFE))
    assert est.transform(SAFE).shape == (4, 1)
    assert est.select(SAFE + HARM, keep_ratio=0.5).tolist() == [True] * 4 + [False] * 4
    assert est.score(SAFE + HARM, [0] * 4 + [1] * 4) == 1.0
    tags = est.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    with pytest.raises(Exception, match="not fitted"):
        DSIRWeighter().score_samples(SAFE)


def test_clear_errors():
    with pytest.raises(ValueError, match="reference texts"):
        DSIRWeighter().fit(SAFE)
    with pytest.raises(TypeError, match="single string"):
        DSIRWeighter().fit("one text", HARM)
    with pytest.raises(TypeError, match="raw text"):
        DSIRWeighter().fit(np.zeros((4, 3)), HARM)
    with pytest.raises(ValueError, match="unexpected labels"):
        DSIRWeighter().fit(SAFE + HARM, [0] * 4 + [2] * 4)
    with pytest.raises(ValueError, match="8 numeric labels"):
        DSIRWeighter().fit(SAFE + HARM, [0, 1])
    with pytest.raises(ValueError, match="at least 2"):
        DSIRWeighter().fit(SAFE[:1], HARM)
    with pytest.raises(ValueError, match="ngram_range"):
        DSIRWeighter(ngram_range=(2, 1)).fit(SAFE, HARM)
    with pytest.raises(ValueError, match="n_buckets"):
        DSIRWeighter(n_buckets=0).fit(SAFE, HARM)
    with pytest.raises(ValueError, match="empty"):
        DSIRWeighter().fit(SAFE, HARM).score_samples([])


def test_auto_temperature_keeps_the_order_of_long_texts():
    # 30 texts of growing length: log-ratios spread over more than 745 nats (exp underflows)
    texts = [" ".join(["bread cake"] * k + ["bomb poison"] * (30 - k)) * 12 for k in range(30)]
    est = DSIRWeighter().fit(SAFE, HARM)
    log_importance = est._vectorizer().transform(texts) @ est.log_ratio_
    assert np.ptp(log_importance) > 800
    auto = est.score_samples(texts)
    assert np.all(auto > 0)
    assert np.array_equal(np.argsort(auto), np.argsort(log_importance))
    assert_allclose(np.log(auto[1:] / auto[:-1]), np.diff(log_importance) / np.std(log_importance))
    # DSIR's own weights (temperature 1) underflow to exact zeros: the order is lost
    assert np.sum(est.set_params(temperature=1.0).score_samples(texts) == 0) >= 5
