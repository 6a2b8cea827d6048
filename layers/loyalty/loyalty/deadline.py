"""How long the current invocation may still run, so a retry loop gives up in time.

A loop that retries past the function's timeout is killed mid-way and its "gave up" path never runs. The
handler's `@invocation_deadline` takes the end from the Lambda context; a loop asks `enough_for(pause)`
before it sleeps and, when the answer is no, raises a retryable domain error that still has a second
to be logged and reported (SQS redelivers the message, the site retries the request).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

_MARGIN_SECONDS = 1.0  # to write the failure down, log it and answer
_ends: ContextVar[float | None] = ContextVar("invocation_ends", default=None)


@contextmanager
def running_for(seconds: float) -> Iterator[None]:
    """The current invocation must be done within `seconds` (from now)."""
    token = _ends.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _ends.reset(token)


@lambda_handler_decorator
def invocation_deadline(handler: Callable[[Any, Any], Any], event: Any, context: Any) -> Any:
    with running_for(context.get_remaining_time_in_millis() / 1000):
        return handler(event, context)


def seconds_left() -> float:
    """Until the invocation's end (infinite outside one: a CLI, a test)."""
    ends = _ends.get()
    return math.inf if ends is None else ends - time.monotonic()


def enough_for(seconds: float) -> bool:
    """Whether `seconds` more (a pause, then one more try) still leave the margin to report a failure."""
    return seconds_left() - _MARGIN_SECONDS > seconds
