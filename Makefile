# The two commands of a fresh machine: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp file: the environment is (re)installed whenever the pins or the package metadata change.
INSTALLED := $(VENV)/.installed

export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test lint unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python requirements.txt constraints.txt pyproject.toml
	$(BIN)/pip install --ignore-requires-python -r requirements.txt
	$(BIN)/pip install --no-deps -e .
	touch $@

run: $(INSTALLED)
	$(BIN)/mian run

# The whole suite, end-to-end tests included (CI); `make unit` skips those for a quick check.
test: lint $(INSTALLED)
	$(BIN)/python -m pytest -q

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(INSTALLED)
	$(BIN)/python -m pytest -q -m "not e2e"

bench: $(INSTALLED)
	$(BIN)/python bench/model_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
