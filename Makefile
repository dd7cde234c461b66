# Two entry points: `make run` (install, load data if the store is empty, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?=
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,embeddings]'
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --loglevel=error && $(BIN)/python -m trialfinder.web.assets; fi
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/trialfinder init $(if $(SOURCE),--source "$(SOURCE)")
	$(BIN)/trialfinder serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules trialfinder-data
