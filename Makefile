# The two commands: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo lint test test-unit test-soak test-latest-cdk bench clean
# Parallel workers for `make test`: most tests wait on the sandbox, so more workers than cores pay.
TEST_WORKERS ?= 4
PYTEST := -m pytest -q -p no:cacheprovider

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
	$(BIN)/python $(PYTEST) -n $(TEST_WORKERS) --dist worksteal unit_tests integration_tests -m "not image_tests and not slow"

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
	$(LATEST_CDK_VENV)/bin/python $(PYTEST) -n $(TEST_WORKERS) --dist worksteal unit_tests integration_tests -m "not image_tests and not slow"

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) $(LATEST_CDK_VENV) .cache build dist *.egg-info
