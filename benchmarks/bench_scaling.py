"""Scaling table of SafetyOTWeighter's large-n path (issue 6).

For each n: synthetic clustered embeddings (d = 384, float32), a safe anchor
and a harmful reference of m rows each, weights by ``method="sampled"``
(row subsample solve + chunked c-transform over all rows). Each n runs in its
own process so the peak memory (max RSS, embeddings included) is its own.

The floor, measured in the same process: per Sinkhorn iteration of the
push-pull problem, two OT terms each needing one n x m x d cost GEMM and
2 n m float32 exponentials (timed on up to 20k rows after the solve, scaled linearly in n).
Plain POT dense Sinkhorn is timed where its cost matrices fit (n = 10k here;
see bench_weighter_vs_pot.py for n = 50k).

    OMP_NUM_THREADS=2 python benchmarks/bench_scaling.py            # 10k, 100k, 1M
    OMP_NUM_THREADS=2 python benchmarks/bench_scaling.py --n 10000  # one size
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from sotlearn import safety_ot_weights
from sotlearn._cost import reference_cost_scale

D, TAU, REG = 384, 1.0, 0.05


def synthetic(n, rng, centres, lo, hi, chunk=100_000):
    """Rows around topic centres lo..hi-1, drawn in chunks so that no float64 copy exists."""
    out = np.empty((n, centres.shape[1]), np.float32)
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        out[start : start + k] = centres[rng.integers(lo, hi, size=k)] + rng.standard_normal((k, D), dtype=np.float32)
    return out


def problem(n, m, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, D)).astype(np.float32)
    X_safe, X_harm = synthetic(m, rng, centres, 0, 30), synthetic(m, rng, centres, 20, 50)
    X = synthetic(n, rng, centres, 0, 50)
    scale = reference_cost_scale(np.vstack([X_safe, X_harm]).astype(np.float64), "cosine", np.random.RandomState(0))
    return X, X_safe, X_harm, scale


def floor_per_iteration(X, Y, block=20_000):
    """Seconds of 2 x (GEMM n x m x d + 2 n m float32 exp), measured on a block, scaled to n."""
    B = X[:block]
    t = time.perf_counter()
    Z = B @ Y.T
    t_gemm = time.perf_counter() - t
    t = time.perf_counter()
    np.exp(Z, out=Z)
    np.exp(Z * -1e-3, out=Z)
    t_exp = time.perf_counter() - t
    return 2 * (t_gemm + t_exp) * len(X) / len(B)


def one(n, m, n_subsample, n_jobs):
    X, X_safe, X_harm, scale = problem(n, m)
    t = time.perf_counter()
    w, info = safety_ot_weights(
        X, X_safe, X_harm, reg=REG, tau=TAU, cost_scale=scale, method="sampled",
        n_subsample=n_subsample, n_jobs=n_jobs, random_state=0,
    )
    seconds = time.perf_counter() - t
    assert np.all(np.isfinite(w))
    # Peak read before the floor's own buffers exist.
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return {
        "n": n, "m": m, "seconds": seconds, "peak_gb": peak_gb, "floor_s": floor_per_iteration(X, X_safe), "n_iter": info["n_iter"], "converged": info["converged"],
        "sinkhorn_iter": info["sinkhorn_iter"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--m", type=int, default=5000)
    parser.add_argument("--n-subsample", type=int, default=20_000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.n[0], args.m, args.n_subsample, args.n_jobs)))
        return
    print(f"# {os.cpu_count()} CPU cores, shared with other users (+-30% run to run); "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; d={D}, m={args.m} rows per reference set, "
          f"tau={TAU}, reg={REG}, n_subsample={args.n_subsample}, n_jobs={args.n_jobs}")
    print(f"{'n':>9} | {'time (s)':>8} | {'peak (GB)':>9} | {'floor/iter (s)':>14} | "
          f"{'time / floor-iter':>17} | {'MD steps':>8} | {'Sinkhorn it.':>12}")
    for n in args.n:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--n", str(n), "--m", str(args.m),
             "--n-subsample", str(args.n_subsample), "--n-jobs", str(args.n_jobs)],
            check=True, capture_output=True, text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{r['n']:>9} | {r['seconds']:>8.1f} | {r['peak_gb']:>9.2f} | {r['floor_s']:>14.2f} | "
              f"{r['seconds'] / r['floor_s']:>17.2f} | {r['n_iter']:>8} | {r['sinkhorn_iter']:>12}", flush=True)


if __name__ == "__main__":
    main()
