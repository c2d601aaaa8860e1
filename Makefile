# The project's commands. `make test` and `make demo` are the two the README names.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint typecheck pytest demo bench record clean

setup: $(STAMP)

# Reinstall only when the project's metadata changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check sdk adapters contracts simulator tests bench
	$(BIN)/ruff format --check sdk adapters contracts simulator tests bench

typecheck: $(STAMP)
	$(BIN)/mypy sdk adapters contracts simulator

pytest: $(STAMP)
	$(BIN)/pytest --block-network --allowed-hosts='127.0.0.1,localhost' --record-mode=none

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/exsdk demo

bench: $(STAMP)
	$(BIN)/python -m bench

record: $(STAMP)
	$(BIN)/exsdk record

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
