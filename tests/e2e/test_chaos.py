"""`make chaos` (bench/load.py --chaos), smaller: shoppers at once with every fault injected throughout; the run checks
that no update and no receipt was lost and none doubled."""

import pytest

from bench import load

pytestmark = pytest.mark.e2e


def test_with_faults_injected_nothing_is_lost_or_doubled() -> None:
    result = load.run(shoppers=8, with_chaos=True)
    checks, injected = result["checks"], result["faults"]["injected"]
    assert checks["passed"], checks
    # Three receipt-farm accounts and a referral ring of four among the eight: under the faults too, every farmed and
    # ring receipt is held, no honest one.
    assert (checks["farmed_receipts"], checks["farmed_held"], checks["honest_held"], checks["fraud_report_held"]) == (
        12, 12, 0, 16)
    assert (checks["ring_accounts_invited"], checks["ring_held"]) == (4, 4)
    # Each kind of fault really happened during the run.
    for fault in ("receipt_service_failures", "mindbox_503", "telegram_429", "dynamodb_throttled", "batches_killed"):
        assert injected.get(fault, 0) > 0, (fault, injected)
