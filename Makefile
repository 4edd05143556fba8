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

NBVAL_LOG := _build/nbval.log

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

# The notebooks run twice, each time in a fresh kernel: once by the book build (which fails
# on the first error) and once through nbval (pytest book). The nbval run goes in the
# background while the book builds, so the two use the machine's two cores at once; then
# the unit, browser and JupyterLab tests run against the built book.
test: $(STAMP) $(MATHJAX)
	@echo "nbval: running every chapter in the background while the book builds (log: $(NBVAL_LOG))"
	@mkdir -p _build; $(BIN)/python -m pytest book -q > $(NBVAL_LOG) 2>&1 & nbval=$$!; \
	$(MAKE) --no-print-directory book; built=$$?; \
	wait $$nbval; checked=$$?; \
	echo; echo "nbval over the chapters:"; tail -n 25 $(NBVAL_LOG); \
	test $$built -eq 0 -a $$checked -eq 0
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
