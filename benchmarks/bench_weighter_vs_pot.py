"""SafetyOTWeighter's solver against a plain POT dense Sinkhorn loop (issue 2, item 8).

The same push-pull mirror descent, the same synthetic problem (clustered
embeddings, d = 384, float32; m anchors in each reference set), the same
step rule and mirror-descent tolerance. "Plain POT" recomputes both cost
matrices once with ``ot.dist`` (cosine as half the squared distance of unit
rows) and calls ``ot.sinkhorn(a, b, M, reg)`` (kernel form, float32,
warm-started from the previous step's scalings) for each OT term at each step.
POT stops on the L2 marginal error (``stopThr=1e-7``); sotlearn on the change
of the potentials (``sinkhorn_tol=1e-7``, raised to float32 rounding): both
are about 1e-7 of a marginal. The last column compares the two weight
vectors (rms of the centred difference of log-weights).

    OMP_NUM_THREADS=2 python benchmarks/bench_weighter_vs_pot.py              # n = 10k, 50k
    OMP_NUM_THREADS=2 python benchmarks/bench_weighter_vs_pot.py --n 10000 --m 500
"""

import argparse
import os
import time

import numpy as np
import ot
from scipy.special import logsumexp

from bench_scaling import REG, TAU, problem
from sotlearn import safety_ot_weights


def pot_loop(X, X_safe, X_harm, scale, *, max_iter=100, tol=1e-5, learning_rate=0.5, stop_thr=1e-7,
             budget=np.inf):
    def unit(A):
        return A / np.linalg.norm(A, axis=1, keepdims=True)

    Xu = unit(X)
    terms = []
    for coef, ref in ((1.0, X_safe), (-1.0, X_harm)):
        M = ot.dist(Xu, unit(ref))
        M *= 0.5 / scale  # |x - y|^2 / 2 = 1 - cos for unit rows
        terms.append([coef, M, np.full(len(ref), 1.0 / len(ref), dtype=np.float32), None])
    n = len(X)
    log_w, last_residual, inner = np.full(n, -np.log(n)), np.inf, 0
    start = time.perf_counter()
    for step in range(1, max_iter + 1):
        if time.perf_counter() - start > budget:
            return n * np.exp(log_w), step - 1, inner, False
        grad = np.zeros(n)
        a = np.exp(log_w).astype(np.float32)
        for term in terms:
            coef, M, b, warm = term
            _, log = ot.sinkhorn(a, b, M, REG, log=True, stopThr=stop_thr, warmstart=warm, warn=False)
            log_u, log_v = np.log(log["u"]), np.log(log["v"])
            term[3] = (log_u, log_v)
            inner += log["niter"]
            grad += coef * REG * (log_u.astype(np.float64) - log_w)
        target = -grad / TAU
        target -= logsumexp(target)
        new = (1 - learning_rate) * log_w + learning_rate * target
        new -= logsumexp(new)
        # the same stopping rule as sotlearn: L1 fixed-point residual, step halved when it grows
        residual = float(np.abs(np.exp(target) - np.exp(log_w)).sum())
        if residual > last_residual:
            learning_rate *= 0.5
        log_w, last_residual = new, residual
        if residual < tol:
            break
    return n * np.exp(log_w), step, inner, True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--m", type=int, default=2000)
    parser.add_argument("--pot-budget", type=float, default=900.0,
                        help="seconds after which the POT loop is stopped; its time is then a lower bound")
    args = parser.parse_args()
    print(f"# {os.cpu_count()} CPU cores, shared with other users (+-30% run to run); "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; d=384, m={args.m} per reference set, "
          f"tau={TAU}, reg={REG}; sotlearn: method='sampled', n_subsample=20000, n_jobs=2")
    print(f"{'n':>7} | {'sotlearn (s)':>12} | {'steps/inner':>11} | {'POT loop (s)':>12} | "
          f"{'steps/inner':>11} | {'POT / sotlearn':>14} | {'rms log w':>9}")
    for n in args.n:
        X, X_safe, X_harm, scale = problem(n, args.m)
        t = time.perf_counter()
        w, info = safety_ot_weights(X, X_safe, X_harm, reg=REG, tau=TAU, cost_scale=scale,
                                    method="sampled", n_jobs=2, random_state=0)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        w_pot, steps, inner, finished = pot_loop(X, X_safe, X_harm, scale, budget=args.pot_budget)
        t_pot = time.perf_counter() - t
        e = np.log(w) - np.log(w_pot)
        # an unfinished POT loop gives a lower bound on its time and on the ratio
        bound = "" if finished else ">="
        rms = f"{np.sqrt(np.mean((e - e.mean()) ** 2)):.4f}" if finished else "n/a"
        print(f"{n:>7} | {t_ours:>12.1f} | {info['n_iter']:>4}/{info['sinkhorn_iter']:<6} | "
              f"{bound + format(t_pot, '.1f'):>12} | {steps:>4}/{inner:<6} | "
              f"{bound + format(t_pot / t_ours, '.1f'):>14} | {rms:>9}", flush=True)


if __name__ == "__main__":
    main()
