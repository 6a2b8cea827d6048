"""The program's CRM settings on the local stack (a stack of its own: they are the program's): requests to
Mindbox spaced by its rate limit, and a Mindbox too slow to answer in time, whose calls are retried and applied
once all the same."""

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, SERUM, buy, join, member, seed_stack

pytestmark = pytest.mark.e2e


def slow_crm(document: dict[str, Any]) -> None:
    document["crm"]["mindbox"]["requests_per_minute"] = 120  # one request every half second
    document["crm"]["mindbox"]["timeout_seconds"] = 1


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(slow_crm, retry_base_seconds=1, parameter_overrides={"CrmRetryCapSeconds": "2"}) as stack:
        yield stack


@pytest.fixture(autouse=True)
def fresh(stack: LocalStack) -> Iterator[None]:
    stack.reset()
    yield
    stack.mindbox.delay_seconds = 0


def test_the_program_rate_limit_spaces_the_requests(stack: LocalStack) -> None:
    ann = join(stack)
    buy(stack, ann, CREAM, SERUM)  # the receipt's three requests come from one message, back to back
    arrivals = [op["at"] for op in stack.mindbox.state()["operations"]]
    assert len(arrivals) == 5
    # Each request leaves at its slot, half a second after the one before, and reaches Mindbox a little later:
    # how much later depends on how busy the machine is (up to half a second seen in CI). So any k requests
    # apart are at least k slots apart, less one slot of that lag; unpaced, the receipt's three would arrive
    # within a few milliseconds of each other.
    lag = 0.5
    for (i, earlier), (j, later) in itertools.combinations(enumerate(arrivals), 2):
        assert later - earlier >= (j - i) * 0.5 - lag, arrivals


def test_a_mindbox_slower_than_the_timeout_is_retried_and_applies_each_call_once(stack: LocalStack) -> None:
    stack.mindbox.delay_seconds = 1.5  # it applies what it was sent, but answers after we gave up
    stack.backlogged.add("CrmQueue")
    ann = join(stack)
    stack.wait_idle()
    stack.mindbox.delay_seconds = 0
    stack.backlogged.clear()
    stack.wait_idle(timeout=60)
    state = stack.mindbox.state()
    assert state["counts"]["TransactionAlreadyProcessed"] >= 1  # the retry of a call that had been applied
    assert [op["operation"] for op in state["operations"] if op["status"] == "Success"] == [
        "Telegram.RegisterCustomer", "Telegram.ChangeBalance"]
    assert state["balances"][str(ann.chat_id)] == int(member(stack, ann)["available"])
