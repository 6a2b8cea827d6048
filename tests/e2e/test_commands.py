"""The commands a newcomer types: `loyalty local demo` and `loyalty local serve`."""

import io
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from loyalty_tools.local.demo import run_demo

pytestmark = pytest.mark.e2e


def test_the_demo_plays_the_journey_and_exits_0():
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert "shopper › /start" in text and "[shares contact +7 916…67]" in text
    assert "балла за покупку в Wildberries. Они станут доступны" in text and "Этот чек уже зарегистрирован" in text
    assert "ваш новый уровень — «Подруга»" in text and "стали доступны. На счёте 383 балла" in text
    assert "Ваш промокод:" in text and "Последние операции:" in text
    assert "Available: 183 балла, held for the promo code: 200 (expected 183" in text


def test_serve_answers_on_its_port_and_stops_cleanly_on_ctrl_c():
    process = subprocess.Popen([sys.executable, "-m", "loyalty_tools.cli", "local", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        webhook = process.stdout.readline().split()[-1]
        assert webhook.endswith("/telegram/webhook")
        request = urllib.request.Request(webhook, data=json.dumps({"update_id": 1}).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403  # no secret token: the same webhook as in the cloud
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
