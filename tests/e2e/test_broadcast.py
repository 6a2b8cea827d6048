"""A broadcast to 150 members on the local stack: it goes out at the campaigns' pace, with no 429 from the
Telegram emulator (which enforces Telegram's limits), and a shopper's "+N баллов" overtakes it — transactional
messages have their own queue and their own room under the limit."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import clock
from loyalty.adapters.dynamo import to_item
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import buy, join, schedule, seed_stack

pytestmark = pytest.mark.e2e
AT = datetime(2027, 3, 1, 9, tzinfo=UTC)
AUDIENCE = 150
NEWS = "Весенняя распродажа на сайте Лепесток: −20% на всё до 8 марта."


def spring_sale(document: dict[str, Any]) -> None:
    document["campaigns"].append({"name": "spring_sale", "kind": "broadcast", "segment": "reachable",
                                  "at": AT.isoformat(), "messages": {"ru": {"text": NEWS}}})


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(spring_sale) as stack:
        yield stack


def broadcast(stack: LocalStack) -> list[dict[str, Any]]:
    """The broadcast's messages as the emulator received them: their ids, which number every message in order."""
    with stack.telegram.state.lock:
        return sorted(entry["message_id"] for transcript in stack.telegram.state.transcripts.values()
                      for entry in transcript if entry.get("text") == NEWS)


def test_a_broadcast_goes_out_paced_once_each_and_a_purchase_message_overtakes_it(stack: LocalStack) -> None:
    dynamodb = stack.aws("dynamodb")
    for n in range(AUDIENCE):  # members who joined long ago (their chats with the bot exist)
        member_id = 8_100_000 + n
        dynamodb.put_item(TableName="MembersTable", Item=to_item({
            "member_id": str(member_id), "chat_id": member_id, "language": "ru", "version": 0,
            "joined_at": clock.stamp(AT - timedelta(days=100))}))
        stack.telegram.state.transcripts.setdefault(member_id, [])
    shopper = join(stack)
    stack.travel(AT + timedelta(hours=1))
    rejected_before = stack.telegram.state.limits.rejected

    started = time.monotonic()
    stack.run_schedules(at=stack.now())  # queues the broadcast; the sender starts at once
    buy(stack, shopper, d2c=True)  # waits until everything is idle: the broadcast too
    finished = time.monotonic()

    points_message = next(entry for entry in stack.telegram.state.transcripts[shopper.chat_id]
                          if entry.get("text", "").startswith("+45 баллов"))
    assert len(broadcast(stack)) == AUDIENCE + 1  # every member, and the shopper, once
    assert points_message["message_id"] < broadcast(stack)[-1]  # it did not wait for the broadcast to end
    assert stack.telegram.state.limits.rejected == rejected_before  # never past Telegram's limits
    assert (AUDIENCE + 1) / (finished - started) <= 30
    schedule(stack, stack.now() + timedelta(hours=1))  # the next hourly run: a broadcast goes out once
    assert len(broadcast(stack)) == AUDIENCE + 1
