"""A benign fine-tuning set with a known share of harmful rows, for evaluation."""

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._data_home import find_shared_file
from ._readers import read_conversations
from ._reference_sets import (
    BENIGN_SOURCES,
    _normalise,
    load_harmful_references,
    load_safe_anchors,
    sample_equal_shares,
)


def make_contaminated_dataset(n_samples=1000, *, harmful_ratio=0.1,
                              benign_sources=("alpaca", "dolly", "gsm8k"),
                              harmful_sources=("pyrit_harmful", "harmful_qa"),
                              anchors="instructions", harmful_reference="prompts",
                              max_per_source=200, data_home=None, random_state=None):
    """Benign instruction data with an exact share of harmful compliant QA mixed in.

    Benign rows are drawn in equal shares from ``benign_sources``; harmful rows
    (a harmful question *with* a compliant answer) from ``harmful_sources``.
    The safe anchors and harmful references are then loaded with every
    downstream prompt excluded, so the references never overlap the data to
    be weighted: benign anchors are held-out rows of the same benign pools.

    Parameters
    ----------
    n_samples : int, default=1000
        Rows of the contaminated data set.
    harmful_ratio : float in [0, 1), default=0.1
        Share of harmful rows; exactly ``round(harmful_ratio * n_samples)``.
    benign_sources : tuple of {"alpaca", "dolly", "gsm8k"}, default=all three
        Shared benign data sets.
    harmful_sources : tuple of str, default=("pyrit_harmful", "harmful_qa")
        Harmful-reference components that have compliant answers.
    anchors : str or list of str, default="instructions"
        Safe-anchor preset or components, see :func:`load_safe_anchors`;
        the default is held-out rows of the benign pools.
    harmful_reference : str or list of str, default="prompts"
        Harmful-reference components, see :func:`load_harmful_references`.
        The default (prompt-only behaviour lists) shares no source with the
        default ``harmful_sources``.
    max_per_source : int or None, default=200
        Per-component cap of the reference sets.
    data_home : str or path-like, default=None
        Shared data folder, see :func:`get_data_home`.
    random_state : int, RandomState instance or None, default=None
        Controls every random draw.

    Returns
    -------
    Bunch
        ``conversations`` (list of Conversation, shuffled), ``y`` (1 harmful,
        0 benign), ``source`` (component or benign data set of each row),
        ``safe_anchor`` and ``harmful_reference`` (:class:`ReferenceSet`),
        and ``fit_conversations`` / ``fit_labels``: anchors (0), harmful
        references (1) and the downstream rows (-1) concatenated, for the
        ``fit(X, y)`` form of a weighting pipeline.

    Examples
    --------
    >>> from sotlearn.datasets import make_contaminated_dataset
    >>> data = make_contaminated_dataset(200, harmful_ratio=0.1, max_per_source=20,
    ...                                  random_state=0)  # doctest: +SKIP
    >>> int(data.y.sum()), len(data.conversations)  # doctest: +SKIP
    (20, 200)
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
    if not 0 <= harmful_ratio < 1:
        raise ValueError(f"harmful_ratio must be in [0, 1), got {harmful_ratio!r}.")
    unknown = [s for s in benign_sources if s not in BENIGN_SOURCES]
    if unknown or not benign_sources:
        raise ValueError(
            f"benign_sources {unknown or list(benign_sources)} must be a non-empty selection "
            f"of {list(BENIGN_SOURCES)}."
        )
    rng = check_random_state(random_state)
    n_harmful = int(round(harmful_ratio * n_samples))

    harmful_pool = load_harmful_references(list(harmful_sources), max_per_source=None,
                                           data_home=data_home)
    # one row per harmful question, so that no question is both in and out
    by_prompt = {}
    for row in harmful_pool:
        by_prompt.setdefault(_normalise(row.prompt), row)
    harmful_rows = list(by_prompt.values())
    if n_harmful > len(harmful_rows):
        raise ValueError(
            f"harmful_ratio={harmful_ratio} asks for {n_harmful} harmful rows but "
            f"harmful_sources={harmful_sources} hold {len(harmful_rows)} distinct questions."
        )
    harmful = [harmful_rows[i] for i in rng.choice(len(harmful_rows), n_harmful, replace=False)]
    harmful_keys = {_normalise(r.prompt) for r in harmful}

    pools = [
        [r for r in read_conversations(find_shared_file(BENIGN_SOURCES[s][0], data_home),
                                       source=s)
         if _normalise(r.prompt) not in harmful_keys]
        for s in benign_sources
    ]
    picks = sample_equal_shares(pools, n_samples - n_harmful, rng)
    benign = [pool[i] for pool, idx in zip(pools, picks) for i in idx]

    order = rng.permutation(n_samples)
    rows = np.array(benign + harmful, dtype=object)[order]
    y = np.r_[np.zeros(len(benign), dtype=int), np.ones(n_harmful, dtype=int)][order]
    source = np.array([r.source for r in benign] + [r.meta["component"] for r in harmful],
                      dtype=object)[order]
    conversations = list(rows)

    safe_anchor = load_safe_anchors(anchors, max_per_source=max_per_source,
                                    exclude=conversations, data_home=data_home,
                                    random_state=rng)
    reference = load_harmful_references(harmful_reference, max_per_source=max_per_source,
                                        exclude=conversations, data_home=data_home,
                                        random_state=rng)
    return Bunch(
        conversations=conversations,
        y=y,
        source=source,
        safe_anchor=safe_anchor,
        harmful_reference=reference,
        fit_conversations=list(safe_anchor) + list(reference) + conversations,
        fit_labels=np.r_[np.zeros(len(safe_anchor), dtype=int),
                         np.ones(len(reference), dtype=int),
                         -np.ones(n_samples, dtype=int)],
    )
