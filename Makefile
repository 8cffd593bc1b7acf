# Mallrun: `make run` for the demo, `make test` for the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The newest Python >= 3.12 on this machine: python3.X on PATH, then pyenv's installs.
PYTHON_FOR_VENV := $(shell \
	for c in python3.14 python3.13 python3.12 \
	         $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
	         python3; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: run install test lint format bench demo clean help

help:
	@echo "make run      create .venv, install, migrate, load demo data, start web + task worker"
	@echo "make test     install and run the whole test suite"
	@echo "make lint     ruff check and ruff format --check"
	@echo "make bench    benchmarks (dispatch policies and cycle time) into docs/bench/"

$(VENV)/bin/python:
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
	  echo "Mallrun needs Python 3.12 or newer (Django 6). None was found on PATH or under pyenv."; \
	  echo "Install one (e.g. 'pyenv install 3.13') and run make again."; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON_FOR_VENV)"
	$(PYTHON_FOR_VENV) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python requirements.txt requirements-dev.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py createcachetable
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	@echo
	@echo "Mallrun is starting at http://$(HOST):$(PORT)/  (Ctrl-C stops web and worker)"
	@echo "Demo logins (password: mallrun): shopper, store, driver, ops"
	@echo "  shopper -> http://$(HOST):$(PORT)/        store  -> http://$(HOST):$(PORT)/store/"
	@echo "  driver  -> http://$(HOST):$(PORT)/driver/ ops    -> http://$(HOST):$(PORT)/ops/"
	@echo
	DJANGO_DEBUG=1 $(PY) manage.py serve $(HOST):$(PORT)

# axe-core for the accessibility browser tests (tests/browser/test_accessibility.py), from
# package-lock.json. Without npm the suite still runs and those tests fail saying why.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund && touch $@; \
	else echo "npm not found: the accessibility tests will fail (install Node.js 20 and npm)"; fi

test: install node_modules/axe-core/axe.min.js
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks: one command per line; each writes its results under docs/bench/.
# Dispatch: --quick uses a 10 s reference (docs/bench/dispatch-quick.md); drop it for the
# full 60 s reference run (docs/bench/dispatch.md, ~9 min). Its cycle part runs on a scratch
# SQLite database (rolled back), whatever state the local database is in.
BENCH_DB ?= sqlite:///$(or $(TMPDIR),/tmp)/mallrun-bench.sqlite3
# The whole-stack benchmark (gunicorn + wrk) runs on PostgreSQL: a scratch database it creates
# and drops (the role needs CREATEDB; `.ci/run` sets up such a role). Needs Debian's wrk.
BENCH_PG ?= postgres://mallrun:mallrun@127.0.0.1:5432/mallrun_bench
# BENCH_REDIS=redis://127.0.0.1:6379/5 adds a second table with Redis as cache, sessions, broker.
BENCH_REDIS ?=
bench: install
	DJANGO_DEBUG=1 DATABASE_URL=$(BENCH_DB) $(PY) manage.py migrate --noinput -v 0
	DJANGO_DEBUG=1 DATABASE_URL=$(BENCH_DB) $(PY) manage.py bench_dispatch --quick
	DJANGO_DEBUG=1 $(PY) manage.py bench_catalog_import --rows 5000 --limit 10 --out docs/bench/catalog-import.md
	DJANGO_DEBUG=1 $(PY) manage.py bench_pages --database $(BENCH_PG) $(if $(BENCH_REDIS),--redis $(BENCH_REDIS)) --out docs/bench.md
	DJANGO_DEBUG=1 $(PY) manage.py simulate --policy single,greedy,solver --orders 150 --drivers 20 --no-progress --out $(or $(TMPDIR),/tmp)/mallrun-simulation --bench docs/bench/simulator-quick.md

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache
