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

.PHONY: run test lint fuzz bench clean install lock

# Every dependency from the lock, exact and hash-checked; then the project itself, editable,
# with nothing resolved (--no-deps) and built by the locked setuptools (--no-build-isolation).
$(STAMP): pyproject.toml requirements/dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The locks (requirements/*.txt), rewritten from pyproject.toml by a pinned uv: run it after
# changing a dependency; `make lock UPGRADE=--upgrade` takes the newest releases allowed.
# Universal (markers, every platform's hashes) from CPython 3.11 up: the dev venv and the
# image's 3.12 use the same pins. The image's runtime lock is the dev lock's subset.
UV_VERSION := 0.13.9
UV := .tools/uv-$(UV_VERSION)/bin/uv
LOCK = UV_CUSTOM_COMPILE_COMMAND='make lock' $(UV) pip compile --quiet --universal \
	--python-version 3.11 --generate-hashes $(UPGRADE)

$(UV):
	$(PY) -m venv .tools/uv-$(UV_VERSION)
	.tools/uv-$(UV_VERSION)/bin/python -m pip install --quiet uv==$(UV_VERSION)

lock: $(UV)
	$(LOCK) pyproject.toml requirements/build.in --extra dev --extra embedded -o requirements/dev.txt
	$(LOCK) pyproject.toml -c requirements/dev.txt -o requirements/prod.txt
	$(LOCK) requirements/build.in -c requirements/dev.txt -o requirements/build.txt

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
