"""Turning the many accepted input containers into a list of texts or conversations."""

from collections.abc import Mapping

import numpy as np

from ..datasets import Conversation, conversation_from_record


def _items_of(X):
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "X must be a sequence of texts or conversations, got a single string; "
            "wrap it in a list."
        )
    if hasattr(X, "columns") and hasattr(X, "to_dict"):  # pandas DataFrame
        if X.shape[1] == 1:
            return X.iloc[:, 0].tolist()
        return X.to_dict("records")
    if hasattr(X, "column_names") and type(X).__module__.startswith("datasets"):
        if len(X.column_names) == 1:
            return list(X[X.column_names[0]])
        return list(X)
    if hasattr(X, "tolist") and not isinstance(X, np.ndarray):  # pandas Series
        return X.tolist()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            return X[:, 0].tolist()
        if X.ndim != 1:
            raise ValueError(
                f"X as an array must have shape (n_samples,) or (n_samples, 1), got {X.shape}."
            )
        return X.tolist()
    return list(X)


def as_items(X):
    """Each row of ``X`` as a ``str`` (embedded as is) or a :class:`Conversation`."""
    items = []
    for i, item in enumerate(_items_of(X)):
        if isinstance(item, (str, Conversation)):
            items.append(str(item) if isinstance(item, str) else item)
        elif isinstance(item, Mapping):
            items.append(conversation_from_record(item))
        else:
            raise TypeError(
                f"X[{i}] is a {type(item).__name__}; expected a str, a Conversation or a "
                "record mapping (alpaca, dolly, messages, prompt/response, question/answer)."
            )
    return items
