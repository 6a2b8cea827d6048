"""An operator's command that cannot do its job says why in one line, and what to do, never with a traceback."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

_AWS = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE")


def loyalty(*args, **env):
    clean = {name: value for name, value in os.environ.items() if name not in _AWS}
    done = subprocess.run([sys.executable, "-m", "loyalty_tools.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False,
                          env={**clean, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1",
                               "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/loyalty", "infra", ".")),
                               **env})
    return done.returncode, done.stderr


@pytest.mark.parametrize(("args", "env", "says"), [
    (("ledger", "verify"), {}, "no AWS region: set AWS_DEFAULT_REGION"),
    (("ledger", "verify"), {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
     "cannot reach http://127.0.0.1:9"),
    (("ledger", "adjust", "1", "10", "--reason", "r", "--reference", "t", "--program", "nowhere.yaml"),
     {"AWS_DEFAULT_REGION": "eu-central-1"}, "cannot read program file nowhere.yaml"),
])
def test_a_command_that_cannot_work_says_why_in_one_line(args, env, says):
    code, stderr = loyalty(*args, **env)
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip().count("\n") == 0 and stderr.startswith(f"error: {says}"), stderr
