# Two commands on a fresh machine (Python 3.11, 3.12 or 3.13 + the package registries):
#   make book   - build the HTML book into _build/html/ (executes every notebook)
#   make test   - unit, property and doctests of linnet + nbval over every notebook
# Both create .venv and install the locked environment (requirements.lock, with hashes) first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book

ASSETS := _build/assets/vendor

# One BLAS thread: the book's matrices are small, and on a 2-core machine shared with other
# work, threaded BLAS makes them 2-20x slower (measured, see benchmarks/bench.py).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: book pdf test lab lint bench lock clean assets dist

# Every file pip installs must match a sha256 in requirements.lock (`make lock` writes them).
# linnet itself is installed editable with the locked setuptools (no build isolation).
## Supported Pythons: 3.11-3.13 (requires-python in pyproject.toml); anything else stops here,
## before the install, with a message.
PYTHON_CHECK := import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else \
    "error: Python %d.%d is not supported: the book needs Python 3.11, 3.12 or 3.13; " \
    "name one with PYTHON=..., e.g. make book PYTHON=python3.12" % v)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -c '$(PYTHON_CHECK)'
	@$(if $(wildcard $(BIN)/python),$(BIN)/python -c '$(PYTHON_CHECK)')
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	    -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    --no-build-isolation -e .
	touch $@

## Front-end files the book serves itself (MathJax 4 with its New Computer Modern font, and the
## book's own widget renderer and MathJax settings), from the npm registry, pinned with
## integrity hashes in package-lock.json. MathJax finds the font at [mathjax]/../mathjax-fonts.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json book/_ext/linnet-widgets.js
	rm -rf _build/assets && mkdir -p $(ASSETS)/mathjax $(ASSETS)/mathjax-fonts/mathjax-newcm-font
	cd node_modules/mathjax && cp -R *.js a11y adaptors input output sre ui LICENSE \
	    ../../$(ASSETS)/mathjax/
	cd node_modules/@mathjax/mathjax-newcm-font && cp -R chtml chtml.js package.json \
	    ../../../$(ASSETS)/mathjax-fonts/mathjax-newcm-font/
	cp book/_ext/linnet-widgets.js $(ASSETS)/

## make book: execute every notebook and build the HTML book; fails on any warning or cell error.
## Then the PDF of the book (make pdf).
## --all: re-read (and so re-execute) every page even if only linnet changed.
## LINNET_STATIC_WIDGETS=1: each explorer cell precomputes its figures (linnet.widgets.explorer).
book: $(STAMP) assets dist
	rm -rf _build/html
	LINNET_STATIC_WIDGETS=1 $(JB) build . --all --builder html -W -n --keep-going
	@test -f _build/html/index.html || { echo "error: _build/html/index.html was not produced" >&2; exit 1; }
	@echo "Book built: _build/html/index.html"
	@$(MAKE) --no-print-directory pdf

## make pdf: the book as one PDF (title page, contents with page numbers and links, chapters,
## appendices, bibliography), printed from the built _build/html by Debian's Chromium through
## Playwright (book/_ext/linnet_pdf.py, two prints: the second has the contents' page numbers),
## into _build/html/dist/linnet-book-VERSION.pdf with its .sha256. Needs chromium and pdftotext
## (poppler-utils): without them it is skipped with a warning (an error if
## LINNET_REQUIRE_BROWSER=1, as in .ci/run). About 50 s of CPU for 156 pages.
pdf: $(STAMP)
	@test -f _build/html/index.html || { echo "error: no book in _build/html: make book" >&2; exit 1; }
	$(BIN)/python book/_ext/linnet_pdf.py _build/html

## make dist: what the site serves under dist/ (book/_ext/linnet_dist.py copies it there): the
## linnet wheel (with its data files and recorded results), the book's source bundle and the
## constraints file (the tested versions, requirements.lock without hashes), named
## with the version, each with a .sha256 beside it. Both are reproducible (sorted entries, one
## timestamp: SOURCE_DATE_EPOCH, else the last commit's, else the bundle's file
## SOURCE_DATE_EPOCH; fixed permissions), so `make dist` in an unzipped bundle rebuilds the
## published wheel, byte for byte.
DIST := _build/dist
dist: $(STAMP)
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(BIN)/python book/_ext/linnet_dist.py wheel $(DIST)
	$(BIN)/python book/_ext/linnet_dist.py bundle $(DIST)
	$(BIN)/python book/_ext/linnet_dist.py constraints $(DIST)
	$(BIN)/python book/_ext/linnet_dist.py checksums $(DIST)

## make test: everything pytest knows about (see [tool.pytest.ini_options] in pyproject.toml).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

## make lab: JupyterLab with live widgets on the notebooks in book/.
lab: $(STAMP)
	$(BIN)/jupyter lab book/ $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

## make lock: re-resolve the newest versions allowed by pyproject.toml into requirements.lock,
## with the sha256 of every file the package index offers for each pinned version (pip-tools).
lock:
	rm -rf _lockenv && $(PYTHON) -m venv _lockenv
	_lockenv/bin/python -m pip install --quiet --disable-pip-version-check pip-tools
	_lockenv/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
	    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	    --extra book --extra site --extra test --output-file requirements.lock pyproject.toml
	rm -rf _lockenv build

clean:
	rm -rf _build .pytest_cache .hypothesis node_modules
