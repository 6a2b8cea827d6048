"""The local stack's wait for quiet has a bound, and when it runs out it says what is still at work."""

import pytest

from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import send


def test_a_wait_for_a_stack_that_never_goes_quiet_stops_at_its_bound_naming_what_is_busy(stack: LocalStack) -> None:
    send(stack, "ReceiptQueue", {"not": "consumed: this stack's pollers are not running"})
    send(stack, "AccrualQueue", {"nor": "this"})
    with pytest.raises(TimeoutError) as waited:
        stack.wait_idle(timeout=0.3, ceiling=1)
    assert "ReceiptQueue holds 1" in str(waited.value) and "AccrualQueue holds 1" in str(waited.value)
    stack.poller("ReceiptQueue").poll_once()
    stack.poller("AccrualQueue").poll_once()  # both refused as malformed: parked, the queues empty
    stack.wait_idle(timeout=5)
