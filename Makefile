# casefile: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CASEFILE_INSTANCE ?= $(CURDIR)/instance

.PHONY: install run test test-sqlite test-postgres bench load demo translations clean

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

# gunicorn (4 workers) on a throwaway PostgreSQL database, 20 advocates and 2 coordinators for 60 s;
# LOAD_ARGS="--duration 30 --advocates 10" changes the size (python -m benchmarks.load --help).
load: install
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)

demo: install
	$(BIN)/casefile db upgrade
	$(BIN)/casefile demo

# Interface catalogues: extract every marked string, merge it into each language, compile the .mo
# files (committed, so `make run` needs no extra step; tests/i18n fails when a .mo is stale).
TRANSLATIONS := casefile/translations
BABEL_KEYWORDS := -k _l -k lazy_gettext -k _nl:1,2 -k lazy_ngettext:1,2
translations: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=Translators: --no-wrap --sort-by-file \
		--project=casefile --copyright-holder=casefile -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
