"""Figures of the demo report, each drawn from one CSV of the output folder.

The pipeline writes the CSV first and draws the figure from the file, never
from memory, so :func:`regenerate_figures` reproduces every figure exactly.
"""

from pathlib import Path

import numpy as np
import pandas as pd

# CSV name -> (figure name, drawing function name); filled below the functions
FIGURES = {}


def _pyplot():
    import matplotlib

    # no display on the machines this runs on; must precede the pyplot import
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_safety_curve(curve_csv, sweep_csv=None):
    """Harmful recall over keep ratio per method, and SOT over push strength.

    Parameters
    ----------
    curve_csv : path-like
        ``keep_ratio_curve.csv``: method, keep_ratio, harmful_recall,
        benign_retention.
    sweep_csv : path-like or None, default=None
        ``push_sweep.csv``: push, keep_ratio, harmful_recall, benign_retention,
        auroc. Drawn as a second panel when given.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    curve = pd.read_csv(curve_csv)
    sweep = pd.read_csv(sweep_csv) if sweep_csv is not None else None
    fig, axes = plt.subplots(1, 2 if sweep is not None else 1, figsize=(11, 4.2), squeeze=False)
    ax = axes[0, 0]
    for method, part in curve.groupby("method", sort=False):
        ax.plot(part["keep_ratio"], part["harmful_recall"], marker="o",
                lw=2.5 if method == "sot" else 1.2, label=method)
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set(xlabel="keep ratio (share of rows kept)", ylabel="harmful recall (lower is safer)",
           title="Harmful rows surviving top-K purification")
    ax.legend(fontsize=7)
    if sweep is not None:
        ax = axes[0, 1]
        for rho, part in sweep.groupby("keep_ratio"):
            ax.plot(part["push"], part["harmful_recall"], marker="o", label=f"keep {rho:g}")
        ax.set(xlabel="push strength (lambda)", ylabel="harmful recall",
               title="SOT: push strength sweep")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_weight_histograms(weights_csv, method="sot"):
    """Histograms of one method's weights, one per row source.

    Parameters
    ----------
    weights_csv : path-like
        ``weights.csv``: row, source, harmful and one weight column per method.
    method : str, default="sot"
        Weight column to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    table = pd.read_csv(weights_csv)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    bins = np.linspace(table[method].min(), table[method].max(), 40)
    for source, part in table.groupby("source"):
        label = f"{source} ({'harmful' if part['harmful'].iloc[0] else 'benign'}, n={len(part)})"
        ax.hist(part[method], bins=bins, alpha=0.55, label=label, density=True)
    ax.set(xlabel=f"{method} weight (mean one)", ylabel="density",
           title=f"{method} weights by source")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_projection(projection_csv):
    """2-D PCA projection of the embeddings, downstream rows coloured by SOT weight.

    Parameters
    ----------
    projection_csv : path-like
        ``projection.csv``: x, y, set (downstream / safe_anchor /
        harmful_reference), harmful, weight (NaN off the downstream set).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    table = pd.read_csv(projection_csv)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    styles = {"safe_anchor": ("tab:green", "+"), "harmful_reference": ("tab:red", "x")}
    for name, (color, marker) in styles.items():
        part = table[table["set"] == name]
        ax.scatter(part["x"], part["y"], s=10, c=color, marker=marker, alpha=0.35, label=name)
    rows = table[table["set"] == "downstream"]
    points = ax.scatter(rows["x"], rows["y"], c=rows["weight"], cmap="viridis", s=14,
                        edgecolors=np.where(rows["harmful"] == 1, "red", "none"),
                        linewidths=0.8, label="downstream (red edge: injected harmful)")
    fig.colorbar(points, ax=ax, label="SOT weight")
    ax.set(xlabel="PC 1", ylabel="PC 2", title="Embeddings (PCA), downstream coloured by weight")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def plot_finetune_results(results_csv):
    """Harmful score (with CI) and held-out NLL of every fine-tuned model.

    Parameters
    ----------
    results_csv : path-like
        ``finetune_results.csv``: arm, harmful_score, harmful_ci_low,
        harmful_ci_high, utility_nll, judge.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    table = pd.read_csv(results_csv)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    err = np.vstack([table["harmful_score"] - table["harmful_ci_low"],
                     table["harmful_ci_high"] - table["harmful_score"]])
    axes[0].bar(table["arm"], table["harmful_score"], yerr=err, capsize=4, color="tab:red")
    axes[0].set(ylabel=f"harmful score ({table['judge'].iloc[0]})",
                title="Held-out harmful prompts answered")
    axes[1].bar(table["arm"], table["utility_nll"], color="tab:blue")
    axes[1].set(ylabel="held-out benign NLL (lower is better)", title="Utility")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.tight_layout()
    return fig


FIGURES.update({
    "safety_curve.png": (plot_safety_curve, ("keep_ratio_curve.csv", "push_sweep.csv")),
    "weight_histograms.png": (plot_weight_histograms, ("weights.csv",)),
    "embedding_projection.png": (plot_projection, ("projection.csv",)),
    "finetune_results.png": (plot_finetune_results, ("finetune_results.csv",)),
})


def regenerate_figures(output_dir):
    """Draw every figure whose CSV is in ``output_dir`` and save it as PNG there.

    Parameters
    ----------
    output_dir : str or path-like
        A demo output folder.

    Returns
    -------
    list of pathlib.Path
        The PNG files written.

    Examples
    --------
    >>> from sotlearn.experiment import regenerate_figures
    >>> regenerate_figures("sotlearn_output")  # doctest: +SKIP
    """
    plt = _pyplot()
    output_dir = Path(output_dir)
    written = []
    for png, (draw, csvs) in FIGURES.items():
        paths = [output_dir / name for name in csvs]
        # the first CSV is required; later ones add optional panels
        if not paths[0].is_file():
            continue
        fig = draw(*(p if p.is_file() else None for p in paths))
        fig.savefig(output_dir / png, dpi=110)
        plt.close(fig)
        written.append(output_dir / png)
    return written
