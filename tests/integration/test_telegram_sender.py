"""telegram_sender: python-telegram-bot against the Bot API emulator over HTTP, once per message."""

import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest import MonkeyPatch

from loyalty import clock
from loyalty.adapters.bot_table import BotTable, LastMessages
from loyalty.adapters.dynamo import from_item
from loyalty.adapters.queues import ChatOrderedQueue
from loyalty.contracts import OutboundMessage
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM
from tests.fakes import STACK_KEY
from tests.integration.conftest import drain, send


def control(stack: LocalStack, path: str, payload: dict[str, Any] | dict[str, int] | None = None) -> None:
    request = urllib.request.Request(stack.telegram.url + path, data=json.dumps(payload or {}).encode(),
                                     method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def transcript(stack: LocalStack, chat_id: int) -> Any:
    with urllib.request.urlopen(f"{stack.telegram.url}/emulator/chats/{chat_id}", timeout=5) as response:
        return json.load(response)


def message(chat_id: int = 801, key: str = "k1", text: str = "Привет", markup: dict[str, Any] | None = None) -> str:
    return OutboundMessage(dedupe_key=key, chat_id=chat_id, text=text, reply_markup=markup).model_dump_json()


def poll(stack: LocalStack) -> int:
    return stack.poller("OutboxQueue").poll_once()


def test_a_message_with_a_keyboard_reaches_the_chat(stack: LocalStack) -> None:
    control(stack, "/emulator/chats/801/open")
    markup = {"keyboard": [[{"text": "📱", "request_contact": True}]], "resize_keyboard": True}
    send(stack, "OutboxQueue", message(markup=markup))
    poll(stack)
    (sent,) = transcript(stack, 801)
    assert sent["text"] == "Привет" and sent["reply_markup"]["keyboard"][0][0]["request_contact"] is True


def test_a_redelivered_message_is_sent_once(stack: LocalStack) -> None:
    control(stack, "/emulator/chats/801/open")
    for _ in range(3):
        send(stack, "OutboxQueue", message())
        poll(stack)
    assert len(transcript(stack, 801)) == 1


def test_a_message_queued_again_the_next_day_is_not_sent_and_a_week_later_the_days_keys_are_gone(
        stack: LocalStack, monkeypatch: MonkeyPatch) -> None:
    """The chat's record keeps today's and yesterday's keys (a producer's retry comes within hours); each write
    drops older days', so the record stays small however long the member stays."""
    day = [datetime(2026, 12, 7, 10, tzinfo=UTC)]
    monkeypatch.setattr(clock, "now", lambda: day[0])
    sent = LastMessages(BotTable("BotTable"), STACK_KEY)
    hello = OutboundMessage(dedupe_key="k1", chat_id=801, text="Привет")
    assert sent.take(hello)
    day[0] += timedelta(days=1)
    assert not sent.take(hello)  # yesterday's key still holds
    day[0] += timedelta(days=7)
    assert sent.take(OutboundMessage(dedupe_key="k2", chat_id=801, text="Неделю спустя"))
    record = from_item(stack.aws("dynamodb").scan(TableName="BotTable")["Items"][0])
    assert sorted(name for name in record if name.startswith("sent_2")) == ["sent_20261215"]


def test_messages_held_by_a_step_are_queued_together_in_order_and_none_if_the_step_fails(stack: LocalStack) -> None:
    outbox = ChatOrderedQueue(stack.template.queue_url("OutboxQueue"))
    sent = [OutboundMessage(dedupe_key=f"h{n}", chat_id=801 + n % 2, text=f"сообщение {n}") for n in range(12)]
    before = stack.moto.counter.snapshot()
    with outbox.held():
        for message in sent:
            outbox.put(message)
        assert drain(stack, "OutboxQueue") == []  # nothing goes before the step ends
    requests = stack.moto.counter.snapshot() - before
    assert requests[("functions", "sqs", "SendMessageBatch")] == 2 and not requests[("functions", "sqs", "SendMessage")]
    bodies = [body for body, _ in drain(stack, "OutboxQueue")]
    for chat in (801, 802):
        assert [body["text"] for body in bodies if body["chat_id"] == chat] == \
            [message.text for message in sent if message.chat_id == chat]
    with pytest.raises(RuntimeError), outbox.held():
        outbox.put(sent[0].model_copy(update={"dedupe_key": "lost"}))
        raise RuntimeError("the step failed: it will put its messages again when retried")
    assert drain(stack, "OutboxQueue") == []


def test_a_chats_messages_arrive_in_the_order_they_were_produced(stack: LocalStack) -> None:
    """The outbox is FIFO with a group per chat: "+45 баллов" never arrives after the level-up it caused."""
    control(stack, "/emulator/chats/801/open")
    for n in range(1, 8):
        send(stack, "OutboxQueue", message(key=f"k{n}", text=f"сообщение {n}"))
    # Past a burst of five, Telegram lets a chat have a message a second (429 until then): the last two wait for it.
    wait_until(lambda: poll(stack) == 0 and len(transcript(stack, 801)) == 7, "seven messages delivered", 30)
    assert [entry["text"] for entry in transcript(stack, 801)] == [f"сообщение {n}" for n in range(1, 8)]


def test_a_rate_limited_chat_is_held_back_in_order_and_delivered_after_retry_after(stack: LocalStack) -> None:
    """Telegram's per-chat limit answers 429 with a second to wait: the message stays queued for it, the chat's next
    messages behind it, and all arrive in order, none twice, none parked."""
    control(stack, "/emulator/chats/801/open")
    control(stack, "/emulator/chats/801/fail", {"status": 429, "retry_after": 1, "times": 2})
    for n in (1, 2, 3):
        send(stack, "OutboxQueue", message(key=f"k{n}", text=f"сообщение {n}"))
    wait_until(lambda: poll(stack) == 0 and len(transcript(stack, 801)) == 3, "all three messages delivered", 30)
    assert [entry["text"] for entry in transcript(stack, 801)] == ["сообщение 1", "сообщение 2", "сообщение 3"]
    assert stack.queue_depth("OutboxQueue") == 0 and drain(stack, "OutboxDeadLetterQueue") == []


def test_a_long_rate_limit_holds_the_chat_back_in_the_queue_while_other_chats_go_on(stack: LocalStack) -> None:
    """The message stays queued until retry_after has passed, its chat's later messages behind it; another chat's
    message goes at once."""
    for chat in (801, 803):
        control(stack, f"/emulator/chats/{chat}/open")
    control(stack, "/emulator/chats/801/fail", {"status": 429, "retry_after": 6, "times": 1})
    send(stack, "OutboxQueue", message(key="a1", text="первое"))
    send(stack, "OutboxQueue", message(key="a2", text="второе"))
    send(stack, "OutboxQueue", message(chat_id=803, key="b1", text="другому"))
    poll(stack)
    assert [entry["text"] for entry in transcript(stack, 803)] == ["другому"]
    assert transcript(stack, 801) == [] and stack.queue_depth("OutboxQueue") == 2
    assert poll(stack) == 0  # the chat is held back for retry_after, its second message too
    wait_until(lambda: poll(stack) or transcript(stack, 801), "the held chat's messages after retry_after", 30)
    while poll(stack):
        pass
    assert [entry["text"] for entry in transcript(stack, 801)] == ["первое", "второе"]


def wait_until(condition: Callable[[], object], what: str, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)


def test_a_shopper_who_blocked_the_bot_is_skipped_without_retries(stack: LocalStack) -> None:
    control(stack, "/emulator/chats/801/open")
    control(stack, "/emulator/chats/801/block")
    send(stack, "OutboxQueue", message())
    poll(stack)
    assert stack.queue_depth("OutboxQueue") == 0 and drain(stack, "OutboxDeadLetterQueue") == []


def test_a_message_telegram_rejects_is_dead_lettered_with_telegrams_reason(stack: LocalStack) -> None:
    send(stack, "OutboxQueue", message(chat_id=802))  # a chat that never wrote to the bot
    poll(stack)
    ((_, attributes),) = drain(stack, "OutboxDeadLetterQueue")
    assert attributes["reason"] == "telegram rejected the message: Bad Request: chat not found"  # Telegram's words


def test_a_chats_message_waits_at_most_the_cap_between_tries_however_many_429s_came_before(
        stack: LocalStack, aws_env: Path) -> None:
    """Every 429 is a receive of the FIFO message: with retries doubling from 30 s, a failure after three 429s would
    hold the chat for 30 × 2³ = 240 s. MessageRetryCapSeconds caps the wait (here at one second)."""
    capped = stack.redeploy(receipts_dir=aws_env, program_file=TEST_PROGRAM, event_sources=False,
                            retry_base_seconds=30, parameter_overrides={"MessageRetryCapSeconds": "1"})
    control(capped, "/emulator/chats/801/open")
    control(capped, "/emulator/chats/801/fail", {"status": 429, "retry_after": 1, "times": 3})
    control(capped, "/emulator/chats/801/fail", {"status": 502, "description": "Bad Gateway"})
    send(capped, "OutboxQueue", message(text="дошло"))
    wait_until(lambda: poll(capped) == 0 and len(transcript(capped, 801)) == 1, "the message after 3 × 429 and a 502",
               60)
    assert [entry["text"] for entry in transcript(capped, 801)] == ["дошло"]
