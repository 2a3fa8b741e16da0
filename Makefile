# The two commands: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo lint test test-interleavings test-unit test-soak test-latest-cdk test-image bench clean
# Parallel workers for `make test`: most tests wait on the sandbox, so more workers than cores pay
# (981 tests on 2 cores: 4 min 1 s with 4 workers, 3 min 26 s with 6).
TEST_WORKERS ?= 6
PYTEST := -m pytest -q -p no:cacheprovider
# The standard suite's Docker tests, the long runs (make test-soak) and the image (make test-image).
NOT_IN_MAKE_TEST := not image_tests and not slow and not connector_image

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

demo: install
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy source_customerio

test: install
	$(BIN)/python $(PYTEST) -n $(TEST_WORKERS) --dist worksteal unit_tests integration_tests -m "$(NOT_IN_MAKE_TEST)"

# `make test` with every request's answer 0-20 ms late at random, so the engine's workers finish in
# other orders: a test that holds only for one interleaving fails here rather than once in a while in CI.
test-interleavings: install
	$(BIN)/python $(PYTEST) -n $(TEST_WORKERS) --dist worksteal unit_tests integration_tests -m "$(NOT_IN_MAKE_TEST)" \
		--response-jitter-ms 20

test-unit: install
	$(BIN)/python $(PYTEST) unit_tests

test-soak: install
	$(BIN)/python $(PYTEST) unit_tests integration_tests -m "slow"

# The suite against the newest airbyte-cdk 7.x, in a venv of its own: an upgrade is this one command,
# then the pin in pyproject.toml and requirements.lock.
LATEST_CDK_VENV := .venv-latest-cdk
test-latest-cdk:
	rm -rf $(LATEST_CDK_VENV)
	$(PYTHON) -m venv $(LATEST_CDK_VENV)
	$(LATEST_CDK_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(LATEST_CDK_VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(LATEST_CDK_VENV)/bin/python -m pip install --quiet --upgrade "airbyte-cdk>=7,<8"
	$(LATEST_CDK_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(LATEST_CDK_VENV)/bin/python -m pip show airbyte-cdk | grep ^Version
	$(LATEST_CDK_VENV)/bin/python $(PYTEST) -n $(TEST_WORKERS) --dist worksteal unit_tests integration_tests -m "$(NOT_IN_MAKE_TEST)"

# Build the connector image (on a stand-in base where the pinned one cannot be pulled), run spec,
# check, discover and read inside it against the sandbox as its non-root user, then the standard
# suite's image tests on it. Needs a Docker daemon (see scripts/build_image.sh).
IMAGE ?= airbyte/source-customerio:dev
test-image: install
	IMAGE=$(IMAGE) bash scripts/build_image.sh
	CONNECTOR_IMAGE=$(IMAGE) $(BIN)/python $(PYTEST) integration_tests/test_image.py -m connector_image
	REAL_DOCKER="$$(command -v docker)" PATH="$(CURDIR)/scripts/host-network-docker:$$PATH" \
		$(BIN)/python $(PYTEST) integration_tests/test_airbyte_standards.py -m image_tests --connector-image $(IMAGE)

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) $(LATEST_CDK_VENV) .cache build dist *.egg-info
