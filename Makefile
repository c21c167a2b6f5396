# Two commands matter: `make demo` and `make test`. Everything else is a building block.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
# A version request, not a path: a path through a version-manager shim never equals the interpreter the
# virtual environment records, so uv would rebuild .venv on every call (and under a running demo).
export UV_PYTHON ?= 3.11
export UV_PYTHON_DOWNLOADS ?= never
PYTEST_ARGS ?=
# `make demo` also runs the platform simulator with a demo Tmall shop whose orders keep coming (SHOPS=0: without).
SHOPS ?= 1
SIM_PORT ?= 8116

.PHONY: install demo serve test lint typecheck check bench bench-smoke fault fuzz messages clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m pip install --quiet --target $(CURDIR)/.tools uv

install: $(UV)
	$(UV) sync --frozen
	$(UV) run python -m oms.reports.assets

demo: install
	$(UV) run oms setup
	$(UV) run oms demo-data
	$(UV) run oms create-admin --remember var/demo-admin-password
	@echo "Console: http://$(HOST):$(PORT)/   Admin: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/docs"
ifeq ($(SHOPS),1)
	@echo "Platform simulator: http://127.0.0.1:$(SIM_PORT)/ (TMALL pulls its demo shop every 30 s: console → Shops 店铺)"
	OMS_CONNECTORS_CALLBACK_URL=http://$(HOST):$(PORT) $(UV) run oms connectors demo-connect --url http://127.0.0.1:$(SIM_PORT)
	bash -c '$(UV) run oms connectors simulator --demo --port $(SIM_PORT) & sim=$$!; trap "kill $$sim" EXIT; \
		OMS_CONNECTORS_CALLBACK_URL=http://$(HOST):$(PORT) $(UV) run oms serve $(HOST):$(PORT)'
else
	$(UV) run oms serve $(HOST):$(PORT)
endif

test: install
	$(UV) run pytest $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .

typecheck: install
	$(UV) run mypy .

check: lint typecheck
	$(UV) run python manage.py makemigrations --check --dry-run
	SECRET_KEY=$$($(UV) run python -c "import secrets; print(secrets.token_urlsafe(64))") ALLOWED_HOSTS=oms.example.com \
		DJANGO_SETTINGS_MODULE=config.settings.prod $(UV) run python manage.py check --deploy --fail-level WARNING

# Benchmarks on PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/oms_bench, recreated).
bench: install
	$(UV) run python -m bench.run_all $(BENCHES)

# Every benchmark in a small size (seconds each; CI runs it so none can rot); figures go to var/bench-smoke.
bench-smoke: install
	$(UV) run python -m bench.run_all --smoke $(BENCHES)

# Fault run: orders posted with retries while the web process, PostgreSQL (a cluster of its own) and the
# Celery worker are killed; every acknowledged order exactly once, no drift, no message lost. ARGS=--short: CI's.
fault: install
	$(UV) run python scripts/fault_run.py $(ARGS)

# The API contract as a test: schemathesis against the app served on a fresh PostgreSQL database (FUZZ_DB,
# default oms_ci_fuzz, recreated; scripts/api_fuzz.sh lists the other settings). FUZZ_ARGS go to schemathesis.
fuzz: install
	scripts/api_fuzz.sh $(FUZZ_ARGS)

# Translations (developers; needs GNU gettext): refresh the catalogue, then compile the committed .mo.
messages: install
	$(UV) run python manage.py makemessages -l zh_Hans -i ".venv/*" -i ".tools/*" -i "var/*" -i "bench/*" --no-location
	$(UV) run python manage.py compilemessages -l zh_Hans

clean:
	rm -rf var .venv .tools
