# Cloodot Contacts. The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run dev test test-unit test-e2e lint typecheck lock bench backup install clean

# The tool that writes requirements.lock (kept out of the lock and the venv).
UV_VERSION := 0.13.9

## Start the app at http://localhost:3000 (SQLite, migrated, demo data on first run) in
## demo mode: "Try the demo as ..." buttons and a demo message every few seconds.
## Production leaves CLOODOT_DEMO_MODE unset (see README, Deploying).
DEMO := CLOODOT_DEMO_MODE=$${CLOODOT_DEMO_MODE:-1}
run: install
	$(ENV) python -m cloodot_app.startup
	$(ENV) $(DEMO) reflex run --env prod

## The same with hot reload (frontend :3000, backend :8000).
dev: install
	$(ENV) python -m cloodot_app.startup
	$(ENV) $(DEMO) reflex run

## The whole test suite: lint, format, types, services and filters (SQLite + PostgreSQL),
## state, browser.
test: install
	scripts/bootstrap.sh --browser
	$(ENV) ruff check . && ruff format --check .
	$(ENV) mypy
	$(ENV) python -m pytest tests/unit tests/state -q -p no:cacheprovider
	$(ENV) python -m pytest tests/e2e -q -p no:cacheprovider

test-unit: install
	$(ENV) python -m pytest tests/unit tests/state -q -p no:cacheprovider

test-e2e: install
	scripts/bootstrap.sh --browser
	$(ENV) python -m pytest tests/e2e -q -p no:cacheprovider

lint: install
	$(ENV) ruff check . && ruff format --check .

## mypy: strict on services/ and filters/, the default level elsewhere ([tool.mypy]).
typecheck: install
	$(ENV) mypy

## Pin every dependency (dev tools too) with hashes into requirements.lock, which
## scripts/bootstrap.sh installs from. Run it after changing dependencies in pyproject.toml:
## pins already in the lock are kept; `make lock UPGRADE=1` moves every pin to the newest.
## A lock left with merge conflicts is first replaced by HEAD's: its pins are kept and what
## the merged pyproject.toml adds is resolved.
lock:
	@if grep -qE '^(<<<<<<<|=======|>>>>>>>)' requirements.lock 2>/dev/null; then \
	  echo "make lock: requirements.lock has merge conflicts: starting from HEAD's pins"; \
	  git show HEAD:requirements.lock > requirements.lock; fi
	@[ -x .tools/uv/bin/uv ] || { mkdir -p .tools && $${PYTHON:-python3} -m venv .tools/uv \
	  && .tools/uv/bin/python -m pip install -q "uv==$(UV_VERSION)"; }
	.tools/uv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" --quiet \
	  $(if $(UPGRADE),--upgrade) -o requirements.lock

bench: install
	$(ENV) python bench/query_bench.py --contacts 100000

## Back up the SQLite database while the app runs: data/backups/cloodot-YYYYMMDD-HHMMSS.db
## (or BACKUP=path). Restore: python -m cloodot_app.backup --restore FILE. PostgreSQL: pg_dump.
backup: install
	$(ENV) python -m cloodot_app.backup $(BACKUP)

install:
	@scripts/bootstrap.sh

clean:
	rm -rf .web .states data test-artifacts
