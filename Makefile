# Gremio: `make run` sets everything up and serves; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.dev

.PHONY: run dev install test test-fast lint bench lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Python packages from the pinned lock files; front-end assets from package-lock.json.
$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/base.txt -r requirements/dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

gremio/static/vendor/.copied: node_modules/.package-lock.json scripts/vendor.mjs
	npm run --silent vendor
	touch $@

install: $(VENV)/.installed gremio/static/vendor/.copied

.env:
	@echo "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env with a new SECRET_KEY"

run: install .env
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py demo --if-new --org demo --scale small --password gremio-demo
	@echo ""
	@echo "  Gremio is at   http://127.0.0.1:$(PORT)/"
	@echo "  Sign in as     admin@demo.example   password: gremio-demo"
	@echo "  (every role:   <role>@demo.example, e.g. finance@demo.example; operator: operator@gremio.example)"
	@echo ""
	@trap 'kill 0' EXIT; \
	DEBUG=0 $(BIN)/python manage.py db_worker --interval 1 & \
	DEBUG=0 $(BIN)/python manage.py scheduler & \
	DEBUG=0 $(BIN)/gunicorn config.wsgi:application --env DJANGO_SETTINGS_MODULE=$(DJANGO_SETTINGS_MODULE) \
	  --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - --log-level warning

# Autoreloading development server with tracebacks.
dev: install .env
	$(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	@scripts/test.sh

# Lint and the SQLite suite only: the quick loop while coding.
test-fast: install
	@ONLY=sqlite scripts/test.sh

bench: install
	$(BIN)/python bench/run.py

# Re-pin dependencies after editing requirements/*.in.
lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	cd requirements && ../$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links base.in -o base.txt
	cd requirements && ../$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links dev.in -o dev.txt

# Refresh the Spanish catalogue after changing interface strings.
messages: install
	$(BIN)/python manage.py makemessages -l es --no-obsolete --ignore=.venv --ignore=node_modules --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l es --ignore=.venv

clean:
	rm -rf $(VENV) node_modules gremio/static/vendor staticfiles .pytest_cache .mypy_cache .ruff_cache
