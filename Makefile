# The two commands: `make run` serves the API on the embedded defaults, `make test` runs every test.
# Both set up what they need first, so a clean clone needs nothing else than Python 3.11+.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fuzz bench clean install

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	OCP_DEMO_SEED=$${OCP_DEMO_SEED:-true} $(BIN)/ocp serve

lint: $(STAMP)
	$(BIN)/ruff check ocp tests bench
	$(BIN)/ruff format --check ocp tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/users_me.py
	$(BIN)/python bench/login_stall.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
