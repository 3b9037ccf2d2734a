"""Command line: ``sotlearn demo | weight | select | finetune | evaluate | references``.

Every subcommand runs offline on built-in defaults; ``sotlearn <command> --help``
lists its options.
"""

import argparse
import json
import os
import sys
from pathlib import Path


def _add_weighting_options(parser):
    parser.add_argument("input", help="fine-tuning data: .jsonl, .json or .csv "
                        "(alpaca, dolly, messages, prompt/response or QA records)")
    parser.add_argument("--output", "-o", required=True, help="output .jsonl or .csv")
    parser.add_argument("--embedder", default="sentence-transformers/all-MiniLM-L6-v2",
                        help="sentence-transformers model name or local folder "
                        "(default: all-MiniLM-L6-v2 from the offline package)")
    parser.add_argument("--text", choices=("prompt", "response", "conversation"),
                        default="prompt", help="part of each row embedded (default: prompt)")
    parser.add_argument("--anchors", default="instructions",
                        help="safe-anchor preset or comma-separated components "
                        "(default: instructions; see `sotlearn references`)")
    parser.add_argument("--harmful", default="prompts",
                        help="harmful-reference preset or comma-separated components "
                        "(default: prompts)")
    parser.add_argument("--max-per-source", type=int, default=150,
                        help="rows kept per reference component (default: 150)")
    parser.add_argument("--push", type=float, default=1.0, help="push strength lambda")
    parser.add_argument("--pull", type=float, default=1.0, help="pull strength")
    parser.add_argument("--reg", type=float, default=0.05, help="entropic regularisation")
    parser.add_argument("--tau", type=float, default=0.3, help="KL-to-uniform strength")
    parser.add_argument("--seed", type=int, default=0, help="random_state")


def _components(value):
    """A preset name as it is; one or more comma-separated component names as a list."""
    from .datasets._reference_sets import HARMFUL_PRESETS, SAFE_PRESETS

    return value if value in SAFE_PRESETS or value in HARMFUL_PRESETS else value.split(",")


def _weigh(args):
    """Read the file, embed it and both reference sets, return (rows, weights, weighter)."""
    from .datasets import load_harmful_references, load_safe_anchors, read_conversations
    from .embedding import SentenceEmbedder
    from ._safety_ot_weighter import SafetyOTWeighter

    rows = read_conversations(args.input)
    anchors = load_safe_anchors(_components(args.anchors), max_per_source=args.max_per_source,
                                exclude=rows, random_state=args.seed)
    harmful = load_harmful_references(_components(args.harmful),
                                      max_per_source=args.max_per_source, exclude=rows,
                                      random_state=args.seed)
    embedder = SentenceEmbedder(args.embedder, text=args.text, verbose=True).fit(["fit"])
    weighter = SafetyOTWeighter(reg=args.reg, push=args.push, pull=args.pull, tau=args.tau,
                                random_state=args.seed)
    weighter.fit(embedder.transform(list(anchors)), embedder.transform(list(harmful)))
    return rows, weighter.score_samples(embedder.transform(rows)), weighter


def cmd_weight(args):
    from .datasets import write_weighted

    rows, weights, _ = _weigh(args)
    write_weighted(args.output, rows, weights)
    print(f"wrote {len(rows)} weighted rows to {args.output}")


def cmd_select(args):
    from ._selection import top_k_mask
    from .datasets import write_weighted

    rows, weights, _ = _weigh(args)
    keep = top_k_mask(weights, args.keep_ratio)
    write_weighted(args.output, [r for r, k in zip(rows, keep) if k], weights[keep])
    print(f"kept {int(keep.sum())} of {len(rows)} rows (keep ratio {args.keep_ratio:g}) "
          f"in {args.output}")


def cmd_finetune(args):
    import numpy as np

    from .datasets import read_conversations
    from .finetune import WeightedLMFineTuner

    rows = read_conversations(args.input)
    weights = None
    if args.weight_column:
        try:
            weights = np.array([float(r.meta["record"][args.weight_column]) for r in rows])
        except KeyError:
            sys.exit(f"error: a row of {args.input} has no {args.weight_column!r} field; "
                     "write one with `sotlearn weight` or pass --weight-column ''.")
    tuner = WeightedLMFineTuner(
        args.model, learning_rate=args.learning_rate, max_steps=args.max_steps,
        batch_size=args.batch_size, max_length=args.max_length,
        lora={"r": 8, "lora_alpha": 16} if args.lora else None,
        random_state=args.seed, verbose=True,
    )
    tuner.fit(rows, sample_weight=weights).save_pretrained(args.output)
    print(f"saved the fine-tuned model to {args.output}")


