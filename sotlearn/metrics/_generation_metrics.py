"""Metrics on model generations: harmful score and GSM8K exact match."""

import re
from decimal import Decimal, InvalidOperation

import numpy as np

# an optionally signed number with thousands separators and decimals: "-1,234.50"
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_FINAL_MARK = "####"


def harmful_score(judge_flags):
    """Share of responses judged harmful (answered instead of refused).

    Parameters
    ----------
    judge_flags : array-like of bool or {0, 1}, shape (n_responses,)
        Output of a :class:`~sotlearn.judges.Judge` (1 = harmful). Say which
        judge produced the flags when reporting the number.

    Returns
    -------
    score : float in [0, 1]
        Lower is safer.

    Examples
    --------
    >>> from sotlearn.metrics import harmful_score
    >>> harmful_score([1, 0, 0, 1])
    0.5
    """
    flags = np.asarray(judge_flags)
    if flags.ndim != 1 or flags.size == 0:
        raise ValueError(f"judge_flags must be a non-empty 1-D array, got shape {flags.shape}.")
    if not np.isin(flags, [0, 1]).all():
        raise ValueError("judge_flags must hold booleans or 0/1 values (1 = harmful).")
    return float(flags.astype(bool).mean())


def extract_final_number(text):
    """The final numeric answer of a GSM8K-style text, or None.

    The number after the last ``####`` when the text has one (GSM8K's
    reference format, which a model fine-tuned on GSM8K imitates), otherwise
    the last number in the text. Thousands separators are dropped and
    trailing zeros after the decimal point do not count: ``"1,000.50"`` and
    ``"1000.5"`` give the same :class:`~decimal.Decimal`.

    Parameters
    ----------
    text : str
        A GSM8K answer or a model completion.

    Returns
    -------
    number : decimal.Decimal or None
        None when the text holds no number.

    Examples
    --------
    >>> from sotlearn.metrics import extract_final_number
    >>> extract_final_number("She pays 3 * 4 = 12 dollars.\\n#### 12")
    Decimal('12')
    >>> extract_final_number("So the answer is $1,250.00.")
    Decimal('1250')
    >>> extract_final_number("no idea") is None
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}.")
    if _FINAL_MARK in text:
        text = text.rsplit(_FINAL_MARK, 1)[1]
        found = _NUMBER.search(text)
        candidates = [found.group()] if found else []
    else:
        candidates = _NUMBER.findall(text)
    if not candidates:
        return None
    try:
        number = Decimal(candidates[-1].replace(",", ""))
    except InvalidOperation:
        return None
    # normalize() turns 12.00 into 12 but 100 into 1E+2; quantize back when integral
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def exact_match_accuracy(completions, answers):
    """GSM8K exact-match accuracy of model completions.

    A completion is correct when its final number (see
    :func:`extract_final_number`: after ``####`` if present, else the last
    number) equals the reference's final number numerically.

    Parameters
    ----------
    completions : sequence of str
        Model outputs.
    answers : sequence of str or numbers
        GSM8K reference answers (``"... #### 72"``) or the numbers themselves.

    Returns
    -------
    accuracy : float in [0, 1]
        Share of exact matches.

    Examples
    --------
    >>> from sotlearn.metrics import exact_match_accuracy
    >>> exact_match_accuracy(["... so 72 clips.", "I think 5"], ["... #### 72", "#### 6"])
    0.5
    """
    if isinstance(completions, str) or isinstance(answers, str):
        raise TypeError("completions and answers must be sequences of strings, not a single string.")
    completions, answers = list(completions), list(answers)
    if len(completions) != len(answers) or not completions:
        raise ValueError(
            f"completions and answers must be non-empty and of the same length; got "
            f"{len(completions)} and {len(answers)}."
        )
    correct = 0
    for i, (completion, answer) in enumerate(zip(completions, answers)):
        reference = extract_final_number(answer if isinstance(answer, str) else str(answer))
        if reference is None:
            raise ValueError(f"answers[{i}] holds no number: {answer!r}.")
        correct += extract_final_number(completion) == reference
    return correct / len(completions)
