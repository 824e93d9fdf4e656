# The two commands: `make run` (the product, with demo data) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV := $(VENV)/checkov/bin/checkov

.PHONY: run test install lint audit lock bench screenshots clean

# constraints.txt pins every package exactly (what CI audits is what every install gets).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
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

# Known vulnerabilities in the installed environment (pip-audit; see the script for what it
# does where pip-audit's services are unreachable). CI runs it.
audit: $(STAMP)
	$(BIN)/python scripts/audit_dependencies.py

# After adding or upgrading a dependency in pyproject.toml: install it, then pin what is installed.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@{ sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^#'; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt
	@touch $(STAMP)

# The browser tests that take screenshots, saving them to docs/screenshots (the README's); a
# plain test run saves them in each test's tmp directory and leaves the working tree alone.
screenshots: $(STAMP)
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/e2e -m screenshots $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	@for b in bench/*.py; do [ $$b = bench/harness.py ] && continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var
