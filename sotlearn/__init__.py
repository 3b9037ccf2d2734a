"""sotlearn: Safety Optimal Transport weighting for safe language-model fine-tuning.

The heavy parts (torch, transformers, sentence-transformers) are imported only
when the class that needs them is first used, so ``import sotlearn`` stays fast.
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it; resolved on first attribute access
_LAZY = {
    "SafetyOTWeighter": "sotlearn._safety_ot_weighter",
    "safety_ot_weights": "sotlearn._safety_ot_weighter",
    "WeightedEstimator": "sotlearn._weighted_estimator",
    "top_k_mask": "sotlearn._selection",
    "SentenceEmbedder": "sotlearn.embedding",
    "LMHiddenStateEmbedder": "sotlearn.embedding",
    "WeightedLMFineTuner": "sotlearn.finetune",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sotlearn' has no attribute {name!r}")


def __dir__():
    return __all__
