"""Writers that put learned weights next to every original field, atomically."""

import csv
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._conversation import Conversation


def _as_record(row):
    if isinstance(row, Conversation):
        if "record" in row.meta:
            return dict(row.meta["record"])
        record = {"prompt": row.prompt, "response": row.response}
        if row.system is not None:
            record["system"] = row.system
        if row.history:
            record["history"] = list(row.history)
        return record
    if isinstance(row, Mapping):
        return dict(row)
    raise TypeError(f"rows must be Conversation or mapping, got {type(row).__name__}.")


def _csv_cell(value):
    # Nested fields (chat `messages`) have no CSV form: keep them as JSON text.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def write_weighted(path, data, weights, *, weight_column="weight"):
    """Write a data set with one weight per row, keeping every input field.

    The file is written to a temporary file in the same folder and renamed
    into place, so a failure part-way leaves no partial file behind (and an
    existing file at ``path`` untouched).

    Parameters
    ----------
    path : str or path-like
        Output file; ``.jsonl`` or ``.csv``.
    data : list of Conversation, list of mapping or pandas.DataFrame
        The rows; a :class:`Conversation` read by :func:`read_conversations`
        is written with its original fields.
    weights : array-like of shape (n_rows,)
        One weight per row.
    weight_column : str, default="weight"
        Name of the added field; must not already be a field of the rows.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sotlearn.datasets import write_weighted
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "w.jsonl"
    >>> _ = write_weighted(out, [{"prompt": "hi", "response": "hello"}], [0.5])
    >>> out.read_text()
    '{"prompt": "hi", "response": "hello", "weight": 0.5}\\n'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"path must end in .jsonl or .csv, got {str(path)!r}.")
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        data = data.to_dict("records")
    records = [_as_record(row) for row in data]
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(records),):
        raise ValueError(
            f"weights must have shape ({len(records)},), one per row, got {weights.shape}."
        )
    clashing = [i for i, r in enumerate(records) if weight_column in r]
    if clashing:
        raise ValueError(
            f"weight_column={weight_column!r} is already a field of row {clashing[0]}; "
            "choose another weight_column."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if suffix == ".jsonl":
                for record, weight in zip(records, weights):
                    record[weight_column] = float(weight)
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                fields = list(dict.fromkeys(k for r in records for k in r)) + [weight_column]
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                for record, weight in zip(records, weights):
                    row = {k: _csv_cell(v) for k, v in record.items()}
                    row[weight_column] = float(weight)
                    writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file private (0600); a data file is meant to be shared
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
