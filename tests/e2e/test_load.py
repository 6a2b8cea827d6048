"""`make load` (bench/load.py), smaller: a dozen shoppers at once from their own process; the run checks that no update
and no receipt was lost and none doubled (the same with every fault injected: test_chaos.py, a file of its own so
another worker runs it meanwhile)."""

import pytest

from bench import load

pytestmark = pytest.mark.e2e


def test_shoppers_at_once_lose_and_double_nothing() -> None:
    result = load.run(shoppers=12, with_chaos=False)
    checks = result["checks"]
    assert checks["passed"], checks
    # Eight send eleven updates each (the ring's inviter one more: /invite), the ring's four accounts six.
    assert checks["updates_sent"] == 8 * 11 + 1 + 4 * 6 and checks["distinct_receipts"] == 8 * 4 + 4
    assert checks["credited_once"] == checks["distinct_receipts"] and checks["lost"] == checks["doubled"] == 0
    # Three of the twelve are receipt-farm accounts and four a referral ring's (invited by the fourth, each sending
    # one receipt and never another): every farmed and ring receipt is held (the first ones once the farm or the
    # ring showed), no honest one is, and `loyalty fraud report` counts them by rule.
    assert (checks["farmed_receipts"], checks["farmed_held"], checks["honest_held"]) == (12, 12, 0)
    assert (checks["ring_accounts_invited"], checks["ring_receipts"], checks["ring_held"]) == (4, 4, 4)
    assert checks["fraud_report_held"] == 16
    assert checks["fraud_report_by_rule"] == {"till_members": 12, "idle_friends": 4}
    assert result["webhook_answer_ms"]["p50"] > 0 and result["throughput"]["webhook_calls_per_second"] > 0
    # Every line logged in the run (the functions' and every library's, at INFO and above) was read for the shoppers'
    # phones and the stack's secrets: the bot token, the webhook secret, the API key, the receipt and CRM tokens.
    assert checks["log_lines_read"] > checks["updates_sent"]  # at least a line for each update handled
    assert checks["phones_or_secrets_in_logs"] == 0


def test_the_log_check_finds_a_phone_however_written_and_a_secret() -> None:
    lines = "\n".join(["member 8000001 joined", "+7 (926) 000-00-01 shared", "call 89260000001", "7926000000 short",
                       "token 123:abc-DEF in a URL"])
    assert load.leaked(lines, ["+79260000001"], ["123:abc-DEF"]) == [
        "+7 (926) 000-00-01 shared", "call 89260000001", "token 123:abc-DEF in a URL"]
