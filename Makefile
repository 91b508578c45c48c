# Two commands: `make run` (set up and serve on SQLite with demo data) and `make test` (lint,
# import contracts and the suite);
# `make serve` runs the production-like stack (gunicorn, and the worker when there is one).
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

# `make serve` listens on the loopback addresses only; BIND='[::]:5000' takes every address.
BIND ?= 127.0.0.1:$(PORT),[::1]:$(PORT)

.PHONY: run serve worker test install setup translations messages lint clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

translations: install
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d translations; fi

setup: install translations
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo

run: setup
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

serve: install translations
	$(BIN)/flask --app app db upgrade
	@worker=; \
	if $(BIN)/flask --app app worker --help >/dev/null 2>&1; then \
		$(BIN)/flask --app app worker & worker=$$!; \
		echo "worker started (pid $$worker)"; \
	fi; \
	trap 'if [ -n "$$worker" ]; then kill $$worker 2>/dev/null; wait $$worker; fi' EXIT INT TERM; \
	BIND='$(BIND)' $(BIN)/gunicorn --config gunicorn.conf.py
# Jobs, mail and the schedule (RQ on REDIS_URL, else polling the database; `make run` without
# Redis needs no worker: its own background thread runs them).
worker: install translations
	$(BIN)/flask --app app worker

test: install translations lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

messages: install
	$(BIN)/python tools/translations.py

# ruff, and the import contracts of .importlinter (the layers and the domain order).
lint: install
	$(BIN)/ruff check consult tests tools bench app.py
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance/consult.db
