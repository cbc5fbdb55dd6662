# Two commands do all set-up on a fresh machine with only python3 and make: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Dagster instance (run history, schedule and sensor state) of `make run` and `make ui`.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000

.PHONY: install run test test-tools lint typecheck bench ui render-samples clean docs docs-build export

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The dbt manifest the Dagster definitions load, rebuilt when a file of the dbt project changes
# (dagster-dbt's own command; `dagster dev` re-parses by itself through DbtProject.prepare_if_dev).
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project \( -name target -o -name logs -o -name dbt_packages \) -prune -o \
  -type f ! -name '.*' \( -name '*.sql' -o -name '*.yml' -o -name '*.yaml' -o -name '*.csv' -o -name '*.md' \) -print)
$(MANIFEST): $(STAMP) $(DBT_SOURCES) orchestration/dbt_project.py
	PATH=$(CURDIR)/$(BIN):$$PATH DBT_SEND_ANONYMOUS_USAGE_STATS=false \
	  $(BIN)/dagster-dbt project prepare-and-package --file orchestration/dbt_project.py
	touch $(MANIFEST)

install: $(STAMP) $(MANIFEST)

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

# Full load of data_raw/ (DATA_RAW_DIR) into warehouse/warehouse.duckdb (WAREHOUSE_PATH), with a summary.
run: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/python -m orchestration.load

# The Dagster UI on the same definitions, on http://$(UI_HOST):$(UI_PORT) (local only).
ui: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster dev -h $(UI_HOST) -p $(UI_PORT)

# The dbt docs site (models, columns, tests, lineage, the analysts' overview page), generated from a
# copy of the warehouse so open readers never break it; `docs` also serves it on DOCS_HOST:DOCS_PORT.
DOCS_HOST ?= 127.0.0.1
DOCS_PORT ?= 8080
docs-build: install
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m orchestration.docs
docs: install
	PATH=$(CURDIR)/$(BIN):$$PATH DOCS_HOST=$(DOCS_HOST) DOCS_PORT=$(DOCS_PORT) $(BIN)/python -m orchestration.docs --serve

# CSV / Parquet / Excel exports of every mart and the HTML report, from the published warehouse
# (a load writes them after each publish; this writes them on demand).
export: install
	$(BIN)/python -m orchestration.exports

# Tests run on TEST_WORKERS pytest-xdist processes: one per core (on 2 cores, twice the cores ran
# the suite in 11.5 min, one per core in 7.8-9.5 min, 2026-12); tests sharing a fixture (a full
# load, a dbt build) run on one worker, so each is built once (tests/conftest.py).
TEST_WORKERS ?= $(shell nproc)
# Test files (warehouses, Dagster homes, SQLite event logs) in memory where /dev/shm is writable:
# a SQLite commit is ~40x cheaper there than on this machine's disk, and a load commits each event.
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp})
test: install test-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

# LibreOffice converts .xls/.doc originals (Calc, Writer) and prints the sample forms as a second,
# independent PDF producer for the extraction tests, in several CJK font families. Installed with
# apt-get where we are root; elsewhere the tests that need a missing part are skipped with the reason.
OFFICE_PACKAGES := libreoffice-writer-nogui libreoffice-calc-nogui fonts-wqy-microhei fonts-wqy-zenhei fonts-noto-cjk
# poppler's pdftoppm rasterises the sample forms into scans for the OCR tests (tests/extract/test_ocr.py).
SCAN_PACKAGES := poppler-utils
# Chromium (headless) opens the HTML report in tests/orchestration/test_analysts.py.
BROWSER_PACKAGES := chromium
test-tools:
	@missing=$$(for p in $(OFFICE_PACKAGES) $(SCAN_PACKAGES) $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || \
	  echo "could not install $$missing: the tests that need it (LibreOffice: test_pdf_office_producer.py and test_office_originals.py, poppler-utils: test_ocr.py, chromium: test_analysts.py) skip with the reason"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy, strict on extract/ ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) warehouse dbt_project/target dbt_project/logs .pytest_cache .mypy_cache .dagster_home

# Sample PDFs rendered from tests/fixtures/reports.json (deterministic: re-rendering does not churn git).
render-samples: $(STAMP)
	$(BIN)/python -m sample_pdfs --out data_raw/pdf

# Extraction speed and memory beside bare pdfplumber, the load at 1× and 10× the sample
# corpus: workers, no-change and one-file reloads, peak memory; every sample form scanned and
# read by OCR: fields exact, silent, CPU per page; and `dbt build` over BENCH_FORMS synthetic
# forms, full and after adding 1,000 (prints figures; not a test).
BENCH_FORMS ?= 1000000
bench: install
	$(BIN)/python benchmarks/extract_bench.py
	$(BIN)/python benchmarks/load_bench.py
	$(BIN)/python benchmarks/ocr_bench.py
	$(BIN)/python benchmarks/warehouse_bench.py --forms $(BENCH_FORMS)
