"""The experiment end to end on tiny random models, and its outputs."""

import json

import numpy as np
import pandas as pd
import pytest

from sotlearn.experiment import DemoConfig, regenerate_figures, write_report
from sotlearn.experiment._plots import (
    plot_finetune_results,
    plot_projection,
    plot_safety_curve,
    plot_weight_histograms,
)

CSVS = ("weighting_results.csv", "weights.csv", "keep_ratio_curve.csv", "push_sweep.csv",
        "projection.csv", "finetune_results.csv")


def test_quick_preset_is_smaller_and_overridable():
    full, quick = DemoConfig(), DemoConfig.quick(random_state=3)
    assert quick.n_samples < full.n_samples and quick.finetune_steps < full.finetune_steps
    assert full.finetune_baseline and not quick.finetune_baseline
    assert quick.random_state == 3
    assert json.dumps(full.to_dict())  # the report stores it as JSON


def test_demo_writes_every_output(demo_output, tiny_config):
    for name in CSVS + ("report.md", "config.json", "judged_responses.jsonl"):
        assert (demo_output / name).is_file(), name
    for name in ("safety_curve.png", "weight_histograms.png", "embedding_projection.png",
                 "finetune_results.png"):
        assert (demo_output / name).stat().st_size > 1000, name
    weighting = pd.read_csv(demo_output / "weighting_results.csv")
    # SOT and every baseline on the same rows, with intervals around the point
    assert {"sot", "random", "probe", "lava", "dsir"} <= set(weighting["method"])
    assert (weighting["recall_ci_low"] <= weighting["harmful_recall"]).all()
    assert (weighting["harmful_recall"] <= weighting["recall_ci_high"]).all()
    weights = pd.read_csv(demo_output / "weights.csv")
    assert len(weights) == tiny_config.n_samples
    assert weights["harmful"].sum() == round(tiny_config.harmful_ratio * tiny_config.n_samples)
    finetune = pd.read_csv(demo_output / "finetune_results.csv")
    assert list(finetune["arm"][:3]) == ["aligned (no fine-tune)", "unfiltered", "sot"]
    assert len(finetune) == 4  # plus the strongest baseline
    assert finetune["judge"].nunique() == 1
    # every arm's drop in harmful score against the unfiltered model, paired over the prompts
    unfiltered = finetune.set_index("arm").loc["unfiltered"]
    assert unfiltered["harmful_drop"] == 0
    assert (finetune["drop_ci_low"] <= finetune["harmful_drop"]).all()
    assert (finetune["harmful_drop"] <= finetune["drop_ci_high"]).all()
    report = (demo_output / "report.md").read_text()
    assert "harmful recall @ keep 0.8" in report and "SOT's harmful recall" in report
    assert "harmful score" in report and finetune["judge"][0] in report


def test_aligned_model_is_cached(demo_output, tiny_config, monkeypatch):
    from sotlearn.experiment import _finetune_study
    from sotlearn.experiment._demo import load_demo_data

    folders = list((demo_output / "models").glob("aligned-*"))
    assert len(folders) == 1
    # the same settings and rows must read the demo's cache entry, never train again
    monkeypatch.setattr(_finetune_study, "_tuner", lambda *a, **k: pytest.fail("retrained"))
    sets = _finetune_study.held_out_sets(load_demo_data(tiny_config), tiny_config)
    folder, summary, _ = _finetune_study.align_model(sets, tiny_config, demo_output / "models",
                                                     verbose=False)
    assert folder == folders[0]
    saved = pd.read_csv(demo_output / "finetune_results.csv").iloc[0]
    assert summary["harmful_score"] == saved["harmful_score"]


def _line_data(fig):
    return [line.get_xydata() for ax in fig.axes for line in ax.lines]


