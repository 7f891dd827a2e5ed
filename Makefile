# The two commands of a fresh machine: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp file: the environment is (re)installed whenever the pins or the package metadata change.
INSTALLED := $(VENV)/.installed

export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test lint unit bench clean

# Test files run in parallel on two workers, one per core of the target machine (pytest-xdist); a
# file's tests stay on one worker, so its module fixtures (a pipeline run, a server) are built once.
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# pip's output goes to a log (a failed install prints its tail): the terminal shows mian's lines.
INSTALL_LOG := $(VENV)/install.log
$(INSTALLED): $(BIN)/python requirements.txt constraints.txt pyproject.toml
	@echo "mian: installing the pinned environment into $(VENV) (a few minutes the first time; log: $(INSTALL_LOG))"
	@{ $(BIN)/pip install --ignore-requires-python -r requirements.txt \
	  && $(BIN)/pip install --no-deps -e . ; } > $(INSTALL_LOG) 2>&1 || { tail -n 30 $(INSTALL_LOG); exit 1; }
	@touch $@

run: $(INSTALLED)
	@$(BIN)/mian run

# The whole suite, end-to-end tests included (CI); `make unit` skips those for a quick check.
test: lint $(INSTALLED)
	$(PYTEST)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(INSTALLED)
	$(PYTEST) -m "not e2e"

bench: $(INSTALLED)
	$(BIN)/python bench/model_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
