# Two commands matter: `make demo` and `make test`. Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/dev.lock | cksum | cut -d' ' -f1)
# The lock files pin the whole dependency tree; `make lock` regenerates them from pyproject.toml with uv.
UV_VERSION := 0.13.9
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --custom-compile-command 'make lock'
# setuptools tells every editable install to beware of folders named like the package in the working directory;
# there are none here (the packages live in layers/ and infra/), so that notice is noise on a first `make`.
EDITABLE := PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet --no-deps -e

# Compiled modules are kept (__pycache__, git-ignored) even where the shell says not to write them
# (PYTHONDONTWRITEBYTECODE): each test worker, CLI process and function would otherwise compile every module of ours
# and rewrite every test module's asserts again, half of a worker's start-up.
export PYTHONDONTWRITEBYTECODE :=

# SAM CLI pins its own boto3 and friends, so it lives in a venv of its own.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam

.PHONY: install demo test busy unit integration e2e docs screenshots chromium bench load chaos fuzz lint lock check-template serve clean

$(STAMP): pyproject.toml requirements/dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(EDITABLE) .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)  ## a shopper's journey on the embedded local stack (ARGS=--keep: then chat with the bot yourself)
	$(BIN)/loyalty local demo $(ARGS)

serve: $(STAMP)  ## the local stack, until Ctrl-C
	$(BIN)/loyalty local serve

test: $(STAMP) chromium  ## unit, integration (moto), end-to-end (local stack, headless Chromium) and fuzz tests, on every core
	$(BIN)/python -m pytest

# The tests that lean hardest on timing (the sending pace, a broadcast at Telegram's pace, the bot's dialogs, the
# cold starts against boto3), once more beside a CPU hog on every core: they must not depend on how fast the machine is.
BUSY_TESTS := tests/integration/test_pacing.py tests/integration/test_telegram_sender.py tests/e2e/test_broadcast.py \
	tests/e2e/test_bot.py tests/integration/test_cold_start.py
busy: $(STAMP) chromium  ## the timing-sensitive tests again with stress-ng loading every core
	@command -v stress-ng >/dev/null || (apt-get update -qq && apt-get install -y -qq stress-ng) \
		|| (echo "make busy needs stress-ng: apt-get install stress-ng" && false)
	stress-ng --cpu 0 --timeout 1200s --quiet & hog=$$!; \
		$(BIN)/python -m pytest $(BUSY_TESTS); status=$$?; kill $$hog; exit $$status

# The page tests drive Debian's chromium (Playwright, no browser download); the emoji font draws the bot's buttons.
chromium:
	@(command -v chromium >/dev/null && fc-list | grep -qi "color emoji") \
		|| (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji) \
		|| (echo "the page tests need Debian's chromium: apt-get install chromium fonts-noto-color-emoji" && false)

screenshots: $(STAMP) chromium  ## docs/miniapp-*.png, web-chat.png, console-*.png from the page tests
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_miniapp_page.py tests/e2e/test_web_chat.py \
		tests/e2e/test_console_page.py -q

unit integration: $(STAMP)
	$(BIN)/python -m pytest tests/$@

e2e: $(STAMP) chromium
	$(BIN)/python -m pytest tests/$@

docs: $(STAMP)  ## docs/bot.md's dialogs rewritten from the bot's end-to-end tests
	UPDATE_DOCS=1 $(BIN)/python -m pytest tests/e2e/test_bot.py -q

bench: $(STAMP)  ## figures in bench/results.json (SECTIONS="crm member_import" for only those)
	$(BIN)/python -m pip install --quiet -r requirements/bench.lock
	@ldconfig -p | grep -q libzbar || (apt-get update -qq && apt-get install -y -qq libzbar0) \
		|| (echo "pyzbar needs libzbar0: apt-get install libzbar0" && false)
	$(BIN)/python -m bench $(SECTIONS)

load: $(STAMP)  ## 100 shoppers at once through the webhook, then every receipt checked credited once: bench/load.json
	$(BIN)/python -m bench.load $(ARGS)

chaos: $(STAMP)  ## the same run with faults injected throughout: bench/chaos.json
	$(BIN)/python -m bench.load --chaos $(ARGS)

FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)  ## FUZZ_EXAMPLES generated inputs for each fuzz target (default 1000): counts in bench/fuzz.json
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_REPORT=bench/fuzz.json $(BIN)/python -m pytest -q tests/fuzz \
		tests/e2e/test_redemption_api_contract.py

# The Lambda layer's requirements (Python 3.12 on arm64, as template.yaml deploys it) and the tools' locks.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) --python-version 3.12 --python-platform aarch64-manylinux_2_28 -o layers/loyalty/requirements.txt
	$(UV_COMPILE) --universal --python-version 3.11 --extra dev -o requirements/dev.lock
	$(UV_COMPILE) --universal --python-version 3.11 --extra dev --extra bench -o requirements/bench.lock

lint: $(STAMP)  ## ruff (complexity limit 12); mypy strict (pydantic plugin) on the package, the tools, the handlers, bench/ and the tests
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy --explicit-package-bases functions
	$(BIN)/mypy tests bench

# What `sam build` and `sam deploy` would reject, checked before a brand runs them: the template, then `sam build`
# as a deploy runs it (arm64 wheels for Python 3.12), then what it built: each function with its layers within
# Lambda's 250 MB, every native library aarch64, each function importing under Python 3.12 with only its code, the
# layer and its template environment (infra/loyalty_tools/build_check.py). `sam build` wants python3.12 on the path:
# pyenv's 3.12 here, or the system's.
PYTHON_312 ?= $(shell PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || command -v python3.12)
check-template: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	test -x $(SAM_VENV)/bin/sam || ($(PYTHON) -m venv $(SAM_VENV) && \
		$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION))
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --region eu-central-1
	@test -n "$(PYTHON_312)" || (echo "sam build needs python3.12 (pyenv install 3.12, or the system's)" && false)
	PATH="$(dir $(PYTHON_312)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --build-dir .local/sam-build \
		--cache-dir .local/sam-cache --cached
	PATH="$(dir $(PYTHON_312)):$$PATH" $(BIN)/python -m loyalty_tools.build_check .local/sam-build

clean:
	rm -rf $(VENV) $(SAM_VENV) .local .pytest_cache bench/results.json
