# The two commands: `make run` serves the API on the embedded defaults, `make test` runs every test.
# Both set up what they need first, so a clean clone needs nothing else than Python 3.11+.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# newman runs the Postman collection in `make test`; installed locally, pinned, from npm.
NEWMAN := .tools/node_modules/.bin/newman
# The typed TypeScript client's tools (tsc, its generator, tus-js-client), as its lock pins them.
TS_CLIENT := clients/ts/node_modules/.installed

.PHONY: run test lint fuzz bench clean install

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Locally, no Node means the Postman test is skipped; in CI (CI=true) it is an error instead,
# so the collection cannot silently stop being run.
$(NEWMAN):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-save --no-audit --no-fund --prefix .tools newman@6.2.2; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "npm not found: CI must run the Postman collection (install Node.js)" >&2; exit 1; \
	else echo "npm not found: the Postman collection test will be skipped"; fi

$(TS_CLIENT): clients/ts/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --prefix clients/ts && touch $@; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "npm not found: CI must run the TypeScript client's tests (install Node.js)" >&2; exit 1; \
	else echo "npm not found: the TypeScript client's tests will be skipped"; fi

run: $(STAMP)
	OCP_DEMO_SEED=$${OCP_DEMO_SEED:-true} $(BIN)/ocp serve

lint: $(STAMP)
	$(BIN)/ruff check ocp tests bench
	$(BIN)/ruff format --check ocp tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint $(NEWMAN) $(TS_CLIENT)
	$(BIN)/python -m pytest

# Hostile input for longer than make test's bounded run: many examples per operation, every
# schemathesis check (allowances in schemathesis.toml).
fuzz: $(STAMP)
	OCP_FUZZ_EXAMPLES=$${OCP_FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest tests/integration/test_hostile_input.py

bench: $(STAMP)
	$(BIN)/python bench/users_me.py
	$(BIN)/python bench/login_stall.py
	$(BIN)/python bench/observability.py
	$(BIN)/python bench/mixed.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .tools clients/ts/node_modules clients/ts/dist
