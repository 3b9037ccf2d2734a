"""Sphinx configuration for the sotlearn documentation.

Build with ``make -C docs html`` (see ``docs/Makefile`` for the other targets).

Offline by default
------------------
* Intersphinx (links into the scikit-learn, POT, transformers, NumPy and
  Python docs) needs the network to fetch the inventories, and a failed fetch
  is a warning. It is therefore off unless ``SOTLEARN_DOCS_INTERSPHINX=1``;
  without it, references such as ``:class:`~sklearn.pipeline.Pipeline``` are
  rendered as plain code, silently. ``make -C docs html-online`` turns it on.
* The example gallery (sphinx-gallery, ``examples/``) executes only the quick
  examples by default (``SOTLEARN_DOCS_GALLERY=quick``: ``plot_quickstart.py``,
  under a minute). ``SOTLEARN_DOCS_GALLERY=all`` (``make html-gallery``) runs
  every example in its quick mode (``SOTLEARN_EXAMPLE_QUICK=1``, minutes, real
  models); ``SOTLEARN_DOCS_GALLERY=none`` (``make html-noplot``) runs none.
  Examples that are not run are still rendered, with their code and text.
"""

import os
import sys
from pathlib import Path

from docutils import nodes
from sphinx.directives.other import Include

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# import the checkout being documented, whatever the working directory
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import sotlearn  # noqa: E402

project = "sotlearn"
author = "the sotlearn developers"
copyright = "2026, the sotlearn developers"
version = release = sotlearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
# The Markdown result files are pulled into benchmarks.rst / experiments.rst
# with an include, not built as pages of their own.
exclude_patterns = ["_build", "experiment_results.md"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# The only Markdown sources are benchmarks/README.md and experiment_results.md,
# written for GitHub: their relative links to scripts and files have no page
# in this site. They stay as text instead of warning.
suppress_warnings = ["myst.xref_missing"]
myst_heading_anchors = 3
default_role = "literal"
nitpicky = False

# -- intersphinx: opt-in, because it needs the network -----------------------
if os.environ.get("SOTLEARN_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "ot": ("https://pythonot.github.io", None),
        "transformers": ("https://huggingface.co/docs/transformers/main/en", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
    }
    intersphinx_timeout = 10

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc validation is a test (tests/test_docstrings.py), not a build step
numpydoc_validation_checks = set()


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only what sotlearn defines, not members inherited from scikit-learn."""
    if skip:
        return None
    target = getattr(obj, "fget", obj)
    module = getattr(target, "__module__", None)
    if what == "class" and module is not None and not module.startswith("sotlearn"):
        return True
    return None


# -- sphinx-gallery ------------------------------------------------------------
_GALLERY = os.environ.get("SOTLEARN_DOCS_GALLERY", "quick")
if _GALLERY not in {"quick", "all", "none"}:
    raise ValueError(f"SOTLEARN_DOCS_GALLERY must be quick, all or none, got {_GALLERY!r}.")
if _GALLERY == "all":
    os.environ.setdefault("SOTLEARN_EXAMPLE_QUICK", "1")
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples")],
    "gallery_dirs": ["auto_examples"],
    # which examples are executed; the others are rendered without output
    "filename_pattern": {"quick": r"/plot_quickstart\.py$", "all": r"/plot_", "none": r"^$"}[
        _GALLERY
    ],
    "plot_gallery": "False" if _GALLERY == "none" else "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "doc_module": ("sotlearn",),
    "backreferences_dir": None,
    "within_subsection_order": "FileNameSortKey",
    "write_computation_times": False,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sotlearn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

# -- an include that tolerates a missing file -------------------------------------


class OptionalInclude(Include):
    """``.. optional-include:: path`` -- include the file, or say it is not there yet."""

    def run(self):
        _, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        if Path(path).is_file():
            return super().run()
        self.env.note_dependency(path)
        text = (
            f"{self.arguments[0].lstrip('/')} has not been written yet in this checkout; "
            "the commands above produce it."
        )
        return [nodes.note("", nodes.paragraph(text=text))]


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.add_directive("optional-include", OptionalInclude)
    return {"parallel_read_safe": True}
