# The two commands: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-unit test-soak bench clean

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

test: install
	$(BIN)/python -m pytest unit_tests integration_tests -m "not image_tests and not slow" -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest unit_tests -q -p no:cacheprovider

test-soak: install
	$(BIN)/python -m pytest unit_tests integration_tests -m "slow" -q -p no:cacheprovider

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .cache build dist *.egg-info
