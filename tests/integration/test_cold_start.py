"""Each function's cold start against `import boto3`, and what stays out of it.

python-telegram-bot is the bot's logic, and no function imports it at cold start. The webhook's edge answers a
receipt's QR code without it and loads the full bot on the first other update (flows/edge.py); the senders speak the
Bot API's two JSON calls themselves (adapters/bot_api.py); the accrual imports it only when a shopper's file is first
downloaded. PyYAML stays out too: a built function reads the program's snapshot (adapters/program_file.py)."""

import subprocess
import sys

import pytest

from loyalty_tools import cold_start
from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template
from tests.conftest import ROOT

HOST = FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")


@pytest.mark.parametrize("name", sorted(HOST.specs))
def test_no_function_imports_python_telegram_bot_or_pyyaml_at_its_cold_start(name: str) -> None:
    app = HOST.specs[name].code_dir / "app.py"
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
              "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
              "print(sorted({'telegram', 'yaml'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], env=cold_start.environment(HOST, name),
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"



def test_each_function_imports_within_its_budget_against_import_boto3() -> None:
    """The webhook within 1.5x `import boto3`, every other function within 2.5x, by what each module costs at its
    fastest over alternating importtime rounds (loyalty_tools/cold_start.py: Intrinsic): a busy machine adds waits,
    which the fastest round of each module leaves out. One past its budget is named with what it imports beyond
    boto3, heaviest first."""
    measured = cold_start.intrinsic(rounds=5)
    over = {name: {"ratio": round(measured.ratio(name), 2), "budget": cold_start.budget(name),
                   "heaviest_beyond_boto3_ms": measured.heaviest_beyond_boto3(name)}
            for name in measured.modules if measured.ratio(name) > cold_start.budget(name)}
    assert not over, over
