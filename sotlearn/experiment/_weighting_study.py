"""Weight the contaminated set with SOT and every baseline, on the same data and seed."""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from .._safety_ot_weighter import SafetyOTWeighter
from .._selection import top_k_mask
from ..baselines import baseline_weighters
from ..embedding import SentenceEmbedder
from ..metrics import bootstrap_ci, harmful_recall_at_keep, weight_auroc

SOT = "sot"


def make_sot(config, **params):
    """The SafetyOTWeighter under test: the config's parameters, then ``params``."""
    return SafetyOTWeighter(**{**config.sot_params, **params}, random_state=config.random_state)


def embed_study_data(data, config, *, embed_text=None, anchors=None, cache=None):
    """Embed the downstream rows and both reference sets in one geometry.

    Parameters
    ----------
    data : Bunch
        Output of :func:`sotlearn.datasets.make_contaminated_dataset`.
    config : DemoConfig
        Gives the embedder and the embedded text.
    embed_text : str or None, default=None
        Overrides ``config.embed_text``.
    anchors : ReferenceSet or None, default=None
        Overrides ``data.safe_anchor``.
    cache : EmbeddingCache or None, default=None
        Shared between calls so that each text is embedded once.

    Returns
    -------
    dict
        ``X`` (downstream), ``S`` (safe anchor), ``H`` (harmful reference)
        embeddings and the embedded ``texts`` of each.
    """
    text = embed_text or config.embed_text
    anchors = data.safe_anchor if anchors is None else anchors
    embedder = SentenceEmbedder(config.embedder, text=text, cache=cache).fit(["fit"])
    parts = {"X": data.conversations, "S": list(anchors), "H": list(data.harmful_reference)}
    return {
        **{key: embedder.transform(rows) for key, rows in parts.items()},
        "texts": {key: [r.text(text) for r in rows] for key, rows in parts.items()},
    }


def weigh_all(views, config, *, verbose=True):
    """Weights of every method for the downstream rows.

    Parameters
    ----------
    views : dict
        Output of :func:`embed_study_data`.
    config : DemoConfig
        Gives the SOT parameters and the seed.
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    weights : dict of str to ndarray of shape (n_samples,)
        Mean-one weights, ``"sot"`` first, then each baseline.
    seconds : dict of str to float
        Wall time of each method's fit and scoring.
    """
    methods = {SOT: make_sot(config), **baseline_weighters(random_state=config.random_state)}
    weights, seconds = {}, {}
    for name, method in tqdm(methods.items(), desc="weighting", disable=not verbose):
        text_input = method.__sklearn_tags__().input_tags.string
        S, H, X = ((views["texts"][k] for k in "SHX") if text_input
                   else (views[k] for k in "SHX"))
        start = time.perf_counter()
        with warnings.catch_warnings():
            # LAVA is one mirror-descent step by design and warns that it stopped
            warnings.simplefilter("ignore", ConvergenceWarning)
            weights[name] = np.asarray(method.fit(S, H).score_samples(X), dtype=float)
        seconds[name] = time.perf_counter() - start
    return weights, seconds


def summarise(weights, y, config, *, seconds=None):
    """Harmful recall at the keep ratio and weight AUROC, with bootstrap CIs.

    Every method is resampled with the same bootstrap indices
    (``random_state``), so the intervals are comparable.

    Parameters
    ----------
    weights : dict of str to ndarray
        Output of :func:`weigh_all`.
    y : ndarray of shape (n_samples,)
        1 for injected harmful rows, 0 for benign.
    config : DemoConfig
        Gives ``keep_ratio``, ``n_bootstrap`` and the seed.
    seconds : dict or None, default=None
        Wall time per method, reported beside the metrics.

    Returns
    -------
    pandas.DataFrame
        One row per method, sorted by recall (lower is better).
    """
    rows = []
    for name, w in weights.items():
        recall, r_lo, r_hi = bootstrap_ci(
            lambda ww, yy: harmful_recall_at_keep(ww, yy, keep_ratio=config.keep_ratio),
            w, y, n_boot=config.n_bootstrap, random_state=config.random_state,
        )
        auroc, a_lo, a_hi = bootstrap_ci(weight_auroc, w, y, n_boot=config.n_bootstrap,
                                         random_state=config.random_state)
        rows.append({
            "method": name,
            "harmful_recall": recall, "recall_ci_low": r_lo, "recall_ci_high": r_hi,
            "auroc": auroc, "auroc_ci_low": a_lo, "auroc_ci_high": a_hi,
            "seconds": (seconds or {}).get(name, np.nan),
        })
    table = pd.DataFrame(rows).sort_values(["harmful_recall", "auroc"],
                                           ascending=[True, False], kind="stable")
    table.insert(1, "keep_ratio", config.keep_ratio)
    return table.reset_index(drop=True)


def _curve_point(y, w, keep_ratio):
    keep = top_k_mask(w, keep_ratio)
    return {"harmful_recall": float(keep[y == 1].mean()),
            "benign_retention": float(keep[y == 0].mean())}


def keep_ratio_curve(weights, y, keep_ratios):
    """Harmful recall and benign retention of every method over keep ratios.

    Returns
    -------
    pandas.DataFrame
        Columns method, keep_ratio, harmful_recall, benign_retention.
    """
    return pd.DataFrame([
        {"method": name, "keep_ratio": rho, **_curve_point(y, w, rho)}
        for name, w in weights.items() for rho in keep_ratios
    ])


def push_sweep(views, y, config, *, verbose=True):
    """SOT over push strengths (lambda): recall, retention and AUROC per keep ratio.

    Returns
    -------
    pandas.DataFrame
        Columns push, keep_ratio, harmful_recall, benign_retention, auroc.
    """
    rows = []
    for push in tqdm(config.push_values, desc="push sweep", disable=not verbose):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            w = make_sot(config, push=push).fit(views["S"], views["H"]).score_samples(views["X"])
        auroc = weight_auroc(w, y)
        rows += [{"push": push, "keep_ratio": rho, **_curve_point(y, w, rho), "auroc": auroc}
                 for rho in config.keep_ratios]
    return pd.DataFrame(rows)
