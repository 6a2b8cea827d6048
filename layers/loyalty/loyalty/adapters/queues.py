"""SQS publishing and the consumer side shared by every queue-driven function."""

from __future__ import annotations

import contextlib
import hashlib
import random
import uuid
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.batch.exceptions import SQSFifoMessageGroupCircuitBreakerError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from loyalty.adapters.aws import client
from loyalty.contracts import OutboundMessage, joined
from loyalty.domain.errors import StorageUnavailable
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater

logger = Logger(child=True)

_MAX_VISIBILITY_SECONDS = 12 * 60 * 60  # SQS's own ceiling
_jitter = random.Random()  # noqa: S311 (spreading retries, not a secret)


def publish(queue_url: str, message: BaseModel) -> None:
    client("sqs").send_message(QueueUrl=queue_url, MessageBody=message.model_dump_json())


class SqsQueue:
    """One queue a flow hands its messages to (flows/ports.py: Queue)."""

    def __init__(self, url: str):
        self.url = url

    def put(self, message: BaseModel) -> None:
        publish(self.url, message)


class FifoQueue:
    """A FIFO queue (flows/ports.py: GroupedQueue): one group's messages in order, one dedupe id taken once."""

    def __init__(self, url: str):
        self.url = url

    def put(self, message: BaseModel, group: str, dedupe: str) -> None:
        client("sqs").send_message(QueueUrl=self.url, MessageBody=message.model_dump_json(), MessageGroupId=group,
                                   MessageDeduplicationId=dedupe)


