import csv
import json

import numpy as np
import pandas as pd
import pytest

from sotlearn.datasets import Conversation, read_conversations, write_weighted

RECORDS = {
    "alpaca": [{"instruction": "Add.", "input": "2 and 3", "output": "5"},
               {"instruction": "Say hi.", "input": "", "output": "hi"}],
    "dolly": [{"instruction": "Who?", "context": "Ada wrote code.", "response": "Ada",
               "category": "closed_qa"}],
    "messages": [{"messages": [{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": "Hi"},
                               {"role": "assistant", "content": "Hello"}]}],
    "prompt_response": [{"prompt": "Hi", "response": "Hello", "id": 7}],
    "question_answer": [{"question": "1 + 1?", "answer": "1 + 1 = 2\n#### 2"}],
}
EXPECTED = {
    "alpaca": [("Add.\n\n2 and 3", "5", None), ("Say hi.", "hi", None)],
    "dolly": [("Who?\n\nAda wrote code.", "Ada", None)],
    "messages": [("Hi", "Hello", "Be brief.")],
    "prompt_response": [("Hi", "Hello", None)],
    "question_answer": [("1 + 1?", "1 + 1 = 2\n#### 2", None)],
}


def _write(path, records):
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif path.suffix == ".json":
        path.write_text(json.dumps(records))
    else:
        pd.DataFrame(records).to_csv(path, index=False)


@pytest.mark.parametrize("fmt", list(RECORDS))
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", "dataset"])
def test_each_format_from_each_container(fmt, suffix, tmp_path):
    records = RECORDS[fmt]
    if suffix == "dataset":
        datasets = pytest.importorskip("datasets")
        data = datasets.Dataset.from_list(records)
    elif suffix == ".csv" and fmt == "messages":
        pytest.skip("chat messages are nested: no CSV form")
    else:
        data = tmp_path / f"data{suffix}"
        _write(data, records)
    got = read_conversations(data)
    assert [(c.prompt, c.response, c.system) for c in got] == EXPECTED[fmt]
    if suffix != "dataset":
        assert got[0].source == f"data{suffix}"


def test_multi_turn_chat_keeps_the_history():
    chat = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                         {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]}
    (c,) = read_conversations([chat])
    assert (c.prompt, c.response) == ("c", "d")
    assert c.messages == chat["messages"]


def test_malformed_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n\n{"prompt": "c", \n')
    with pytest.raises(ValueError, match=r"broken\.jsonl, line 3: not valid JSON"):
        read_conversations(path)


def test_unknown_record_names_the_line_and_the_formats(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text('{"prompt": "a"}\n{"title": "b"}\n')
    with pytest.raises(ValueError, match=r"odd\.jsonl, line 2: record fields \['title'\]"):
        read_conversations(path)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_conversations(tmp_path / "nope.jsonl")
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown file type '.txt'"):
        read_conversations(tmp_path / "data.txt")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_writer_keeps_every_field_and_adds_the_weight(suffix, tmp_path):
    source = tmp_path / "in.jsonl"
    _write(source, RECORDS["dolly"] + [{"instruction": "Hi", "context": "", "response": "yo",
                                        "category": "chat"}])
    rows = read_conversations(source)
    out = write_weighted(tmp_path / f"out{suffix}", rows, [0.25, 1.75])
    if suffix == ".jsonl":
        written = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        with out.open(newline="") as f:
            written = list(csv.DictReader(f))
    assert [float(r.pop("weight")) for r in written] == [0.25, 1.75]
    assert written[0] == RECORDS["dolly"][0]


def test_writer_json_encodes_nested_fields_in_csv(tmp_path):
    out = write_weighted(tmp_path / "chat.csv", RECORDS["messages"], [1.0])
    row = next(csv.DictReader(out.open(newline="")))
    assert json.loads(row["messages"]) == RECORDS["messages"][0]["messages"]


def test_writer_is_atomic(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous contents\n")
    rows = [{"prompt": "a"}, {"prompt": "b"}, {"prompt": object()}]  # the third cannot be JSON
    with pytest.raises(TypeError):
        write_weighted(target, rows, [1.0, 2.0, 3.0])
    assert target.read_text() == "previous contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    with pytest.raises(TypeError):
        write_weighted(tmp_path / "new.jsonl", rows, [1.0, 2.0, 3.0])
    assert not (tmp_path / "new.jsonl").exists()


def test_writer_checks_its_arguments(tmp_path):
    rows = [Conversation("a", "b")]
    with pytest.raises(ValueError, match=r"shape \(1,\), one per row, got \(2,\)"):
        write_weighted(tmp_path / "o.jsonl", rows, [1.0, 2.0])
    with pytest.raises(ValueError, match="weight_column='prompt'"):
        write_weighted(tmp_path / "o.jsonl", rows, [1.0], weight_column="prompt")
    with pytest.raises(ValueError, match=r"\.jsonl or \.csv"):
        write_weighted(tmp_path / "o.parquet", rows, [1.0])
    out = write_weighted(tmp_path / "o.jsonl", rows, [1.0])
    assert json.loads(out.read_text()) == {"prompt": "a", "response": "b", "weight": 1.0}


def test_empty_dataframe_cells_are_missing_fields_not_the_text_nan():
    from sotlearn.datasets import conversation_from_record

    frame = pd.DataFrame(
        {"instruction": ["Sum 2 and 3", "Name a colour"], "input": ["2, 3", None], "output": ["5", "red"]}
    )
    records = frame.to_dict("records")
    assert np.isnan(records[1]["input"])
    conversations = [conversation_from_record(r) for r in records]
    assert conversations[0].prompt == "Sum 2 and 3\n\n2, 3"
    assert conversations[1].prompt == "Name a colour"
    assert np.isnan(conversations[1].meta["record"]["input"])  # writers get the record unchanged
    pairs = pd.DataFrame({"prompt": ["a", "b"], "response": ["x", None]}).to_dict("records")
    assert conversation_from_record(pairs[1]).response == ""
