"""Fuzzing (hypothesis) against the parts a stranger can reach: the webhook, the redemption API, the receipt
normaliser and QR parser, the program loader. `make fuzz` runs it long (HYPOTHESIS_PROFILE=fuzz) and writes how many
inputs each target was given to bench/fuzz.json (FUZZ_EXAMPLES inputs per target; `make test` gives each a few
dozen)."""

import json
import os
from collections import Counter

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import session_stack, stack  # noqa: F401 (the stack the webhook fuzz posts to)

TRIED: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))  # inputs per target: `make fuzz` gives thousands


@pytest.fixture
def tried():
    """Count one input given to `target`."""
    return lambda target: TRIED.update([target])


def pytest_sessionfinish(session, exitstatus):
    report = os.environ.get("FUZZ_REPORT")
    if report and TRIED:
        figures = {"inputs_tried": dict(sorted(TRIED.items())), "total": sum(TRIED.values()),
                   "failed_tests": session.testsfailed, "profile": os.environ.get("HYPOTHESIS_PROFILE", "default")}
        (ROOT / report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
