# The two commands: `make run` (the product, with demo data) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV := $(VENV)/checkov/bin/checkov

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# axe-core for the accessibility check of the browser tests (pinned in tests/e2e/package.json).
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --silent
	@touch $@

# checkov (scans the generated Terraform) lives in its own environment; its pin is the
# `iac-scan` extra in pyproject.toml.
$(CHECKOV): pyproject.toml $(STAMP)
	@test -x $(VENV)/checkov/bin/python || $(BIN)/python -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --upgrade pip
	$(VENV)/checkov/bin/pip install --quiet "$$($(BIN)/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["iac-scan"][0])')"
	@touch $@

install: $(STAMP) $(AXE) $(CHECKOV)

run: $(STAMP)
	@bash scripts/run.sh

test: $(STAMP) $(AXE) $(CHECKOV)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	@for b in bench/*.py; do [ $$b = bench/harness.py ] && continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var
