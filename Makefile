# Two commands do everything on a fresh machine with Python 3.11:
#   make book   - create .venv (first time), build the HTML book, print its path
#   make test   - the same, and the whole suite: nbval over the chapters and everything
#                 in tests/ (see the test target for how the two cores share the work)
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

NBVAL_LOG    := _build/nbval.log
UNIT_LOG     := _build/tests.log
# Run in the foreground once the book is built: the test of its pages first, then the two
# slowest suites that need no browser (training to the quality bar, the command line),
# so that the two halves end together.
FOREGROUND_TESTS := tests/test_book_browser.py tests/test_quality.py tests/test_cli.py

.PHONY: book test bench clean distclean venv

venv: $(STAMP) $(MATHJAX)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-compile -e .
	@# The same .pyc files pip would write, on both cores: 23 s instead of about 40.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib
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

# `make test` keeps both cores busy. In the background: nbval over the chapters (each in
# a fresh kernel), then the other tests (unit tests, the chapters opened in JupyterLab).
# In the foreground: the book build, which runs every notebook once more and fails on the
# first error, then FOREGROUND_TESTS (headless Chromium on the built pages first). Every
# process uses one BLAS thread: two threads on a core that is already busy spin against
# each other (the background's tests took 176 s so, 65 s with one). The end of each
# background log is printed (all of it when it failed); any failing part fails the target.
test: $(STAMP) $(MATHJAX)
	@mkdir -p _build
	@echo "In the background: nbval, then the tests not in FOREGROUND_TESTS (logs: $(NBVAL_LOG), $(UNIT_LOG))"
	@export OPENBLAS_NUM_THREADS=1; \
	( $(BIN)/python -m pytest book -q > $(NBVAL_LOG) 2>&1; nb=$$?; \
	   $(BIN)/python -m pytest tests $(FOREGROUND_TESTS:%=--ignore=%) > $(UNIT_LOG) 2>&1; unit=$$?; \
	   exit $$(( nb != 0 || unit != 0 )) ) & background_pid=$$!; \
	$(MAKE) --no-print-directory book; built=$$?; foreground=1; book_s=$$SECONDS; \
	if [ $$built -eq 0 ]; then $(BIN)/python -m pytest $(FOREGROUND_TESTS); foreground=$$?; fi; \
	foreground_s=$$SECONDS; wait $$background_pid; background=$$?; \
	for log in $(NBVAL_LOG) $(UNIT_LOG); do \
	    echo; echo "--- $$log"; if [ $$background -eq 0 ]; then tail -n 3 $$log; else cat $$log; fi; \
	done; \
	echo; echo "Seconds after set-up: book built $$book_s, foreground tests done $$foreground_s, background done $$SECONDS"; \
	test $$built -eq 0 -a $$foreground -eq 0 -a $$background -eq 0

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" autograd
	$(BIN)/python benchmarks/bench_step.py && $(BIN)/python benchmarks/hotspots.py

# Build outputs and caches; `make distclean` also removes the venv and MathJax.
clean:
	rm -rf _build .pytest_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) book/vendor
