"""What a queue-driven flow tells its consumer (adapters/consumers.py: QueueConsumer) about a message it could not
finish: never (PermanentFailure: to the dead-letter queue at once, with the reason), later (RetryLater), or not yet
(Deferred: put back without using up a receive)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from loyalty.validation import problems

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class PermanentFailure(Exception):
    """This message can never be processed: it goes to the dead-letter queue at once, with `reason`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """Try this message again later; `delay_seconds` overrides the exponential backoff."""

    def __init__(self, reason: str, delay_seconds: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay_seconds = delay_seconds


class Deferred(RetryLater):
    """Not a failure: asked to wait (Telegram's 429 with its retry_after), the message is put back on its queue
    for later without using up one of its receives, so a burst of replies to one chat is delivered at Telegram's
    pace however long that takes, instead of reaching maxReceiveCount and the dead-letter queue."""


def parse_body(record: SQSRecord, model: Any, name: str = "") -> Any:
    """The record's body as `model` (a model or a union of them); a body that does not fit can never succeed,
    so it is permanent."""
    try:
        return _adapter(model).validate_json(record.body)
    except ValidationError as error:
        raise PermanentFailure(f"malformed {name or model.__name__}: {problems(error, 'body')}") from error


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)
