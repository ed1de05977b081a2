# The commands users, tests and CI rely on. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every recipe runs under umask 077: what a target writes (logs, batch files,
# Meltano's run files, backups) is readable by its owner only, whatever the
# caller's umask. (A non-default .SHELLFLAGS also makes make use the shell for
# every line, so no command escapes it.)
.SHELLFLAGS := -c 'umask 077 && eval "$$0"'

.PHONY: help install env up down db-status status report metrics run-all crontab demo test test-fast lint lock bench bench-dbt clean about collector backup restore

help: ## List the commands
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Installed software is not personal data, and the embedded PostgreSQL runs as the
# `pgserver` user when we are root: it must be able to read its own binaries and
# libraries in .venv. So the install runs under umask 022, every other recipe 077.
$(STAMP): .SHELLFLAGS := -c 'umask 022 && eval "$$0"'
$(STAMP): requirements.txt constraints.txt plugins/constraints.txt sources.yml meltano.yml plugins/*/*.lock taps/*/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# Every dependency, transitive ones too, at the version in the lock (`make lock`).
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt
	@# The taps of sources.yml, resolved together with requirements.txt's pins (the
	@# first install brought PyYAML, which reading sources.yml needs).
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt \
	  $$($(BIN)/python scripts/registry.py pip-args)
	@# Installing plugins needs no bookmarks: a throwaway in-memory system database,
	@# so a fresh clone installs before the project's PostgreSQL (which keeps them) is up.
	@# The plugins' lock: uv (Meltano's default installer) reads UV_CONSTRAINT, pip PIP_CONSTRAINT.
	cd $(CURDIR) && MELTANO_DATABASE_URI=sqlite:// UV_CONSTRAINT=$(CURDIR)/plugins/constraints.txt \
	  PIP_CONSTRAINT=$(CURDIR)/plugins/constraints.txt $(BIN)/meltano install
	@# Bytecode ahead of time: with PYTHONDONTWRITEBYTECODE set (as on the dev
	@# machines) every tap, target and meltano start recompiled ~1,000 modules,
	@# about 4 s a process. Each venv is compiled by its own Python.
	for py in $(BIN)/python .meltano/*/*/venv/bin/python; do \
	  test -x $$py && $$py -m compileall -q -j 0 $$(dirname $$py)/../lib >/dev/null 2>&1 || true; done
	$(BIN)/python -m compileall -q -j 0 taps scripts >/dev/null 2>&1 || true
	touch $(STAMP)

install: $(STAMP) ## Create .venv, install Meltano, the taps and the loader

env: ## Create .env from .env.template, readable by you only (never overwrites one)
	@test ! -e .env || { echo ".env exists; not overwriting it (edit it, or move it away first)" >&2; exit 1; }
	install -m 600 .env.template .env
	@echo "created .env (mode 600): fill in your sources"

up: install ## Start the project's PostgreSQL (embedded unless .env points at one) and leave it running
	$(BIN)/python scripts/dbctl.py up
	@# Meltano creates its system tables (schema meltano) on first use, without a lock:
	@# do it here, alone, so schedules that fire together never race on it.
	$(BIN)/meltano state list >/dev/null

down: ## Stop the embedded PostgreSQL
	@test -x $(BIN)/python && $(BIN)/python scripts/dbctl.py down || true

backup: up ## Dump the bronze rows and Meltano's state together to backups/<db>-<UTC time>.dump (owner-only)
	$(BIN)/python scripts/dbctl.py backup

restore: up ## Load FILE=backups/<...>.dump into the (empty) database
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<db>-<UTC time>.dump" >&2; exit 2; }
	$(BIN)/python scripts/dbctl.py restore "$(FILE)"

db-status: install ## Say which PostgreSQL is used and whether it answers
	$(BIN)/python scripts/dbctl.py status

status: install ## Is my data fresh? Per table and pipeline; exit 1 if stale, failed or never (ACK=<table> acknowledges its invalid rows)
	$(BIN)/python scripts/status.py $(if $(ACK),--ack $(ACK))

report: install ## Write reports/index.html: freshness, rows landed, daily health and Fitabase charts in one offline page
	$(BIN)/python scripts/report.py

metrics: install ## Serve /health and Prometheus /metrics on 127.0.0.1:9464 (METRICS_PORT), in the foreground
	$(BIN)/python scripts/metrics.py

collector: install ## The HTTP collector for pushed sources on 127.0.0.1:8787 (COLLECTOR_PORT), in the foreground (COLLECTOR_TOKEN in .env; docs/collector.md)
	$(BIN)/python -m collector

run-all: install ## Run every configured source, go on past failures, exit 1 listing the failed ones
	$(BIN)/python scripts/run_all.py $(if $(RUN_ARGS),-- $(RUN_ARGS))

crontab: install ## Print crontab lines for the schedules in meltano.yml
	$(BIN)/python scripts/crontab.py

demo: up ## Run every source end to end against local fakes and samples, count bronze rows, build the marts (dbt), write the report
	$(BIN)/python scripts/demo.py

test: install ## Run the whole test suite against a real PostgreSQL
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install ## Run the unit tests only: no PostgreSQL, Meltano or tap process (pytest -m "not slow")
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install ## Check style, formatting and bronze_core's types (ruff check, ruff format --check, mypy)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

lock: ## Re-resolve every dependency into constraints.txt and plugins/constraints.txt (then make install)
	@# Not after `install`: a changed top-level pin may conflict with the old lock. The .venv of
	@# any earlier install has what it needs (uv, PyYAML).
	@test -x $(BIN)/uv || { echo "make lock needs .venv: run make install once" >&2; exit 2; }
	$(BIN)/python scripts/lock.py

bench: install ## Backfill benchmark: ours vs COPY vs dlt (BENCH_ARGS='-n 1000000 --repeat 3')
	bench/run $(BENCH_ARGS)

bench-dbt: up ## dbt full build vs incremental over the demo + a heart-rate backfill (BENCH_ARGS='-n 1000000')
	$(BIN)/python bench/dbt_bench.py $(BENCH_ARGS)

about: install ## Print each tap's settings table (--about), for every package in sources.yml
	@for tap in $$($(BIN)/python scripts/registry.py executables); do \
	  $(BIN)/$$tap --about --format=markdown || exit 1; done

.PHONY: docs
docs: install ## Rewrite the generated settings table in each taps/*/README.md (from --about)
	$(BIN)/python scripts/tap_readme.py --write

clean: down ## Remove the virtualenv, Meltano's plugin installs and the embedded database
	rm -rf $(VENV) .meltano .pgdata .pgdata.secret
