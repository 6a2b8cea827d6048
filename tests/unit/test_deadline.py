"""The invocation's deadline: taken from the Lambda context, asked by retry loops."""

import math
from typing import Any

from loyalty import deadline


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_handler_decorator_takes_the_end_from_the_lambda_context_and_forgets_it_after() -> None:
    @deadline.invocation_deadline
    def handler(event: dict[str, Any], context: Any) -> Any:
        return deadline.seconds_left(), deadline.enough_for(3.5), deadline.enough_for(4.5)

    left, some, too_much = handler({}, Context(5_500))
    assert 5.0 < left <= 5.5 and some and not too_much  # one second stays to report a failure
    assert deadline.seconds_left() == math.inf and deadline.enough_for(10**6)  # outside an invocation


def test_a_budget_nests_and_unwinds() -> None:
    with deadline.running_for(10):
        with deadline.running_for(2):
            assert deadline.seconds_left() <= 2
        assert 2 < deadline.seconds_left() <= 10
