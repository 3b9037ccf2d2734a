"""Every baseline of the experiments by name."""

from .._safety_ot_weighter import SafetyOTWeighter
from ._bidirectional_anchor import BidirectionalAnchorWeighter
from ._dsir_weighter import DSIRWeighter
from ._probe_weighter import ProbeWeighter
from ._random_weighter import RandomWeighter
from ._representation_matching import RepresentationMatchingWeighter


def baseline_weighters(random_state=None, *, include_text=True):
    """Unfitted baseline weighters by name, for an experiment harness.

    The optimal-transport baselines are settings of
    :class:`~sotlearn.SafetyOTWeighter`, not separate code: single-reference
    OT (GOT-D, Kang et al. 2024) pulls toward the safe anchor only
    (``push=0``, "clean") or pushes from the harmful reference only
    (``pull=0``, "contrast"); one-step OT values (LAVA, Just et al. 2023) are
    a single mirror-descent step from uniform weights (``max_iter=1,
    learning_rate=1.0``), which SafetyOTWeighter reports with a
    ``ConvergenceWarning`` because it stops after one step by design.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Passed to every baseline that takes one.
    include_text : bool, default=True
        Include ``"dsir"``, whose input is raw text (a list of str), not
        embeddings; check ``est.__sklearn_tags__().input_tags.string``.

    Returns
    -------
    weighters : dict of str to estimator
        ``"random"``, ``"representation_matching"``,
        ``"bidirectional_anchoring"``, ``"probe"``, ``"got_d_clean"``,
        ``"got_d_contrast"``, ``"lava"`` (embedding input) and ``"dsir"``
        (text input), in that order.

    Examples
    --------
    >>> from sotlearn.baselines import baseline_weighters
    >>> sorted(baseline_weighters(random_state=0))  # doctest: +NORMALIZE_WHITESPACE
    ['bidirectional_anchoring', 'dsir', 'got_d_clean', 'got_d_contrast', 'lava',
     'probe', 'random', 'representation_matching']
    >>> baseline_weighters()["got_d_clean"].push
    0.0
    """
    weighters = {
        "random": RandomWeighter(random_state=random_state),
        "representation_matching": RepresentationMatchingWeighter(),
        "bidirectional_anchoring": BidirectionalAnchorWeighter(),
        "probe": ProbeWeighter(),
        "got_d_clean": SafetyOTWeighter(push=0.0, random_state=random_state),
        "got_d_contrast": SafetyOTWeighter(pull=0.0, random_state=random_state),
        "lava": SafetyOTWeighter(max_iter=1, learning_rate=1.0, random_state=random_state),
    }
    if include_text:
        weighters["dsir"] = DSIRWeighter()
    return weighters
