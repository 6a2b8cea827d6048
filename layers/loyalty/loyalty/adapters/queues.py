"""SQS publishing: a flow's messages onto their queues, and what cannot be processed into a dead-letter queue.

The consumer side is adapters/consumers.py: a function that only publishes loads no batch processing."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from loyalty.adapters.aws import client
from loyalty.contracts import OutboundMessage, joined
from loyalty.domain.errors import StorageUnavailable

if TYPE_CHECKING:
    from pydantic import BaseModel


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
