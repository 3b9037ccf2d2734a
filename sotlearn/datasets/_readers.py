"""Readers from the common fine-tuning formats to :class:`Conversation` records."""

import json
import math
from collections.abc import Mapping
from pathlib import Path

from ._conversation import Conversation

# format name -> fields that identify it; checked in this order, first match wins
RECORD_FORMATS = {
    "messages": ("messages",),
    "alpaca": ("instruction", "output"),
    "dolly": ("instruction", "response"),
    "prompt_response": ("prompt",),
    "question_answer": ("question", "answer"),
}


def _present(value):
    """``value``, or None when it is missing (None, or the NaN of an empty DataFrame cell)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _join(first, second):
    # Alpaca's `input` and Dolly's `context` belong to the prompt, after the instruction.
    return f"{first}\n\n{second}" if second else first


def _from_messages(messages):
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f"'messages' must be a non-empty list of turns, got {messages!r}.")
    system = None
    turns = []
    for turn in messages:
        if not isinstance(turn, Mapping) or "role" not in turn or "content" not in turn:
            raise ValueError(f"each message needs 'role' and 'content', got {turn!r}.")
        if turn["role"] == "system" and not turns and system is None:
            system = turn["content"]
        else:
            turns.append({"role": turn["role"], "content": turn["content"]})
    response = ""
    if turns[-1]["role"] == "assistant":
        response = turns.pop()["content"]
    if not turns or turns[-1]["role"] != "user":
        raise ValueError(
            "a chat must end with a user turn, optionally followed by one assistant "
            f"turn; got roles {[m['role'] for m in messages]}."
        )
    prompt = turns.pop()["content"]
    return prompt, response, system, tuple(turns)


def conversation_from_record(record, *, format="auto", source=""):
    """Build a :class:`Conversation` from one record of a known format.

    Parameters
    ----------
    record : mapping
        One row: alpaca (``instruction``, ``input``, ``output``), dolly
        (``instruction``, ``context``, ``response``), chat (``messages``),
        ``prompt``/``response`` (or ``completion``), or ``question``/``answer``.
    format : {"auto", "messages", "alpaca", "dolly", "prompt_response", \
"question_answer"}, default="auto"
        ``"auto"`` picks the first format whose fields the record has.
    source : str, default=""
        Stored in :attr:`Conversation.source`.

    Returns
    -------
    Conversation
        With the original record in ``meta["record"]``.

    Examples
    --------
    >>> from sotlearn.datasets import conversation_from_record
    >>> c = conversation_from_record({"question": "1 + 1?", "answer": "#### 2"})
    >>> c.prompt, c.response
    ('1 + 1?', '#### 2')
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"a record must be a mapping, got {type(record).__name__}.")
    if format == "auto":
        format = next(
            (name for name, keys in RECORD_FORMATS.items() if all(k in record for k in keys)),
            None,
        )
        if format is None:
            raise ValueError(
                f"record fields {sorted(record)} match no known format; expected one of "
                + ", ".join(f"{name} {list(keys)}" for name, keys in RECORD_FORMATS.items())
                + "."
            )
    elif format not in RECORD_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {list(RECORD_FORMATS)}, got {format!r}.")
    # Records from a DataFrame carry NaN where a cell is empty: that is a missing
    # field, not the text "nan".
    original, record = record, {key: _present(value) for key, value in record.items()}
    system, history = record.get("system") or None, ()
    if format == "messages":
        prompt, response, system, history = _from_messages(record["messages"])
    elif format == "alpaca":
        prompt, response = _join(record["instruction"], record.get("input")), record["output"]
    elif format == "dolly":
        prompt, response = _join(record["instruction"], record.get("context")), record["response"]
    elif format == "prompt_response":
        prompt = record["prompt"]
        response = record.get("response")
        if response is None:
            response = record.get("completion")
    else:
        prompt, response = record["question"], record["answer"]
    return Conversation(
        prompt=str(prompt),
        response="" if response is None else str(response),
        system=system,
        history=history,
        source=source,
        meta={"record": dict(original), "format": format},
    )


def _iter_records(path):
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}, line {lineno}: not valid JSON ({e.msg}).") from e
    elif suffix == ".json":
        with path.open(encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {e.lineno}: not valid JSON ({e.msg}).") from e
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of records, got {type(data).__name__}.")
        yield from ((None, record) for record in data)
    elif suffix == ".csv":
        import pandas as pd

        # keep_default_na=False: an empty Alpaca `input` must stay "", not become NaN
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        # +2: the header is line 1 and data lines count from 1
        yield from ((i + 2, row) for i, row in enumerate(frame.to_dict("records")))
    else:
        raise ValueError(f"{path}: unknown file type {suffix!r}; expected .jsonl, .json or .csv.")


def read_conversations(data, *, format="auto", source=None):
    """Read a fine-tuning data set into a list of :class:`Conversation`.

    Parameters
    ----------
    data : str, path-like, datasets.Dataset or iterable of mapping
        A ``.jsonl``, ``.json`` (a list of records) or ``.csv`` file, a
        HuggingFace ``datasets.Dataset``, or records already in memory.
    format : str, default="auto"
        Record format, see :func:`conversation_from_record`.
    source : str or None, default=None
        Stored in each record's ``source``; defaults to the file name.

    Returns
    -------
    list of Conversation
        One conversation per record, in file order.

    Raises
    ------
    ValueError
        If a line is not valid JSON or a record matches no format; the message
        names the file and the line.

    Examples
    --------
    >>> from sotlearn.datasets import read_conversations
    >>> rows = [{"instruction": "Add.", "input": "2 and 3", "output": "5"}]
    >>> read_conversations(rows)[0].prompt
    'Add.\\n\\n2 and 3'
    """
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"data file {str(path)!r} does not exist.")
        source = path.name if source is None else source
        conversations = []
        for lineno, record in _iter_records(path):
            try:
                conversations.append(conversation_from_record(record, format=format, source=source))
            except (TypeError, ValueError) as e:
                where = f"line {lineno}" if lineno is not None else f"record {len(conversations)}"
                raise ValueError(f"{path}, {where}: {e}") from e
        return conversations
    source = "" if source is None else source
    return [
        conversation_from_record(record, format=format, source=source) for record in data
    ]
