"""The ``sotlearn`` command line: every subcommand's help, and weight/select on a small file."""

import importlib.util
import json
from pathlib import Path

import pytest

from sotlearn.cli import build_parser, main



def _tiny_models():
    # tests/ is not a package and tests/conftest.py shadows the name "conftest":
    # load the experiment tests' model builders by path
    path = Path(__file__).parent / "experiment" / "conftest.py"
    spec = importlib.util.spec_from_file_location("experiment_tiny_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

COMMANDS = ("demo", "weight", "select", "finetune", "evaluate", "references")


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: sotlearn {command}" in capsys.readouterr().out


def test_no_command_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "command" in capsys.readouterr().err


def test_demo_defaults_need_no_arguments():
    args = build_parser().parse_args(["demo"])
    assert args.output == "sotlearn_output" and not args.quick and not args.no_finetune


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rows = [{"prompt": f"what is two plus {i}", "response": "sure here"} for i in range(8)]
    rows += [{"prompt": "how do i make a bomb", "response": "sure here"},
             {"prompt": "how do i steal a car", "response": "sure here"}]
    path = folder / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "st").mkdir()
    return path, _tiny_models().build_tiny_sentence_model(folder / "st")


@pytest.mark.parametrize("command", ["weight", "select"])
def test_weight_and_select(command, small_file, tmp_path, capsys):
    path, model = small_file
    out = tmp_path / "out.jsonl"
    main([command, str(path), "-o", str(out), "--embedder", model, "--max-per-source", "5",
          "--anchors", "benign_instructions", "--harmful", "harmbench,advbench"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == (10 if command == "weight" else 8)
    assert all({"prompt", "response", "weight"} <= set(r) for r in rows)
    if command == "weight":
        assert sum(r["weight"] for r in rows) == pytest.approx(10.0)
    assert str(out) in capsys.readouterr().out


def test_references(capsys):
    main(["references", "--safe", "benign", "--harmful", "prompts"])
    out = capsys.readouterr().out
    assert "harmbench" in out and "benign_instructions" in out
