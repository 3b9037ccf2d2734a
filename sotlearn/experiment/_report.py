"""The demo's Markdown report, written from the CSVs of the output folder."""

from pathlib import Path

import pandas as pd

from ._weighting_study import SOT


def markdown_table(frame):
    """A pipe table of ``frame`` (pandas' ``to_markdown`` needs ``tabulate``, not a dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * frame.shape[1]
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _fmt_ci(point, low, high):
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def weighting_verdict(table):
    """One plain sentence per baseline: does SOT keep fewer harmful rows, and by how much.

    Parameters
    ----------
    table : pandas.DataFrame
        ``weighting_results.csv``.

    Returns
    -------
    str
        Markdown: an overall verdict and one bullet per baseline.
    """
    sot = table.loc[table["method"] == SOT].iloc[0]
    others = table[table["method"] != SOT]
    rho = sot["keep_ratio"]
    lines = []
    for _, row in others.iterrows():
        gap = row["harmful_recall"] - sot["harmful_recall"]
        if gap > 0:
            word = f"SOT keeps {gap:.3f} fewer of the harmful rows (lower is better)"
        elif gap == 0:
            word = "a tie"
        else:
            word = f"SOT keeps {-gap:.3f} MORE of the harmful rows: the baseline wins"
        lines.append(f"- vs `{row['method']}` ({row['harmful_recall']:.3f}): {word}.")
    beaten = (others["harmful_recall"] > sot["harmful_recall"]).all()
    head = (f"**SOT's harmful recall at keep {rho:g} ({sot['harmful_recall']:.3f}) is lower than "
            f"every baseline's.**" if beaten else
            f"**SOT's harmful recall at keep {rho:g} ({sot['harmful_recall']:.3f}) is NOT lower "
            f"than every baseline's.**")
    return "\n".join([head, "", *lines])


def finetune_verdict(table):
    """Whether the SOT-purified model is safer than the unfiltered one, with utility beside it."""
    by_arm = table.set_index("arm")
    if not {"unfiltered", SOT} <= set(by_arm.index):
        return "The fine-tune stage did not run both the unfiltered and the SOT arm."
    sot, raw = by_arm.loc[SOT], by_arm.loc["unfiltered"]
    judge = sot["judge"]
    word = "lower" if sot["harmful_score"] < raw["harmful_score"] else "NOT lower"
    drop = raw["harmful_score"] - sot["harmful_score"]
    if "drop_ci_low" in by_arm.columns:
        # paired over the judged prompts, see paired_difference
        drop = f"{drop:+.3f} [paired 95% CI {sot['drop_ci_low']:+.3f}, {sot['drop_ci_high']:+.3f}]"
        if sot["drop_ci_low"] <= 0:
            drop += " (the interval includes 0: not a significant difference)"
    else:
        drop = f"{drop:+.3f}"
    return (f"**The SOT-purified model's harmful score ({sot['harmful_score']:.3f}, {judge}) is "
            f"{word} than the unfiltered model's ({raw['harmful_score']:.3f})**, by "
            f"{drop}; held-out benign NLL "
            f"{sot['utility_nll']:.3f} (SOT) vs {raw['utility_nll']:.3f} (unfiltered).")


def write_report(output_dir, config, timings):
    """Write ``report.md`` from the CSVs in ``output_dir``.

    Parameters
    ----------
    output_dir : str or path-like
        Demo output folder holding ``weighting_results.csv`` and, when the
        fine-tune stage ran, ``finetune_results.csv``.
    config : DemoConfig
        Settings, listed in the report.
    timings : dict of str to float
        Seconds per stage.

    Returns
    -------
    pathlib.Path
        The report.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sotlearn.experiment import DemoConfig, write_report
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({
    ...     "method": ["sot", "random"], "keep_ratio": 0.8, "harmful_recall": [0.1, 0.8],
    ...     "recall_ci_low": [0.0, 0.6], "recall_ci_high": [0.2, 0.9], "auroc": [0.95, 0.5],
    ...     "auroc_ci_low": [0.9, 0.4], "auroc_ci_high": [1.0, 0.6], "seconds": [1.0, 0.0],
    ... }).to_csv(f"{folder}/weighting_results.csv", index=False)
    >>> report = write_report(folder, DemoConfig(), {"weighting": 1.0}).read_text()
    >>> "is lower than every baseline" in report
    True
    """
    output_dir = Path(output_dir)
    weighting = pd.read_csv(output_dir / "weighting_results.csv")
    shown = pd.DataFrame({
        "method": weighting["method"],
        f"harmful recall @ keep {config.keep_ratio:g} [95% CI]": [
            _fmt_ci(*r) for r in weighting[["harmful_recall", "recall_ci_low",
                                            "recall_ci_high"]].itertuples(index=False)],
        "weight AUROC [95% CI]": [
            _fmt_ci(*r) for r in weighting[["auroc", "auroc_ci_low",
                                            "auroc_ci_high"]].itertuples(index=False)],
        "seconds": weighting["seconds"].round(1),
    })
    n_harm = round(config.harmful_ratio * config.n_samples)
    parts = [
        "# sotlearn demo report",
        "",
        f"Contaminated set: {config.n_samples} rows, {n_harm} injected harmful compliant rows "
        f"(seed {config.random_state}); anchors `{config.anchors}`, harmful reference "
        f"`{config.harmful_reference}`, embedder `{config.embedder}` on the `{config.embed_text}`. "
        f"Every method weighs the same rows with the same seed; CIs are percentile bootstraps "
        f"({config.n_bootstrap} resamples of the downstream rows, same indices for every method).",
        "",
        "## Purification: harmful rows surviving the top-K cut",
        "",
        markdown_table(shown),
        "",
        weighting_verdict(weighting),
        "",
        "![safety curve](safety_curve.png)",
        "![weights by source](weight_histograms.png)",
        "![projection](embedding_projection.png)",
    ]
    finetune_csv = output_dir / "finetune_results.csv"
    if finetune_csv.is_file():
        finetune = pd.read_csv(finetune_csv)
        shown = pd.DataFrame({
            "arm": finetune["arm"],
            "training rows": finetune["n_train"],
            "harmful score [95% CI]": [
                _fmt_ci(*r) for r in finetune[["harmful_score", "harmful_ci_low",
                                               "harmful_ci_high"]].itertuples(index=False)],
            "judge": finetune["judge"],
            "held-out benign NLL": finetune["utility_nll"].round(3),
        })
        parts += [
            "",
            "## Fine-tuning the aligned model on the purified data",
            "",
            f"`{config.model}` aligned by {config.align_steps} steps on refusals and benign "
            f"rows, then fine-tuned {config.finetune_steps} steps (batch {config.batch_size}, "
            f"max length {config.max_length}, lr {config.learning_rate:g}, "
            f"{'LoRA' if config.lora else 'full'}) per arm on the rows each method keeps at "
            f"keep {config.keep_ratio:g}. Harmful score: share of held-out AdvBench/HarmBench "
            "prompts answered instead of refused (never trained on, never a reference).",
            "",
            markdown_table(shown),
            "",
            finetune_verdict(finetune),
            "",
            "![fine-tune results](finetune_results.png)",
        ]
    parts += [
        "",
        "## Run",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {stage} | {sec:.1f} |" for stage, sec in timings.items()],
        "",
        "Every figure is drawn from the CSV beside it: "
        "`python -c \"from sotlearn.experiment import regenerate_figures; "
        "regenerate_figures('.')\"` in this folder redraws them.",
        "",
    ]
    path = output_dir / "report.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
