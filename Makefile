# seqtagger developer tasks. Everything runs from the project's own virtual environment (.venv),
# created and installed on first use; the install is redone only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 0.0.0.0
PORT ?= 8000
# Installed explicitly first: any other torch spec would pull gigabytes of CUDA packages.
TORCH_SPEC ?= torch==2.13.0

BIN := $(VENV)/bin
STAMP := $(VENV)/.seqtagger-installed
# Benchmark scripts run by `make bench`, in this order; each one only if it exists.
BENCH_SCRIPTS ?= benchmarks/tokenizer_agreement.py benchmarks/tagging_speed.py \
	benchmarks/load_test.py

.DEFAULT_GOAL := help
.PHONY: help install serve test lint format bench clean distclean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install '$(TORCH_SPEC)'
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

install: $(STAMP) ## Create .venv and install the package with test and dev tools.

serve: $(STAMP) ## Start the REST service on HOST:PORT (default 0.0.0.0:8000).
	$(BIN)/tagger serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## Run the whole test suite.
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## Check style and types: ruff lint rules, formatting, mypy.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Fix what ruff can fix and reformat the code.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmark scripts that exist (BENCH_SCRIPTS).
	@ran=0; for script in $(BENCH_SCRIPTS); do \
		if [ -f "$$script" ]; then \
			echo "==> $$script"; $(BIN)/python "$$script" || exit 1; ran=1; \
		fi; \
	done; [ $$ran = 1 ] || echo "no benchmark script found (looked for: $(BENCH_SCRIPTS))"

clean: ## Remove caches and build outputs (keeps .venv, runs/ and models/).
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d \
		-prune -exec rm -rf {} +

distclean: clean ## Also remove the virtual environment.
	rm -rf $(VENV)