class ChatOrderedQueue:
    """OutboxQueue (flows/ports.py: Outbox), a FIFO queue with one message group per chat: a chat's messages reach
    Telegram in the order they were produced ("+45 баллов" before the level-up it caused), while chats never wait
    for each other. The deduplication id is the message's own dedupe key, so a producer's retry queues it once
    (within SQS's five minutes; the sender's idempotency covers any later one)."""

    def __init__(self, url: str):
        self.queue = FifoQueue(url)
        self._held: list[OutboundMessage] | None = None

    def put(self, message: OutboundMessage) -> None:
        if self._held is not None:
            self._held.append(message)
            return
        self.queue.put(message, group=str(message.chat_id), dedupe=_dedupe_id(message))

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The messages put meanwhile go together when it ends (a chat's consecutive texts as one: contracts.joined),
        ten to a request (SendMessageBatch keeps a group's order within a batch), and not at all if it ends in an
        error: the step that put them is retried, and puts them again."""
        self._held = []
        try:
            yield
            held = joined(self._held)
        finally:
            self._held = None
        for start in range(0, len(held), 10):
            chunk = held[start:start + 10]
            answer = client("sqs").send_message_batch(QueueUrl=self.queue.url, Entries=[
                {"Id": str(n), "MessageBody": message.model_dump_json(), "MessageGroupId": str(message.chat_id),
                 "MessageDeduplicationId": _dedupe_id(message)} for n, message in enumerate(chunk)])
            if answer.get("Failed"):
                raise StorageUnavailable(f"outbox: {len(answer['Failed'])} of {len(chunk)} messages not queued")


def _dedupe_id(message: OutboundMessage) -> str:
    return hashlib.sha256(message.dedupe_key.encode()).hexdigest()


_MAX_DEFERRALS = 200  # a limit that never lifts is a bug of ours: park the message, with the reason, after this
_MAX_DELAY_SECONDS = 900  # SQS's ceiling on a message's DelaySeconds


class QueueConsumer(BatchProcessor):
    """Powertools' BatchProcessor, plus what a failed record needs.

    - A transient failure comes back after an exponential backoff (base × 2^(attempt-1)), set through the
      message's visibility timeout rather than a sleep, and after the queue's maxReceiveCount SQS moves it
      to the dead-letter queue.
    - A permanent failure (PermanentFailure) is sent to the dead-letter queue at once, with its reason as
      a message attribute, and removed from the source queue.
    """

    def __init__(self, dead_letter_queue_url: str, retry_base_seconds: int,
                 max_retry_seconds: int = _MAX_VISIBILITY_SECONDS):
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._retry(dead_letter_queue_url, retry_base_seconds, max_retry_seconds)

    def _retry(self, dead_letter_queue_url: str, retry_base_seconds: int, max_retry_seconds: int) -> None:
        self.dead_letter_queue_url = dead_letter_queue_url
        self.retry_base_seconds = retry_base_seconds
        self.max_retry_seconds = min(max_retry_seconds, _MAX_VISIBILITY_SECONDS)

    def failure_handler(self, record: SQSRecord, exception: Any) -> Any:
        error = exception[1]
        attempt = int(record.attributes.approximate_receive_count)
        if isinstance(error, PermanentFailure):
            self._dead_letter(record, error.reason)
            return self.success_handler(record=record, result=None)
        if isinstance(error, Deferred) and self._put_back(record, error):
            return self.success_handler(record=record, result=None)
        reason = getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
        delay = getattr(error, "delay_seconds", None)
        if delay is None:
            delay = self.retry_base_seconds * 2 ** (attempt - 1)
        delay = max(0, min(int(delay), self.max_retry_seconds))
        logger.warning("message failed, will retry", extra={
            "reason": reason, "message_id": record.message_id, "attempt": attempt, "retry_in_seconds": delay,
        }, exc_info=not isinstance(error, RetryLater) and not getattr(error, "retryable", False))
        self._set_visibility(record, delay)
        return super().failure_handler(record, exception)

    def _put_back(self, record: SQSRecord, error: Deferred) -> bool:
        """Send the message again, to arrive after the wait (False: it cannot be, and is retried as a failure).
        The messages refused together would all come back at the same moment and collide again, so each waits a
        random share more of a window that widens with its deferrals, and they come through one after another."""
        if record.event_source_arn.endswith(".fifo"):  # a FIFO queue has no per-message delay
            return False
        earlier = record.message_attributes["deferrals"]
        deferrals = int(earlier.string_value or 0) + 1 if earlier is not None else 1
        if deferrals > _MAX_DEFERRALS:
            self._dead_letter(record, f"{error.reason}: still waiting after {_MAX_DEFERRALS} deferrals")
            return True
        wait = error.delay_seconds or self.retry_base_seconds
        delay = wait + _jitter.uniform(0, wait * min(deferrals, 10))
        try:
            client("sqs").send_message(
                QueueUrl=queue_url(record.event_source_arn), MessageBody=record.body,
                DelaySeconds=max(0, min(int(delay), _MAX_DELAY_SECONDS)),
                MessageAttributes={"deferrals": {"DataType": "Number", "StringValue": str(deferrals)}})
        except Exception:
            logger.exception("could not put a deferred message back", extra={"message_id": record.message_id})
            return False
        logger.info("message deferred", extra={"reason": error.reason, "message_id": record.message_id,
                                               "deferrals": deferrals, "delay_seconds": int(delay)})
        return True

    @staticmethod
    def _set_visibility(record: SQSRecord, seconds: int) -> None:
        try:
            client("sqs").change_message_visibility(
                QueueUrl=queue_url(record.event_source_arn), ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except Exception:  # the queue's own visibility timeout still brings the message back
            logger.exception("could not set retry backoff", extra={"message_id": record.message_id})

    def _dead_letter(self, record: SQSRecord, reason: str) -> None:
        logger.error("message dead-lettered", extra={"reason": reason, "message_id": record.message_id})
        dead_letter(self.dead_letter_queue_url, record.body, reason, group=record.attributes.message_group_id,
                    source_queue=record.event_source_arn, source_message_id=record.message_id)


class FifoQueueConsumer(QueueConsumer, SqsFifoPartialProcessor):
    """QueueConsumer for a FIFO queue (Powertools' SqsFifoPartialProcessor underneath): a failed record holds back
    the records after it of its own group, which come back after it, in order; other groups go on. A record
    dead-lettered as permanent does not hold its group back."""

    def __init__(self, dead_letter_queue_url: str, retry_base_seconds: int,
                 max_retry_seconds: int = _MAX_VISIBILITY_SECONDS):
        SqsFifoPartialProcessor.__init__(self, skip_group_on_error=True)  # its own signature: not QueueConsumer's
        self.raise_on_entire_batch_failure = False
        self._retry(dead_letter_queue_url, retry_base_seconds, max_retry_seconds)

    def failure_handler(self, record: SQSRecord, exception: Any) -> Any:
        if isinstance(exception[1], SQSFifoMessageGroupCircuitBreakerError):
            # Held back behind a failed record of its group: visible again at once, it still waits behind that
            # one (SQS delivers a group in order), instead of locking the group for a whole visibility timeout.
            self._set_visibility(record, 0)
            return SqsFifoPartialProcessor.failure_handler(self, record, exception)
        return super().failure_handler(record, exception)


class DeadLetterQueue:
    """Where what cannot be processed is parked, with the reason beside it."""

    def __init__(self, url: str):
        self.url = url

    def park(self, body: str, reason: str, group: str | None = None, **context: str) -> None:
        dead_letter(self.url, body, reason, group, **context)


_PARKED_CHARACTERS = 200_000  # SQS takes 256 KB a message, attributes included; Cyrillic is 2 bytes a character
_PARKED_BYTES = 240_000


def dead_letter(queue_url: str, body: str, reason: str, group: str | None = None, **context: str) -> None:
    """Park a message that cannot be processed, with the reason as a message attribute beside it. A body too large
    for SQS is parked cut, and says so: its head is what an engineer needs to see what came. A FIFO message keeps
    its group, which `loyalty dlq redrive` replays it into."""
    encoded = (body or "").encode()
    if len(encoded) > _PARKED_BYTES:
        body = encoded[:_PARKED_BYTES].decode(errors="ignore")[:_PARKED_CHARACTERS]
        context = {**context, "truncated_from_bytes": str(len(encoded))}
    attributes = {"reason": reason[:1000], **context}
    fifo = {"MessageGroupId": group or "dead-letters", "MessageDeduplicationId": str(uuid.uuid4())} \
        if queue_url.endswith(".fifo") else {}
    client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=body or "(empty)",
        MessageAttributes={name: {"DataType": "String", "StringValue": value or "-"}
                           for name, value in attributes.items()},
        **fifo,
    )


def queue_url(queue_arn: str) -> str:
    """arn:aws:sqs:REGION:ACCOUNT:NAME -> the queue URL, without a GetQueueUrl round trip."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"
