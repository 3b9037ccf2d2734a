"""harmful_score and GSM8K parsing / exact match."""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from sotlearn.metrics import exact_match_accuracy, extract_final_number, harmful_score


def test_harmful_score():
    assert harmful_score([1, 0, 0, 1, 1]) == 0.6
    assert harmful_score([False, False]) == 0.0
    for bad in ([], [[0, 1]], [0, 2]):
        with pytest.raises(ValueError, match="judge_flags"):
            harmful_score(bad)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", Decimal(72)),
        ("#### 1,000", Decimal(1000)),
        ("#### -3", Decimal(-3)),
        ("#### 0.50", Decimal("0.5")),
        ("The answer is 18.00.", Decimal(18)),
        ("It costs $1,234.5 in total", Decimal("1234.5")),
        ("first 3, then 7, finally 100", Decimal(100)),
        ("#### 42\n\nQuestion: next one has 7 apples", Decimal(42)),  # the model ran on
        ("no number here", None),
        ("#### none", None),
        ("", None),
    ],
)
def test_extract_final_number(text, expected):
    assert extract_final_number(text) == expected


def test_exact_match_accuracy():
    completions = ["so she has 72 clips", "#### 10", "The answer is 1,000.", "I don't know", "#### 5.0"]
    answers = ["... #### 72", "#### 12", "#### 1000", "#### 3", 5]
    assert exact_match_accuracy(completions, answers) == pytest.approx(3 / 5)


def test_exact_match_errors():
    with pytest.raises(ValueError, match="same length"):
        exact_match_accuracy(["1"], ["1", "2"])
    with pytest.raises(ValueError, match="same length"):
        exact_match_accuracy([], [])
    with pytest.raises(TypeError, match="single string"):
        exact_match_accuracy("#### 1", "#### 1")
    with pytest.raises(ValueError, match=r"answers\[0\] holds no number"):
        exact_match_accuracy(["1"], ["no answer"])


def _gsm8k_test_file():
    root = Path(os.environ.get("SOTLEARN_DATA", Path(__file__).parents[2] / ".." / "shared" / "data"))
    return root / "gsm8k" / "test.jsonl"


@pytest.mark.skipif(not _gsm8k_test_file().exists(), reason="offline GSM8K copy not found")
def test_every_gsm8k_reference_parses_and_matches_itself():
    with open(_gsm8k_test_file()) as f:
        answers = [json.loads(line)["answer"] for line in f]
    assert len(answers) == 1319
    assert all(extract_final_number(a) is not None for a in answers)
    assert exact_match_accuracy(answers, answers) == 1.0
    # the final line alone is what a model imitating the format emits
    assert exact_match_accuracy([a.rsplit("####", 1)[1] for a in answers], answers) == 1.0
