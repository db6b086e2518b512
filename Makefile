# casesync: a thin Makefile over the scripts; `make help` lists the targets.
PY := .venv/bin/python
SETUP := .venv/.installed

.DEFAULT_GOAL := help
.PHONY: help setup up down status lint typecheck demo test test-unit test-integration test-clients test-browser test-faults test-cluster drill-outage bench bench-codec bench-relay bench-consumer bench-e2e clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## install what is missing (Debian packages when root, .venv, Kafka jars, compiled codecs)
	@scripts/setup.sh

up: setup ## start local Kafka and PostgreSQL (idempotent; honours CASESYNC_* overrides)
	@$(PY) -m infra up

down: ## stop the local Kafka and PostgreSQL
	@if [ -x $(PY) ]; then $(PY) -m infra down; fi

status: ## say what runs where
	@$(PY) -m infra status

lint: setup ## ruff check and format check
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

typecheck: setup ## mypy --strict over the packages and benchmarks
	@.venv/bin/mypy

CONSOLE ?=
demo: up ## four regions exchanging case traffic, ending with a summary and a consistency verdict (CONSOLE=PORT: then the ops console until Ctrl-C)
	@.venv/bin/casesync demo $(if $(CONSOLE),--console $(CONSOLE))

test: up lint typecheck ## set-up, infrastructure, lint, types, the unit and integration tests
	@.venv/bin/pytest tests/unit tests/integration

test-unit: setup ## the pure tests only (no broker, no database)
	@.venv/bin/pytest tests/unit

test-integration: up ## the tests against real Kafka and PostgreSQL
	@.venv/bin/pytest tests/integration

test-clients: up ## recording from clients that are not casesync's Python: psql, Java JDBC (Maven) and HTTP
	@.venv/bin/pytest tests/integration/intake

test-browser: up ## the ops console in headless Chromium while real regions exchange events
	@.venv/bin/pytest tests/browser

# Fault tests kill, freeze and restart services: they get a stack of their own, never yours.
FAULTS_STACK := CASESYNC_RUN_DIR=$(CURDIR)/.run/faults CASESYNC_LOCAL_KAFKA_PORT=19192 \
	CASESYNC_LOCAL_POSTGRES_PORT=15532 CASESYNC_KAFKA_BOOTSTRAP= CASESYNC_DATABASE_URL=

test-faults: setup ## broker outages (dead, frozen) and restarts against real processes, on a stack of their own
	@$(FAULTS_STACK) .venv/bin/pytest tests/faults --ignore=tests/faults/test_cluster_faults.py

# The same on a three-node cluster of its own (19392-19397); ports overridable for a second checkout.
CLUSTER_KAFKA_PORT ?= 19392
CLUSTER_POSTGRES_PORT ?= 15732
CLUSTER_STACK := CASESYNC_RUN_DIR=$(CURDIR)/.run/cluster CASESYNC_KAFKA_NODES=3 \
	CASESYNC_LOCAL_KAFKA_PORT=$(CLUSTER_KAFKA_PORT) CASESYNC_LOCAL_POSTGRES_PORT=$(CLUSTER_POSTGRES_PORT) \
	CASESYNC_KAFKA_BOOTSTRAP= CASESYNC_DATABASE_URL=

# Each run starts from a freshly formatted cluster and database: what earlier runs left (a metadata
# log grown by every run, topics of an interrupted test) is not carried into the next.
test-cluster: setup ## a node lost and two of three lost under two regions' traffic, on a fresh three-node stack of its own
	@$(CLUSTER_STACK) $(PY) -m infra down >/dev/null; rm -rf $(CURDIR)/.run/cluster
	@$(CLUSTER_STACK) .venv/bin/pytest tests/faults/test_cluster_faults.py; rc=$$?; \
		$(CLUSTER_STACK) $(PY) -m infra down >/dev/null; exit $$rc

FAULT ?= kill
OUTAGE ?= 150
drill-outage: setup ## broker dead (FAULT=freeze: frozen) for OUTAGE=150 s under a running relay and consumer; prints recovery figures
	@CASESYNC_RUN_DIR=$(CURDIR)/.run/drill CASESYNC_LOCAL_KAFKA_PORT=19292 CASESYNC_LOCAL_POSTGRES_PORT=15632 \
		CASESYNC_KAFKA_BOOTSTRAP= CASESYNC_DATABASE_URL= \
		$(PY) benchmarks/drill_outage.py --fault $(FAULT) --outage $(OUTAGE) --json bench-results/outage-$(FAULT)-$(OUTAGE).json

bench: up ## every benchmark in one go; writes bench-results/*.json and BENCHMARKS.md
	@cd benchmarks && ../$(PY) run_all.py

bench-codec: setup ## encode/decode rate of the Avro codec on one core
	@cd benchmarks && ../$(PY) bench_codec.py

bench-relay: up ## relay rate beside raw kafka-python produce
	@cd benchmarks && ../$(PY) bench_relay.py

bench-consumer: up ## consumer apply rate beside its limits and a naive consumer
	@cd benchmarks && ../$(PY) bench_consumer.py

bench-e2e: up ## end-to-end throughput and sync latency, on the local broker and a three-node cluster beside it
	@cd benchmarks && ../$(PY) bench_e2e.py --cluster --json ../bench-results/e2e.json

clean: down ## stop services; remove run data (kept outside the clone too), build output and compiled modules (keeps the jar cache)
	@if [ -x $(PY) ]; then $(PY) -m infra clean; fi
	rm -rf .run build casesync/contract/_native/gen_* casesync/trust/_native/hashing_*
