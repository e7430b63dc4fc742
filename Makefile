# Cloodot Contacts. The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run dev test test-unit test-e2e lint bench backup install clean

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

## The whole test suite: lint, services and filters (SQLite + PostgreSQL), state, browser.
test: install
	scripts/bootstrap.sh --browser
	$(ENV) ruff check . && ruff format --check .
	$(ENV) python -m pytest tests/unit tests/state -q -p no:cacheprovider
	$(ENV) python -m pytest tests/e2e -q -p no:cacheprovider

test-unit: install
	$(ENV) python -m pytest tests/unit tests/state -q -p no:cacheprovider

test-e2e: install
	scripts/bootstrap.sh --browser
	$(ENV) python -m pytest tests/e2e -q -p no:cacheprovider

lint: install
	$(ENV) ruff check . && ruff format --check .

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