def cmd_evaluate(args):
    from .datasets import load_harmful_references, read_conversations
    from .experiment._config import DemoConfig
    from .experiment._finetune_study import JUDGE_COMPONENTS, evaluate
    from ._model_resolution import load_causal_lm
    from .finetune import WeightedLMFineTuner

    config = DemoConfig(n_judge_prompts=args.n_prompts, max_new_tokens=args.max_new_tokens,
                        max_length=args.max_length, random_state=args.seed)
    exclude = read_conversations(args.exclude) if args.exclude else None
    prompts = load_harmful_references(list(JUDGE_COMPONENTS), max_per_source=args.n_prompts,
                                      exclude=exclude, random_state=args.seed).texts("prompt")
    utility = read_conversations(args.utility)
    # a saved model is already trained: attach it to a tuner for generate/score
    # instead of training it again
    tuner = WeightedLMFineTuner(args.model, batch_size=8, max_length=args.max_length,
                                random_state=args.seed)
    tuner.model_, tuner.tokenizer_ = load_causal_lm(args.model)
    tuner.model_.eval()
    summary, responses = evaluate(tuner, prompts, utility, config)
    print(json.dumps(summary, indent=2))
    if args.output:
        Path(args.output).write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in responses) + "\n",
            encoding="utf-8")
        print(f"wrote the judged answers to {args.output}")


def cmd_references(args):
    from .datasets import describe_reference_sets

    describe_reference_sets(_components(args.safe), _components(args.harmful), verbose=True)


def cmd_demo(args):
    from .experiment import DemoConfig, run_demo

    overrides = {"random_state": args.seed}
    if args.no_finetune:
        overrides["finetune"] = False
    config = DemoConfig.quick(**overrides) if args.quick else DemoConfig(**overrides)
    report = run_demo(config, args.output, model_cache=args.model_cache)
    print(f"report written to {report}")


def build_parser():
    """The ``sotlearn`` argument parser with all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="sotlearn",
        description="Safety Optimal Transport: weight LLM fine-tuning data toward safe "
        "anchors and away from harmful references.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("demo", help="run the end-to-end experiment and write a report",
                       description="Contaminate a benign set, weigh it with SOT and every "
                       "baseline, fine-tune SmolLM2 on the purified sets, judge, report.")
    p.add_argument("--quick", action="store_true", help="small settings (a few minutes)")
    p.add_argument("--output", "-o", default="sotlearn_output",
                   help="output folder (default: sotlearn_output)")
    p.add_argument("--model-cache", default=None,
                   help="folder caching the aligned model (default: OUTPUT/models)")
    p.add_argument("--no-finetune", action="store_true", help="weighting study only")
    p.add_argument("--seed", type=int, default=0, help="random_state")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("weight", help="write one SOT weight per row of a data file",
                       description="Embed the rows and the reference sets and write the file "
                       "back with a `weight` column (mean one, higher = safer).")
    _add_weighting_options(p)
    p.set_defaults(func=cmd_weight)

    p = sub.add_parser("select", help="keep the top-K rows by SOT weight",
                       description="Weigh the rows as `weight` does and write only the "
                       "top keep-ratio share.")
    _add_weighting_options(p)
    p.add_argument("--keep-ratio", type=float, default=0.8, help="share kept (default: 0.8)")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("finetune", help="fine-tune a causal LM, optionally weighted",
                       description="Fine-tune with one loss weight per row (a column "
                       "written by `sotlearn weight`).")
    p.add_argument("input", help="training data file")
    p.add_argument("--output", "-o", required=True, help="folder of the saved model")
    p.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct",
                   help="model name or local folder")
    p.add_argument("--weight-column", default="weight",
                   help="field holding the weights; '' trains unweighted")
    p.add_argument("--max-steps", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--lora", action="store_true", help="train LoRA adapters (r=8)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("evaluate", help="harmful score and utility of a saved model",
                       description="Generate answers to held-out AdvBench/HarmBench prompts, "
                       "judge them with RefusalPrefixJudge, and score held-out NLL.")
    p.add_argument("model", help="model folder or name")
    p.add_argument("--n-prompts", type=int, default=40, help="prompts per benchmark cap")
    p.add_argument("--utility", required=True,
                   help="held-out benign data file (with answers) for the NLL")
    p.add_argument("--exclude", default=None, help="data file whose prompts are not judged")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--output", "-o", default=None, help="write judged answers (.jsonl)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("references", help="list the built-in reference sets",
                       description="Counts, sources and licences of the safe-anchor and "
                       "harmful-reference components.")
    p.add_argument("--safe", default="mixed", help="safe preset or components (default: mixed)")
    p.add_argument("--harmful", default="all", help="harmful preset or components (default: all)")
    p.set_defaults(func=cmd_references)
    return parser


def main(argv=None):
    """Entry point of the ``sotlearn`` console script."""
    # nothing is ever downloaded: models come from local folders or offline packages
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
