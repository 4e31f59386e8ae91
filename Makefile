# shopguide — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run demo test lint format bench bench-load clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,postgres,deep]"
	@touch $(STAMP)

## run: install into .venv and start the service on the embedded defaults (SQLite + the demo catalog)
##      at http://127.0.0.1:8000 (storefront at /, API docs at /docs)
# The guide's intent model also learns from the public corpora when they lie beside the checkout (read, not copied).
SHARED_DATA := $(wildcard ../shared/data)
run: $(STAMP)
	$(if $(SHARED_DATA),SHOPGUIDE_NLU_CORPORA=$${SHOPGUIDE_NLU_CORPORA:-$(SHARED_DATA)}) $(BIN)/shopguide serve

## demo: the same data and models, printed in the terminal instead of served
demo: $(STAMP)
	$(BIN)/shopguide demo

## test: install into .venv and run the whole test suite (lint first)
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

## bench: the benchmark scripts (minutes; results go to benchmarks/RESULTS.md by hand)
bench: $(STAMP)
	$(BIN)/python benchmarks/classic_movielens.py
	$(BIN)/python benchmarks/classic_beauty.py
	$(BIN)/python benchmarks/latency_item_knn.py

## bench-load: the HTTP load benchmark (needs wrk: apt-get install -y wrk)
bench-load: $(STAMP)
	$(BIN)/python benchmarks/load_service.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
