"""Baseline weighters for comparison with :class:`~sotlearn.SafetyOTWeighter`.

Each is a scikit-learn estimator with the same interface (``fit(X_safe,
X_harm)`` or ``fit(X, y)``, mean-one ``score_samples``, ``transform``,
``select``, ``score``). :func:`baseline_weighters` lists all of them by name,
including the optimal-transport baselines, which are settings of
SafetyOTWeighter. :class:`DSIRWeighter` takes raw text instead of embeddings.
"""

from ._bidirectional_anchor import BidirectionalAnchorWeighter
from ._dsir_weighter import DSIRWeighter
from ._probe_weighter import ProbeWeighter
from ._random_weighter import RandomWeighter
from ._registry import baseline_weighters
from ._representation_matching import RepresentationMatchingWeighter

__all__ = [
    "BidirectionalAnchorWeighter",
    "DSIRWeighter",
    "ProbeWeighter",
    "RandomWeighter",
    "RepresentationMatchingWeighter",
    "baseline_weighters",
]
