"""The row map on joblib and on a Dask cluster (loopback, in-process workers)."""

import joblib
import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from sotlearn import SafetyOTWeighter
from sotlearn._parallel import RowChunkMap


def _embed(texts):
    """A stand-in embedder: deterministic, stateless, works on a list chunk."""
    return HashingVectorizer(n_features=32, alternate_sign=False).transform(texts).toarray()


def test_row_map_on_lists_and_arrays():
    texts = [f"row {i} says {'hello' if i % 2 else 'bye'}" for i in range(23)]
    expected = _embed(texts)
    for chunk_size, n_jobs in ((1, None), (5, 2), (100, 2)):
        np.testing.assert_array_equal(RowChunkMap(_embed, chunk_size=chunk_size, n_jobs=n_jobs)(texts), expected)
    assert RowChunkMap(_embed)([]).shape == (0,)


@pytest.mark.parametrize("chunk_size", [0, 2.5, None])
def test_row_map_rejects_bad_chunk_size(chunk_size):
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        RowChunkMap(_embed, chunk_size=chunk_size)


def test_dask_local_cluster_gives_in_process_weights():
    distributed = pytest.importorskip("distributed")
    rng = np.random.RandomState(0)
    centres = rng.randn(4, 8)
    X_safe = centres[rng.randint(0, 3, 100)] + 0.5 * rng.randn(100, 8)
    X_harm = centres[rng.randint(1, 4, 100)] + 0.5 * rng.randn(100, 8)
    X = centres[rng.randint(0, 4, 600)] + 0.5 * rng.randn(600, 8)
    texts = [f"document {i}" for i in range(50)]
    est = SafetyOTWeighter(method="sampled", n_subsample=200, chunk_size=64, tau=1.0, random_state=0)
    est.fit(X_safe, X_harm)
    w_local = est.score_samples(X)
    with distributed.LocalCluster(
        host="127.0.0.1", protocol="tcp://", n_workers=2, threads_per_worker=1, processes=False,
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            w_dask = est.set_params(n_jobs=2).score_samples(X)
            embedded = RowChunkMap(_embed, chunk_size=16, n_jobs=2)(texts)
    np.testing.assert_array_equal(w_dask, w_local)
    np.testing.assert_array_equal(embedded, _embed(texts))
