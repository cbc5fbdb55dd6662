# Two commands do all set-up on a fresh machine with only python3 and make: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench ui render-samples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) warehouse dbt_project/target dbt_project/logs .pytest_cache

# Sample PDFs rendered from tests/fixtures/reports.json (deterministic: re-rendering does not churn git).
render-samples: $(STAMP)
	$(BIN)/python -m sample_pdfs --out data_raw/pdf
