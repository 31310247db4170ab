# Two commands for a new user:  `make app` runs the app on the bundled corpus, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: app test test-fast setup lint index eval bench screenshot

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

app: setup
	$(PY) app.py

lint: setup
	$(PY) -m ruff check assistant tests app.py
	$(PY) -m ruff format --check assistant tests app.py
	$(PY) -m mypy assistant app.py

test: lint
	$(PY) -m pytest

# The inner loop: no browser, no LLM server, nothing marked slow (a small real library, the real model).
test-fast: setup
	$(PY) -m pytest -m "not slow and not browser and not llm" -x -q

index: setup
	$(VENV)/bin/assistant index

eval: setup
	$(VENV)/bin/assistant eval

bench: setup
	$(VENV)/bin/assistant bench

screenshot: setup
	$(PY) -m assistant.app.screenshot docs
