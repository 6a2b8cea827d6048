"""Functions that do not talk to Telegram must not pay for importing python-telegram-bot."""

import subprocess
import sys

import pytest

from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import Template
from tests.conftest import ROOT

HOST = FunctionHost(Template(ROOT / "template.yaml"), "http://127.0.0.1:9")
SPEAK_TELEGRAM = {"BotWebhookFunction", "TelegramSenderFunction", "CampaignSenderFunction"}


@pytest.mark.parametrize("name", sorted(HOST.specs))
def test_only_functions_that_speak_telegram_import_it(name: str) -> None:
    app = HOST.specs[name].code_dir / "app.py"
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
              "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
              "print('telegram' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], env=HOST.environment(name), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == str(name in SPEAK_TELEGRAM)
