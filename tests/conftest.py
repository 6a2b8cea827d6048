import json
import os
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "receipts"  # copies of ../shared/receipts/samples (real receipts)
TEST_PROGRAM = ROOT / "tests" / "data" / "program.yaml"

from hypothesis import settings  # noqa: E402

# `HYPOTHESIS_PROFILE=deep make test` searches far longer than the default run.
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The fuzzers (tests/fuzz, and the redemption API's contract test) give each target FUZZ_EXAMPLES inputs and count
# them; `make fuzz` gives thousands and writes the counts to FUZZ_REPORT (bench/fuzz.json).
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
_TRIED: Counter[str] = Counter()


@pytest.fixture
def tried():
    """Count one input given to `target`."""
    return lambda target: _TRIED.update([target])


def pytest_sessionfinish(session, exitstatus):
    report = os.environ.get("FUZZ_REPORT")
    if report and _TRIED:
        figures = {"inputs_tried": dict(sorted(_TRIED.items())), "total": sum(_TRIED.values()),
                   "failed_tests": session.testsfailed, "examples_per_target": FUZZ_EXAMPLES}
        (ROOT / report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
