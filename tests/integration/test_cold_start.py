"""Cold starts. python-telegram-bot is the bot's logic: only the webhook, which reads every update, imports it at cold
start. The senders speak the Bot API's two JSON calls themselves (adapters/bot_api.py); the accrual imports it only
when a shopper's file is first downloaded.

Each function's cold import against `import boto3` in the same run, as `make bench SECTIONS=cold_import` measures it
(loyalty_tools/cold_start.py: the template's environment, alternating rounds, medians): a function stays within its
budget (1.5 for the webhook, 2.5 for the rest) or, while that is not met yet, within the ceiling it has now
(cold_start.CEILINGS). One that grows past it fails, naming what it imports beyond boto3, heaviest first."""

import subprocess
import sys

import pytest

from loyalty_tools import cold_start
from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template
from tests.conftest import ROOT

HOST = FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")
READ_UPDATES = {"BotWebhookFunction"}


@pytest.mark.parametrize("name", sorted(HOST.specs))
def test_only_the_function_that_reads_updates_imports_python_telegram_bot(name: str) -> None:
    app = HOST.specs[name].code_dir / "app.py"
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
              "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
              "print('telegram' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], env=HOST.environment(name), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == str(name in READ_UPDATES)


def test_no_function_s_cold_import_grows_past_its_budget_or_its_ceiling() -> None:
    measured = cold_start.measure(rounds=5)
    grown = {name: round(measured.ratio(name), 2) for name in measured.seconds
             if measured.ratio(name) > cold_start.ceiling(name)}
    assert not grown, {name: {"ratio_to_boto3": ratio, "allowed": cold_start.ceiling(name),
                              "heaviest_beyond_boto3_ms": cold_start.heaviest_beyond_boto3(name)}
                       for name, ratio in grown.items()}


def test_every_function_has_a_budget_and_a_ceiling_no_lower_than_it() -> None:
    assert set(cold_start.CEILINGS) <= set(HOST.specs)  # no ceiling for a function that is gone
    assert all(cold_start.ceiling(name) >= cold_start.budget(name) for name in HOST.specs)
