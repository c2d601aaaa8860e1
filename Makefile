# The project's commands. `make test` and `make demo` are the two the README names.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The install is editable in setuptools' strict mode: a tree of links under build/ that
# type checkers read like any installed package. A new or removed module needs a new link
# tree, so the links stamp is named after the list of source files.
SOURCES := $(shell find sdk adapters contracts simulator -name '*.py' -o -name '*.json' -o -name py.typed 2>/dev/null | sort)
LINKS := $(VENV)/.links-$(firstword $(shell echo $(SOURCES) | cksum))
EDITABLE := --config-settings editable_mode=strict
# pytest-xdist: XDIST workers (default one per core; `make pytest XDIST=0` runs serially in
# one process), tests sent out by DIST (loadgroup: like `load`, one test at a time to
# whichever worker is free, except that an xdist_group's tests share one worker).
XDIST ?= auto
DIST ?= loadgroup

.PHONY: setup test lint typecheck pytest demo bench record clean

setup: $(LINKS)

# Reinstall the dependencies only when the project's metadata changes.
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77,<81'
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(EDITABLE)
	rm -f $(VENV)/.links-*
	touch $(STAMP) $(LINKS)

$(LINKS): $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . $(EDITABLE)
	rm -f $(VENV)/.links-*
	touch $@

lint: $(LINKS)
	$(BIN)/ruff check sdk adapters contracts simulator tests bench setup.py
	$(BIN)/ruff format --check sdk adapters contracts simulator tests bench setup.py

typecheck: $(LINKS)
	$(BIN)/mypy -p exsdk

# The journal tests start throwaway PostgreSQL clusters: install the server when missing.
pytest: $(LINKS)
	.ci/postgres-server
	$(BIN)/pytest -n $(XDIST) --dist $(DIST) \
		--block-network --allowed-hosts='127.0.0.1,localhost' --record-mode=none

test: lint typecheck pytest

demo: $(LINKS)
	$(BIN)/exsdk demo

bench: $(LINKS)
	.ci/postgres-server
	$(BIN)/python -m bench

record: $(LINKS)
	$(BIN)/exsdk record

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
