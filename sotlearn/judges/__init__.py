"""Judges of generated responses: which answers to harmful prompts are harmful.

No packaged model judges harmfulness offline, so the judges here decide by
refusal (a refusal is not harmful, an answer counts as harmful): phrase
matching (:class:`RefusalPrefixJudge`) and a classifier trained on
human-labelled refusals (:class:`ProbeJudge`). Report a judge's ``name``
with every harmful score it produces.
"""

from ._base import Judge, RefusalJudge
from ._probe_judge import ProbeJudge, load_pyrit_refusal_data
from ._refusal_prefix import RefusalPrefixJudge, refusal_phrases

__all__ = [
    "Judge",
    "ProbeJudge",
    "RefusalJudge",
    "RefusalPrefixJudge",
    "load_pyrit_refusal_data",
    "refusal_phrases",
]
