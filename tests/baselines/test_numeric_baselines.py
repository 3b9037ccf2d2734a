"""Behaviour of the embedding-input baselines: planted structure, contracts, errors."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier

from sotlearn.baselines import (
    BidirectionalAnchorWeighter,
    ProbeWeighter,
    RandomWeighter,
    RepresentationMatchingWeighter,
)
from sotlearn.metrics import harmful_recall_at_keep, weight_auroc

INFORMED = [
    RepresentationMatchingWeighter(),
    RepresentationMatchingWeighter(n_neighbors=None),
    BidirectionalAnchorWeighter(),
    BidirectionalAnchorWeighter(n_neighbors=3),
    ProbeWeighter(),
    ProbeWeighter(estimator=RandomForestClassifier(n_estimators=20, random_state=0)),
]
ALL = INFORMED + [RandomWeighter(random_state=0)]


def _clusters(random_state=0, d=8):
    """Safe anchor around e0, harmful reference around e1; downstream: 40 safe-like, 10 harmful-like."""
    rng = np.random.RandomState(random_state)
    safe_centre, harm_centre = np.eye(d)[0] * 3, np.eye(d)[1] * 3
    X_safe = safe_centre + rng.normal(0, 0.5, (30, d))
    X_harm = harm_centre + rng.normal(0, 0.5, (30, d))
    X = np.vstack([safe_centre + rng.normal(0, 0.5, (40, d)), harm_centre + rng.normal(0, 0.5, (10, d))])
    is_harmful = np.r_[np.zeros(40, bool), np.ones(10, bool)]
    return X_safe, X_harm, X, is_harmful


@pytest.mark.parametrize("weighter", INFORMED, ids=repr)
def test_planted_harmful_rows_get_the_lowest_weights(weighter):
    X_safe, X_harm, X, is_harmful = _clusters()
    w = clone(weighter).fit(X_safe, X_harm).score_samples(X)
    assert w.shape == (50,)
    assert_allclose(w.mean(), 1.0)
    assert np.all(w >= 0)
    assert weight_auroc(w, is_harmful) == 1.0
    assert harmful_recall_at_keep(w, is_harmful, keep_ratio=0.8) == 0.0


def test_random_weighter_is_uninformative_on_average():
    X_safe, X_harm, X, is_harmful = _clusters()
    recalls = [
        harmful_recall_at_keep(RandomWeighter(random_state=s).fit(X_safe, X_harm).score_samples(X), is_harmful, 0.6)
        for s in range(200)
    ]
    # mean of 200 hypergeometric draws (30 of 50 kept, 10 harmful): sd of the mean ~0.009
    assert abs(np.mean(recalls) - 0.6) < 0.04


def test_random_weighter_is_reproducible_and_seed_dependent():
    X_safe, X_harm, X, _ = _clusters()
    w0 = RandomWeighter(random_state=0).fit(X_safe, X_harm).score_samples(X)
    assert_array_equal(w0, RandomWeighter(random_state=0).fit(X_safe, X_harm).score_samples(X))
    assert not np.allclose(w0, RandomWeighter(random_state=1).fit(X_safe, X_harm).score_samples(X))


@pytest.mark.parametrize("weighter", INFORMED, ids=repr)
def test_weights_are_permutation_equivariant(weighter):
    X_safe, X_harm, X, _ = _clusters()
    perm = np.random.RandomState(1).permutation(X.shape[0])
    fitted = clone(weighter).fit(X_safe, X_harm)
    assert_allclose(fitted.score_samples(X[perm]), fitted.score_samples(X)[perm], rtol=1e-10)


@pytest.mark.parametrize("weighter", INFORMED, ids=repr)
def test_reference_order_does_not_matter(weighter):
    X_safe, X_harm, X, _ = _clusters()
    rng = np.random.RandomState(2)
    w = clone(weighter).fit(X_safe, X_harm).score_samples(X)
    w_perm = clone(weighter).fit(X_safe[rng.permutation(30)], X_harm[rng.permutation(30)]).score_samples(X)
    # a forest bootstraps rows by position, so its fit is only order-invariant in law
    if isinstance(getattr(weighter, "estimator", None), RandomForestClassifier):
        assert weight_auroc(w_perm, np.r_[np.zeros(40, bool), np.ones(10, bool)]) == 1.0
    else:
        assert_allclose(w_perm, w, rtol=1e-6)


@pytest.mark.parametrize("weighter", ALL, ids=repr)
def test_contract_with_valid_roles(weighter):
    """What the role-label estimator checks would test, with y in {-1, 0, 1}."""
    X_safe, X_harm, X, _ = _clusters()
    X_all = np.vstack([X_safe, X_harm, X])
    y = np.r_[np.zeros(30), np.ones(30), -np.ones(50)].astype(int)
    est = clone(weighter)
    params = est.get_params()
    assert est.fit(X_all, y) is est
    assert est.get_params() == params
    assert est.n_features_in_ == 8
    # the labelled form and the two-matrix form fit the same references
    assert_allclose(est.score_samples(X), clone(weighter).fit(X_safe, X_harm).score_samples(X))
    for dtype in (np.float32, np.float64):
        assert clone(weighter).fit(X_all.astype(dtype), y).transform(X.astype(dtype)).dtype == dtype
    assert est.transform(X).shape == (50, 1)
    assert est.get_feature_names_out().tolist() == ["weight"]
    assert est.select(X, keep_ratio=0.5).sum() == 25
    restored = pickle.loads(pickle.dumps(est))
    assert_allclose(restored.score_samples(X), est.score_samples(X))
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :3])
    with pytest.raises(ValueError, match="2D array"):
        est.score_samples(X[0])


@pytest.mark.parametrize("weighter", ALL, ids=repr)
def test_clear_errors(weighter):
    X_safe, X_harm, _, _ = _clusters()
    with pytest.raises(ValueError, match="reference sets"):
        clone(weighter).fit(X_safe)
    with pytest.raises(ValueError, match="unexpected labels"):
        clone(weighter).fit(X_safe, np.arange(30))
    with pytest.raises(ValueError, match="same space"):
        clone(weighter).fit(X_safe, X_harm[:, :5])
    with pytest.raises(ValueError, match="keep_ratio"):
        clone(weighter).set_params(keep_ratio=1.5).fit(X_safe, X_harm)


def test_representation_matching_exact_scores():
    # cosine similarities of x = (1, 0) to the harmful rows: 1, 0, -1 -> top-2 mean 0.5, mean 0
    X_safe = np.array([[1.0, 1.0], [2.0, 1.0]])
    X_harm = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    for k, scores in ((1, [1.0, 1.0]), (2, [0.5, 0.5]), (None, [0.0, 1 / 3])):
        w = RepresentationMatchingWeighter(n_neighbors=k, temperature=0.5).fit(X_safe, X_harm).score_samples(X)
        expected = np.exp(-np.asarray(scores) / 0.5)
        assert_allclose(w, 2 * expected / expected.sum())


def test_bidirectional_anchor_rewards_safe_similarity_that_matching_ignores():
    # both rows are equally close to the harmful reference; only the second is close to the safe anchor
    X_safe = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])
    X_harm = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    X = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    rm = RepresentationMatchingWeighter(n_neighbors=None).fit(X_safe, X_harm).score_samples(X)
    ba = BidirectionalAnchorWeighter(temperature=0.5).fit(X_safe, X_harm).score_samples(X)
    assert_allclose(rm, [1.0, 1.0])
    # scores cos(x, H) - cos(x, S): 0.707 - 0 and 0.707 - 0.707
    expected = np.exp(-np.array([2**-0.5, 0.0]) / 0.5)
    assert_allclose(ba, 2 * expected / expected.sum())


def test_probe_weighter_uses_the_predicted_safe_probability():
    X_safe, X_harm, X, _ = _clusters()
    est = ProbeWeighter().fit(X_safe, X_harm)
    p_safe = est.estimator_.predict_proba(X)[:, list(est.estimator_.classes_).index(1)]
    assert_allclose(est.score_samples(X), p_safe / p_safe.mean())


def test_probe_weighter_rejects_an_estimator_without_predict_proba():
    from sklearn.svm import LinearSVC

    X_safe, X_harm, _, _ = _clusters()
    with pytest.raises(ValueError, match="predict_proba"):
        ProbeWeighter(estimator=LinearSVC()).fit(X_safe, X_harm)


def test_probe_weighter_stays_finite_when_everything_looks_harmful():
    X_safe, X_harm, _, _ = _clusters()
    est = ProbeWeighter().fit(X_safe, X_harm)
    far_harmful = np.tile(np.eye(8)[1] * 1e4, (5, 1))
    assert_allclose(est.score_samples(far_harmful), np.ones(5))
