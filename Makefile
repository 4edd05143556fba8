# Two commands do everything on a fresh machine with Python 3.11:
#   make book   - create .venv (first time), build the HTML book, print its path
#   make test   - the same, then run the test suite in tests/ (the build has already run
#                 every notebook cell with raise_on_error; nbval would only repeat that)
SHELL := /bin/bash
.DEFAULT_GOAL := book

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# MathJax 3 for offline math, taken from a PyPI wheel (not committed; book/vendor is git-ignored).
MATHJAX_PKG := django-static-mathjax==3.2.2.1
MATHJAX_SRC := mathjax/static/mathjax/es5/tex-svg-full.js
MATHJAX     := book/vendor/mathjax/tex-svg-full.js

# MPLBACKEND=Agg in the environment silently removes every figure from the book
# (the kernel then does not switch to the inline backend): never pass it on.
unexport MPLBACKEND

.PHONY: book test bench clean distclean venv

venv: $(STAMP) $(MATHJAX)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(MATHJAX): | $(STAMP)
	@tmp=$$(mktemp -d) && \
	$(BIN)/python -m pip download --quiet --no-deps --dest "$$tmp" "$(MATHJAX_PKG)" && \
	mkdir -p $(dir $@) && \
	$(BIN)/python -c 'import sys, zipfile, glob; \
	whl = glob.glob(sys.argv[1] + "/*.whl")[0]; \
	open(sys.argv[3], "wb").write(zipfile.ZipFile(whl).read(sys.argv[2]))' \
	    "$$tmp" "$(MATHJAX_SRC)" "$@" && \
	rm -rf "$$tmp" && echo "MathJax -> $@"

book: $(STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Book built. Open: $(CURDIR)/_build/html/index.html"

# The book build executes every cell of every chapter and fails on the first error, which
# is what nbval checks (no outputs are compared): running the notebooks again through
# nbval would double the time for no extra check. `pytest book` still runs them alone.
test: book
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" autograd
	$(BIN)/python benchmarks/bench_step.py && $(BIN)/python benchmarks/hotspots.py

# Build outputs and caches; `make distclean` also removes the venv and MathJax.
clean:
	rm -rf _build .pytest_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) book/vendor
