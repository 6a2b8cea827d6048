"""`loyalty dlq list|redrive`: what the dead-letter queues hold and why, and replaying one into the queue it came from
once the cause (an outage, a bug since fixed) is gone.

The queue a dead-letter queue belongs to is read from the redrive policies, so the same command works on the local
stack (queues named after their logical ids) and on a deployed one (names prefixed by the stack). The replay sends
each message to its source queue and only then deletes it from the dead-letter queue: a crash in between replays
it twice, which the consumers' idempotency turns into one effect. (SQS's own StartMessageMoveTask does the same
in the cloud, but moto has no such call, and the command must be proven on the local stack.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loyalty.adapters.aws import client
from loyalty.observability import redacted

_PEEK_VISIBILITY = 30  # seconds a listed message stays hidden while the listing collects the rest


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    url: str
    source_url: str | None  # None: it parks what never was in a queue (the webhook's refused updates)

    @property
    def source_name(self) -> str | None:
        return self.source_url.rsplit("/", 1)[-1] if self.source_url else None


class UnknownQueue(Exception):
    pass


def dead_letter_queues() -> list[DeadLetterQueue]:
    sqs = client("sqs")
    urls = sqs.list_queues(MaxResults=1000).get("QueueUrls", [])
    sources: dict[str, str] = {}  # dead-letter queue ARN -> the URL of the queue it takes from
    for url in urls:
        policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        if "RedrivePolicy" in policy:
            sources[json.loads(policy["RedrivePolicy"])["deadLetterTargetArn"]] = url
    found = []
    for url in urls:
        name = url.rsplit("/", 1)[-1]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if arn in sources or "DeadLetter" in name:
            found.append(DeadLetterQueue(name, url, sources.get(arn)))
    return sorted(found, key=lambda queue: queue.name)


def _named(queue: DeadLetterQueue, name: str) -> bool:
    return name in (queue.name, queue.source_name)


def _named_in(queue: DeadLetterQueue, name: str) -> bool:
    return any(name in candidate for candidate in (queue.name, queue.source_name or ""))


def find(name: str) -> DeadLetterQueue:
    """A dead-letter queue by its name or its source queue's name, whole or the logical id inside it."""
    queues = dead_letter_queues()
    for wanted in (_named, _named_in):
        matches = [queue for queue in queues if wanted(queue, name)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnknownQueue(f"{name!r} names {len(matches)} queues ({', '.join(q.name for q in matches)}): "
                               "give the whole name")
    known = ", ".join(q.name for q in queues) or "none"
    raise UnknownQueue(f"no dead-letter queue called {name!r} or fed by it (dead-letter queues: {known})")


def list_queues() -> int:
    sqs = client("sqs")
    for queue in dead_letter_queues():
        count = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"])
        print(f"{queue.name:40} {int(count['Attributes']['ApproximateNumberOfMessages']):>7}  "
              f"from {queue.source_name or '(the webhook: not replayable)'}")
    return 0


def list_messages(name: str, limit: int) -> int:
    """Each parked message: when, after how many receives, why, and the head of its body (phones masked)."""
    queue = find(name)
    messages = _peek(queue.url, limit)
    for message in messages:
        attributes = message.get("Attributes", {})
        custom = {k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()}
        sent = datetime.fromtimestamp(int(attributes.get("SentTimestamp", "0")) / 1000, UTC)
        reason = custom.get("reason") or f"moved by SQS after {attributes.get('ApproximateReceiveCount', '?')} " \
                                          "failed receives (the consumer gave no reason)"
        print(f"{sent:%Y-%m-%d %H:%M:%S}Z  {message['MessageId']}  {redacted(reason)}")
        print(f"    {redacted(message['Body'][:160])}")
    print(f"{len(messages)} message(s) in {queue.name}" + (f" (first {limit} shown)" if len(messages) >= limit
                                                              else ""))
    return 0


def redrive(name: str) -> int:
    queue = find(name)
    if queue.source_url is None:
        raise UnknownQueue(f"{queue.name} holds updates the webhook refused, not messages of a queue: there is "
                           "nothing to replay them into (read them with `loyalty dlq list`)")
    sqs, moved = client("sqs"), 0
    # What is parked now, and no more: a message that fails again while this runs is parked again, and must not be
    # replayed round and round. A FIFO queue hands out a group's messages in order, and each batch is replayed in
    # the order it was parked (one member's CRM events must reach the CRM in the order they happened).
    parked = int(sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"])
                 ["Attributes"]["ApproximateNumberOfMessages"])
    while moved < parked:
        batch = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=min(10, parked - moved),
                                    VisibilityTimeout=60, MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for message in sorted(batch, key=_parked_order):
            sqs.send_message(QueueUrl=queue.source_url, MessageBody=message["Body"], **_fifo(queue, message))
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    print(f"replayed {moved} message(s) from {queue.name} into {queue.source_name}")
    return 0


def _parked_order(message: dict[str, Any]) -> tuple[int, int]:
    attributes = message.get("Attributes", {})
    return int(attributes.get("SentTimestamp", 0)), int(attributes.get("SequenceNumber", 0))


def _fifo(queue: DeadLetterQueue, message: dict[str, Any]) -> dict[str, str]:
    """A FIFO source needs a group (the one the message had) and a deduplication id (one per parked message, so
    replaying it twice within SQS's five minutes sends it once)."""
    if not (queue.source_url or "").endswith(".fifo"):
        return {}
    group = message.get("Attributes", {}).get("MessageGroupId")
    group = "redriven" if group in (None, "dead-letters") else group
    return {"MessageGroupId": group, "MessageDeduplicationId": f"redrive-{message['MessageId']}"}


def _peek(url: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` messages, each once, made visible again afterwards: listing takes nothing away."""
    sqs, seen = client("sqs"), dict[str, dict[str, Any]]()
    while len(seen) < limit:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                    VisibilityTimeout=_PEEK_VISIBILITY, MessageAttributeNames=["All"],
                                    MessageSystemAttributeNames=["All"]).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in seen]
        if not fresh:
            break
        seen.update((message["MessageId"], message) for message in fresh)
    for message in seen.values():
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return sorted(seen.values(), key=lambda m: int(m.get("Attributes", {}).get("SentTimestamp", "0")))
