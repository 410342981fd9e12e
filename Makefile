# misure: `make run` (migrations + the embedded scheduler on SQLite) and `make test`.
# Both install what they need: a virtualenv pinned by constraints.txt, WeasyPrint's system
# libraries if missing, and (for tests) a running PostgreSQL.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test lint unit bench screenshots install system-deps postgres clean

# The main job: migrate, load the demo into an empty database, start the Prefect server (UI at
# http://127.0.0.1:4200/v2/), the work pool, every deployment of prefect.yaml, a worker and the
# court API. `make run HOST=0.0.0.0 PORT=4300 API_PORT=8500` listens elsewhere (set on the
# command line: these assignments ignore the environment's PORT or HOST).
HOST = 127.0.0.1
PORT = 4200
API_PORT = 8400
run: install
	$(BIN)/misure stack --host $(HOST) --port $(PORT) --api-port $(API_PORT)

test: install postgres lint
	MISURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install postgres
	MISURE_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.engine
	$(BIN)/python -m bench.durability
	MISURE_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.placement_sweep
	$(BIN)/python -m bench.latency
	MISURE_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.api_load
	MISURE_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.protocol
	$(BIN)/python -m bench.cli_startup

# The README's pictures of issued notices (first pages, pdftoppm from poppler-utils).
# The Prefect UI's shots (docs/prefect-*.png) need a running stack whose publish-case-pages has
# published the case pages (~4 min after `pronto`): `make run PORT=4310 API_PORT=8410`, then
# `make screenshots`; without one they are skipped.
UI = http://127.0.0.1:4310
screenshots: install
	@command -v pdftoppm >/dev/null || apt-get install -y -qq poppler-utils
	$(BIN)/python -m tests.support.screenshots
	@if curl -sf $(UI)/api/health >/dev/null; then \
		command -v chromium >/dev/null || apt-get install -y -qq chromium; \
		$(BIN)/python -m tests.support.ui_screenshots --ui $(UI); \
	else echo "no Prefect UI at $(UI): docs/prefect-*.png not retaken"; fi

install: system-deps $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# WeasyPrint needs Pango, HarfBuzz's subsetter (deterministic PDFs) and a font; install them
# from Debian if they are missing.
system-deps:
	@if ! /sbin/ldconfig -p | grep -q 'libpangoft2-1.0.so.0' \
		|| ! /sbin/ldconfig -p | grep -q 'libharfbuzz-subset.so.0' \
		|| ! fc-list 2>/dev/null | grep -qi 'dejavu serif'; then \
		echo "installing WeasyPrint's system libraries"; \
		apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
			libharfbuzz-subset0 fonts-dejavu-core fontconfig; \
	fi

# Start the local PostgreSQL if it is down; fail (never skip) if it cannot be reached.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	}
	@pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
