import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "receipts"  # copies of ../shared/receipts/samples (real receipts)
TEST_PROGRAM = ROOT / "tests" / "data" / "program.yaml"

from hypothesis import settings  # noqa: E402

# `HYPOTHESIS_PROFILE=deep make test` searches far longer than the default run.
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
