"""The consumer side shared by every queue-driven function: Powertools' batch processing, plus what a failed record
needs (a backoff, a deferral, the dead-letter queue)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.batch.exceptions import SQSFifoMessageGroupCircuitBreakerError

from loyalty.adapters.aws import client
from loyalty.adapters.queues import dead_letter, queue_url
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater
from loyalty.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

_MAX_VISIBILITY_SECONDS = 12 * 60 * 60  # SQS's own ceiling
_jitter = random.Random()  # noqa: S311 (spreading retries, not a secret)

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
