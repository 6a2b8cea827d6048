# Two commands matter: `make demo` and `make test`. Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test unit integration e2e bench lint check-template serve clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)  ## a shopper's journey on the embedded local stack
	$(BIN)/loyalty local demo

serve: $(STAMP)  ## the local stack, until Ctrl-C
	$(BIN)/loyalty local serve

test: $(STAMP)  ## unit, integration (moto) and end-to-end (local stack) tests
	$(BIN)/python -m pytest

unit integration e2e: $(STAMP)
	$(BIN)/python -m pytest tests/$@

bench: $(STAMP)  ## figures in bench/results.json
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

clean:
	rm -rf $(VENV) .local .pytest_cache bench/results.json