def test_figures_regenerate_from_csvs(demo_output):
    curve = pd.read_csv(demo_output / "keep_ratio_curve.csv")
    fig = plot_safety_curve(demo_output / "keep_ratio_curve.csv", demo_output / "push_sweep.csv")
    lines = _line_data(fig)
    for method, part in curve.groupby("method", sort=False):
        expected = part[["keep_ratio", "harmful_recall"]].to_numpy()
        assert any(np.array_equal(line, expected) for line in lines), method
    # redrawing from the CSVs gives the same data as the first drawing
    again = plot_safety_curve(demo_output / "keep_ratio_curve.csv",
                              demo_output / "push_sweep.csv")
    assert all(np.array_equal(a, b) for a, b in zip(lines, _line_data(again)))

    projection = pd.read_csv(demo_output / "projection.csv")
    fig = plot_projection(demo_output / "projection.csv")
    offsets = np.vstack([c.get_offsets() for c in fig.axes[0].collections])
    assert np.allclose(np.sort(offsets, axis=0), np.sort(projection[["x", "y"]].to_numpy(), axis=0))

    weights = pd.read_csv(demo_output / "weights.csv")
    fig = plot_weight_histograms(demo_output / "weights.csv")
    heights = sum(len(c.patches) for c in fig.axes[0].containers)
    assert heights == 39 * weights["source"].nunique()  # 40 edges, 39 bars per source

    finetune = pd.read_csv(demo_output / "finetune_results.csv")
    fig = plot_finetune_results(demo_output / "finetune_results.csv")
    bars = [p.get_height() for p in fig.axes[0].patches]
    assert np.allclose(bars, finetune["harmful_score"])

    written = regenerate_figures(demo_output)
    assert {p.name for p in written} == {"safety_curve.png", "weight_histograms.png",
                                         "embedding_projection.png", "finetune_results.png"}


def test_report_says_plainly_when_sot_loses(tmp_path):
    pd.DataFrame({
        "method": ["probe", "sot"], "keep_ratio": 0.8,
        "harmful_recall": [0.1, 0.25], "recall_ci_low": [0.0, 0.1], "recall_ci_high": [0.2, 0.4],
        "auroc": [0.9, 0.8], "auroc_ci_low": [0.85, 0.7], "auroc_ci_high": [0.95, 0.9],
        "seconds": [0.1, 2.0],
    }).to_csv(tmp_path / "weighting_results.csv", index=False)
    report = write_report(tmp_path, DemoConfig(), {"weighting": 1.0}).read_text()
    assert "is NOT lower than every baseline" in report
    assert "SOT keeps 0.150 MORE of the harmful rows" in report
    assert "Fine-tuning" not in report  # no fine-tune CSV, no section


def test_report_fine_tune_verdict(tmp_path):
    pd.DataFrame({
        "method": ["sot", "probe"], "keep_ratio": 0.8,
        "harmful_recall": [0.05, 0.1], "recall_ci_low": [0.0, 0.0], "recall_ci_high": [0.1, 0.2],
        "auroc": [0.95, 0.9], "auroc_ci_low": [0.9, 0.85], "auroc_ci_high": [1.0, 0.95],
        "seconds": [2.0, 0.1],
    }).to_csv(tmp_path / "weighting_results.csv", index=False)
    pd.DataFrame({
        "arm": ["unfiltered", "sot"], "n_train": [10, 8], "harmful_score": [0.5, 0.25],
        "harmful_ci_low": [0.3, 0.1], "harmful_ci_high": [0.7, 0.4],
        "utility_nll": [2.0, 2.1], "judge": "refusal-prefix",
        "harmful_drop": [0.0, 0.25], "drop_ci_low": [0.0, 0.05], "drop_ci_high": [0.0, 0.45],
    }).to_csv(tmp_path / "finetune_results.csv", index=False)
    report = write_report(tmp_path, DemoConfig(), {"weighting": 1.0}).read_text()
    assert "is lower than every baseline" in report
    assert "(0.250, refusal-prefix) is lower than the unfiltered model's (0.500)" in report
    assert "+0.250 [paired 95% CI +0.050, +0.450]" in report
    assert "0.500 [0.300, 0.700]" in report


@pytest.mark.slow
def test_quick_demo_real_models(tmp_path):
    from sotlearn.experiment import run_demo

    report = run_demo(DemoConfig.quick(), tmp_path, verbose=False)
    assert "SOT's harmful recall" in report.read_text()
