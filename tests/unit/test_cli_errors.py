"""An operator's command that cannot do its job says why in one line, and what to do, never with a traceback."""

import os
import subprocess
import sys
from typing import Any

import pytest
from pytest import MonkeyPatch

from loyalty_tools.cli import captured
from tests.conftest import ROOT

_AWS = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE")
_NO_REGION: tuple[tuple[str, ...], dict[str, str], str] = (
    ("ledger", "verify"), {}, "no AWS region: set AWS_DEFAULT_REGION")


def shell(monkeypatch: MonkeyPatch, env: dict[str, str]) -> None:
    """An operator's shell: credentials, no AWS settings but `env`, the repository as the working directory."""
    for name in _AWS:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1", **env}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)


def says_in_one_line(code: int, stderr: str, says: str) -> None:
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip().count("\n") == 0 and stderr.startswith(f"error: {says}"), stderr


@pytest.mark.parametrize(("args", "env", "says"), [
    _NO_REGION,
    (("ledger", "verify"), {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
     "cannot reach http://127.0.0.1:9"),
    (("ledger", "adjust", "1", "10", "--reason", "r", "--reference", "t", "--program", "nowhere.yaml"),
     {"AWS_DEFAULT_REGION": "eu-central-1"}, "cannot read program file nowhere.yaml"),
])
def test_a_command_that_cannot_work_says_why_in_one_line(monkeypatch: MonkeyPatch, args: Any, env: dict[str, str],
                                                         says: str) -> None:
    shell(monkeypatch, env)
    code, _, stderr = captured(list(args))
    says_in_one_line(code, stderr, says)


def test_the_command_an_operator_types_runs_in_its_own_process_and_says_the_same() -> None:
    """The smoke test of `python -m loyalty_tools.cli` itself: every other test runs its `main` in-process."""
    args, env, says = _NO_REGION
    clean = {name: value for name, value in os.environ.items() if name not in _AWS}
    done = subprocess.run([sys.executable, "-m", "loyalty_tools.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False,
                          env={**clean, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                               "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/loyalty", "infra", ".")),
                               **env})
    says_in_one_line(done.returncode, done.stderr, says)
