"""python-telegram-bot is the bot's logic, and no function imports it at cold start. The webhook's edge answers a
receipt's QR code without it and loads the full bot on the first other update (flows/edge.py); the senders speak the
Bot API's two JSON calls themselves (adapters/bot_api.py); the accrual imports it only when a shopper's file is first
downloaded."""

import subprocess
import sys

import pytest

from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template
from tests.conftest import ROOT

HOST = FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")


@pytest.mark.parametrize("name", sorted(HOST.specs))
def test_no_function_imports_python_telegram_bot_at_its_cold_start(name: str) -> None:
    app = HOST.specs[name].code_dir / "app.py"
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
              "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
              "print('telegram' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], env=HOST.environment(name), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "False"
