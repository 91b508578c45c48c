# Two commands: `make run` (set up and serve on SQLite with demo data) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install setup translations messages lint clean worker

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

# Jobs, mail and the schedule (RQ on REDIS_URL, else polling the database; `make run` without
# Redis needs no worker: its own background thread runs them).
worker: install translations
	$(BIN)/flask --app app worker

test: install translations
	$(BIN)/ruff check consult tests tools app.py
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

messages: install
	$(BIN)/python tools/translations.py

lint: install
	$(BIN)/ruff check consult tests tools app.py

clean:
	rm -rf $(VENV) instance/consult.db
