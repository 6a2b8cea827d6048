from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "receipts"  # copies of ../shared/receipts/samples (real receipts)
TEST_PROGRAM = ROOT / "tests" / "data" / "program.yaml"
