"""The one-command demo: contaminate, weigh with every method, fine-tune, judge, report."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from .._selection import top_k_mask
from ..datasets import make_contaminated_dataset
from ..embedding import EmbeddingCache
from ._config import DemoConfig
from ._finetune_study import (
    align_model,
    evaluate,
    fine_tune,
    held_out_sets,
    paired_difference,
)
from ._plots import regenerate_figures
from ._report import write_report
from ._weighting_study import (
    SOT,
    embed_study_data,
    keep_ratio_curve,
    push_sweep,
    summarise,
    weigh_all,
)

DEFAULT_OUTPUT = "sotlearn_output"


def _as_components(value):
    return value if isinstance(value, str) else list(value)


def _projection(views, weights, y, random_state):
    stacked = np.vstack([views["X"], views["S"], views["H"]])
    xy = PCA(n_components=2, random_state=random_state).fit_transform(stacked)
    n, m = len(views["X"]), len(views["S"])
    sets = ["downstream"] * n + ["safe_anchor"] * m + ["harmful_reference"] * len(views["H"])
    return pd.DataFrame({
        "x": xy[:, 0], "y": xy[:, 1], "set": sets,
        "harmful": np.r_[y, np.zeros(m, int), np.ones(len(views["H"]), int)],
        "weight": np.r_[weights, np.full(len(stacked) - n, np.nan)],
    })


def load_demo_data(config):
    """The contaminated set and both reference sets the demo weighs.

    Parameters
    ----------
    config : DemoConfig
        Gives the sizes, the reference presets and the seed.

    Returns
    -------
    Bunch
        See :func:`sotlearn.datasets.make_contaminated_dataset`.
    """
    return make_contaminated_dataset(
        config.n_samples, harmful_ratio=config.harmful_ratio,
        anchors=_as_components(config.anchors),
        harmful_reference=_as_components(config.harmful_reference),
        max_per_source=config.max_per_source, random_state=config.random_state,
    )


def strongest_baseline(table):
    """The non-random baseline with the lowest harmful recall (ties: higher AUROC)."""
    others = table[~table["method"].isin([SOT, "random"])]
    return others.iloc[0]["method"]


def run_demo(config=None, output_dir=DEFAULT_OUTPUT, *, model_cache=None, verbose=True):
    """Run the end-to-end experiment and write CSVs, figures and ``report.md``.

    Parameters
    ----------
    config : DemoConfig or None, default=None
        Settings; ``None`` is the full demo, ``DemoConfig.quick()`` the quick one.
    output_dir : str or path-like, default="sotlearn_output"
        Folder for every output; created if missing.
    model_cache : str, path-like or None, default=None
        Where the aligned model is cached; ``None`` is ``output_dir/models``.
    verbose : bool, default=True
        Print stage progress and show progress bars.

    Returns
    -------
    pathlib.Path
        The report.

    Examples
    --------
    >>> from sotlearn.experiment import DemoConfig, run_demo
    >>> run_demo(DemoConfig.quick(), "sotlearn_output")  # doctest: +SKIP
    """
    config = DemoConfig() if config is None else config
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    timings = {}

    def stage(name):
        timings[name] = time.perf_counter()
        if verbose:
            print(f"[sotlearn demo] {name}", flush=True)

    def done(name):
        timings[name] = time.perf_counter() - timings[name]

    stage("data")
    data = load_demo_data(config)
    y = np.asarray(data.y)
    done("data")

    stage("embedding")
    views = embed_study_data(data, config, cache=EmbeddingCache())
    done("embedding")

    stage("weighting")
    weights, seconds = weigh_all(views, config, verbose=verbose)
    table = summarise(weights, y, config, seconds=seconds)
    table.to_csv(output_dir / "weighting_results.csv", index=False)
    pd.DataFrame({"row": np.arange(len(y)), "source": data.source, "harmful": y,
                  **weights}).to_csv(output_dir / "weights.csv", index=False)
    keep_ratio_curve(weights, y, config.keep_ratios).to_csv(
        output_dir / "keep_ratio_curve.csv", index=False)
    push_sweep(views, y, config, verbose=verbose).to_csv(output_dir / "push_sweep.csv",
                                                         index=False)
    _projection(views, weights[SOT], y, config.random_state).to_csv(
        output_dir / "projection.csv", index=False)
    done("weighting")

    if config.finetune:
        stage("fine-tuning")
        _run_finetunes(data, weights, table, config, output_dir,
                       Path(model_cache) if model_cache else output_dir / "models", verbose)
        done("fine-tuning")

    stage("report")
    regenerate_figures(output_dir)
    done("report")
    return write_report(output_dir, config, timings)


def _run_finetunes(data, weights, table, config, output_dir, model_cache, verbose):
    sets = held_out_sets(data, config)
    aligned, summary, responses = align_model(sets, config, model_cache, verbose=verbose)
    results = [{"arm": "aligned (no fine-tune)", "n_train": 0, **summary}]
    answers = [{"arm": results[0]["arm"], **r} for r in responses]
    n = len(data.conversations)
    arms = {"unfiltered": np.ones(n, dtype=bool),
            SOT: top_k_mask(weights[SOT], config.keep_ratio)}
    if config.finetune_baseline:
        best = strongest_baseline(table)
        arms[best] = top_k_mask(weights[best], config.keep_ratio)
    for arm, keep in arms.items():
        if verbose:
            print(f"[sotlearn demo] fine-tune arm {arm!r} on {int(keep.sum())} rows", flush=True)
        tuner = fine_tune(aligned, data.conversations, keep.astype(float), config,
                          verbose=verbose)
        summary, responses = evaluate(tuner, sets["judge_prompts"], sets["utility"], config)
        results.append({"arm": arm, "n_train": int(keep.sum()), **summary})
        answers += [{"arm": arm, **r} for r in responses]
    verdicts = pd.DataFrame(answers).pivot_table(index="prompt", columns="arm",
                                                 values="harmful", sort=False)
    for row in results:
        row.update(paired_difference(verdicts["unfiltered"], verdicts[row["arm"]], config))
    pd.DataFrame(results).to_csv(output_dir / "finetune_results.csv", index=False)
    pd.DataFrame(answers).to_json(output_dir / "judged_responses.jsonl", orient="records",
                                  lines=True, force_ascii=False)
