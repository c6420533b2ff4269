# Two commands for a newcomer: `make run` (the whole service locally) and `make test` (every test).
# Each creates what it needs by itself: a Python 3.13 virtual environment in .venv.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# checkov pins its own boto3 and packaging, which the SAM CLI's pins contradict: its own environment.
CHECKOV_VENV := .venv-checkov
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_DISABLE_UPDATE_CHECK := 1
export AWS_DEFAULT_REGION ?= eu-west-2
PYTEST_ARGS ?=
PORT ?= 3000
STAGE ?= dev

.PHONY: help venv test unit lint typecheck validate run upload release browser valgrind build deploy publish-web benchmark benchmark-import benchmark-coldstart openapi clean

help:
	@echo "make run                 the whole service locally (moto, API, pages, mailbox, documents) on 127.0.0.1:$(PORT)"
	@echo "make test                lint, type-check and run every test"
	@echo "make upload FILE= KIND=  put an entries|results|releases CSV into the running local stack (finds its port)"
	@echo "make release             run the release (the schedule) now in the running local stack"
	@echo "make validate            cfn-lint, sam validate --lint and checkov on template.yaml"
	@echo "make build | deploy      sam build; sam deploy --config-env \$$STAGE (dev|prod) and publish the pages"
	@echo "make replay-dlq          move failed notifications back to their queue (STAGE=dev|prod)"
	@echo "make benchmark | benchmark-import | benchmark-coldstart | openapi"

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions devtools

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (pytest-xdist): the machine's two cores; the least-privilege plugin merges their records.
PYTEST_WORKERS ?= 2
unit: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test: browser valgrind lint typecheck unit

# The whole service on 127.0.0.1:$(PORT): moto, the API, the candidate pages, a mailbox, the documents
# page, demo data; while it runs, .local-stack.json (port, pid) tells make upload/release where it is.
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m devtools.local

# The running stack's port: PORT when given (command line or environment), else the state file
# `make run` writes while it runs (.local-stack.json), not the default above.
LOCAL_PORT_ARG = $(if $(filter-out file,$(origin PORT)),--port $(PORT))

# Put a file into the running local stack's uploads bucket: make upload FILE=day1.csv KIND=entries|results|releases
upload: $(STAMP)
	@test -n "$(FILE)" -a -n "$(KIND)" || { echo "usage: make upload FILE=path/to/file.csv KIND=entries|results|releases [PORT=…]"; exit 2; }
	$(BIN)/python -m devtools.local upload $(LOCAL_PORT_ARG) --kind $(KIND) "$(FILE)"

# Run the release now in the running local stack (the scheduled function, without waiting for its timer).
release: $(STAMP)
	$(BIN)/python -m devtools.local release $(LOCAL_PORT_ARG)

# Debian's chromium for the browser tests (installed as root; Playwright never downloads a browser).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else echo "chromium is missing: install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi

# Debian's valgrind for the cold-start instruction goal (tests/e2e/build: callgrind counts each
# function's imports; the test fails without it).
valgrind:
	@if command -v valgrind >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends valgrind; \
	else echo "valgrind is missing: install Debian's valgrind (sudo apt-get install valgrind) for the cold-start test"; fi

# sam build without containers (needs python3.13 with pip on PATH: pyenv's, via .python-version),
# then bytecode for every module it output (sam build ships none; Lambda would compile them all at
# every cold start: docs/performance.md).
build: $(SAM_VENV)/.installed
	$(SAM) build --template template.yaml --config-env $(STAGE)
	python3.13 -m devtools.compile_build .aws-sam/build

# sam deploy with samconfig.toml's environment for the stage, then the candidate pages:
# make deploy STAGE=dev|prod
deploy: build
	$(SAM) deploy --config-env $(STAGE)
	$(MAKE) publish-web STAGE=$(STAGE)

publish-web: $(STAMP)
	$(BIN)/python -m scripts.publish_web --stack exam-results-$(STAGE)

# Move the notification DLQ back to its queue once the cause of the failed sends is fixed
# (docs/notifications.md): make replay-dlq STAGE=dev|prod [REPLAY_ARGS="--max 100 | --dry-run"]
.PHONY: replay-dlq
replay-dlq: $(STAMP)
	$(BIN)/python scripts/replay_dlq.py --stack-name exam-results-$(STAGE) $(REPLAY_ARGS)

# checkov: every finding is fixed or skipped in the resource's Metadata with its reason (docs/security.md).
validate: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

# docs/openapi.json from the functions' resolvers (a test fails when it is stale).
openapi: $(STAMP)
	$(BIN)/python -m devtools.openapi

# Exam board files: validation throughput vs raw csv, peak memory 10k vs 1M rows; Confirmation of
# Entry documents for 10,000 candidates (docs/performance.md).
benchmark: $(STAMP)
	$(BIN)/python -m benchmarks.bench_uploads
	$(BIN)/python -m benchmarks.bench_confirmations

# A results file end to end on moto (validation, entry look-ups, staged writes, publication):
# AWS calls by operation, CPU, peak memory at 10,000 and 100,000 rows (docs/performance.md;
# docs/capacity.md models a million rows on AWS from them). About 30 minutes on a quiet 2-core machine.
benchmark-import: $(STAMP)
	$(BIN)/python -m benchmarks.bench_import

# Init time of each function's handler in a fresh process vs import boto3 + one client: the
# template's sources, then make build's output (what is deployed), timed; instruction counts of both
# when valgrind is installed, and of the deployed first request (every route's imports + a client).
benchmark-coldstart: $(STAMP) build
	$(BIN)/python -m benchmarks.cold_start --runs 11 --json test-artifacts/cold-start.json
	$(BIN)/python -m benchmarks.cold_start --runs 11 --built .aws-sam/build --json test-artifacts/cold-start-built.json
	if command -v valgrind >/dev/null; then \
	  $(BIN)/python -m benchmarks.cold_start --instructions --json test-artifacts/cold-start-instructions.json && \
	  $(BIN)/python -m benchmarks.cold_start --instructions --built .aws-sam/build --json test-artifacts/cold-start-built-instructions.json && \
	  $(BIN)/python -m benchmarks.cold_start --instructions --first-request --built .aws-sam/build --json test-artifacts/cold-start-built-first-request.json; \
	else echo "valgrind not installed: instruction counts skipped"; fi

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
