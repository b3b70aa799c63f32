# casefile: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CASEFILE_INSTANCE ?= $(CURDIR)/instance

.PHONY: install run test test-sqlite test-postgres bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/casefile db upgrade
	@$(BIN)/casefile admin-hint
	$(BIN)/casefile run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m tests.run

bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

demo: install
	$(BIN)/casefile db upgrade
	$(BIN)/casefile demo

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
