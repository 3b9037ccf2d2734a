"""A map over row chunks on joblib, hence on any joblib backend (threads,
processes, or a Dask cluster through ``joblib.parallel_config("dask")``)."""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits


class RowChunkMap:
    """Apply ``func`` to consecutive row chunks of ``X`` in parallel and stack the results.

    The chunks are fixed by ``chunk_size`` alone, so the result does not
    depend on ``n_jobs`` or on the joblib backend. Inside
    ``joblib.parallel_config(backend="dask")`` (with a ``distributed.Client``
    open) the chunks run on the Dask cluster; the same map serves the
    embedding step (``func=embedder.transform`` over a list of texts) and
    the scoring step.

    Parameters
    ----------
    func : callable
        Maps a chunk (rows ``X[start:stop]``, an array or a list) to an array
        whose first axis has one entry per row.
    chunk_size : int, default=4096
        Rows per chunk.
    n_jobs : int or None, default=None
        joblib's ``n_jobs``; ``None`` follows ``joblib.parallel_config``
        (sequential outside it).
    prefer : {"threads", "processes"}, default="threads"
        joblib's backend hint when no backend is configured. Threads suit
        numpy and torch work, which releases the GIL and shares ``X``
        without copies.

    Examples
    --------
    >>> import numpy as np
    >>> from sotlearn._parallel import RowChunkMap
    >>> RowChunkMap(lambda rows: np.asarray(rows).sum(axis=1), chunk_size=2, n_jobs=2)(np.ones((5, 3)))
    array([3., 3., 3., 3., 3.])
    """

    def __init__(self, func, *, chunk_size=4096, n_jobs=None, prefer="threads"):
        if not isinstance(chunk_size, Integral) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
        self.func, self.chunk_size, self.n_jobs, self.prefer = func, chunk_size, n_jobs, prefer

    def __call__(self, X):
        n = len(X)
        chunks = [X[start : start + self.chunk_size] for start in range(0, n, self.chunk_size)]
        if len(chunks) <= 1 or self.n_jobs == 1:
            results = [self.func(chunk) for chunk in chunks]
        else:
            # Each worker's GEMM would otherwise start its own BLAS threads on
            # the same cores (oversubscription). Process and Dask workers set
            # their own limits; this one covers in-process threads.
            with threadpool_limits(limits=1, user_api="blas"):
                results = Parallel(n_jobs=self.n_jobs, prefer=self.prefer)(
                    delayed(self.func)(chunk) for chunk in chunks
                )
        if not results:
            return np.empty(0)
        return np.concatenate(results)
