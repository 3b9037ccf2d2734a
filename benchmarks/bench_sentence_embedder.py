"""Throughput of SentenceEmbedder against plain SentenceTransformer.encode.

Same model, same texts, same batch size; the target is a ratio within 10%:
the scikit-learn wrapper (input conversion, de-duplication, lazy loading)
must cost next to nothing compared to the forward passes.

Run: ``python benchmarks/bench_sentence_embedder.py [--n-texts 512] [--repeats 3]``.
"""

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from sotlearn._model_resolution import DEFAULT_SENTENCE_MODEL, resolve_sentence_model  # noqa: E402
from sotlearn.datasets import make_contaminated_dataset  # noqa: E402
from sotlearn.embedding import SentenceEmbedder  # noqa: E402


def _best_times(repeats, runs):
    # interleaved, so that load from other processes hits every method alike
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default=DEFAULT_SENTENCE_MODEL)
    args = parser.parse_args()

    conversations = make_contaminated_dataset(
        args.n_texts, harmful_ratio=0.1, max_per_source=1, random_state=0
    ).conversations
    texts = [c.text("prompt") for c in conversations]
    model = SentenceTransformer(resolve_sentence_model(args.model), device="cpu")
    embedder = SentenceEmbedder(args.model, batch_size=args.batch_size).fit(texts[:1])

    # one warm-up each, so that neither side pays first-call costs
    model.encode(texts[:64], batch_size=args.batch_size)
    embedder.transform(conversations[:64])
    best = _best_times(args.repeats, {
        "SentenceTransformer.encode(list of str)":
            lambda: model.encode(texts, batch_size=args.batch_size),
        "SentenceEmbedder.transform(list of str)": lambda: embedder.transform(texts),
        "SentenceEmbedder.transform(Conversations)": lambda: embedder.transform(conversations),
    })
    plain = best["SentenceTransformer.encode(list of str)"]
    assert np.allclose(embedder.transform(texts[:8]), model.encode(texts[:8]), atol=1e-5)

    print(f"model={args.model} n_texts={len(texts)} batch_size={args.batch_size} "
          f"threads={os.environ.get('OMP_NUM_THREADS', 'default')} best of {args.repeats}")
    print(f"{'method':<42}{'seconds':>9}{'texts/s':>10}{'ratio':>8}")
    for name, seconds in best.items():
        print(f"{name:<42}{seconds:>9.2f}{len(texts) / seconds:>10.1f}{seconds / plain:>8.2f}")


if __name__ == "__main__":
    main()
