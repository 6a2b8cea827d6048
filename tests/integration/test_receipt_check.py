"""point_accrual's receipt check: real SQS records from AccrualQueue, the receipt-service emulator over HTTP, moto.
An accepted receipt is credited in the same delivery (the accrual's own tests: test_point_accrual.py)."""

import json
import urllib.request
from typing import Any

import pytest

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.contracts import ReceiptSubmitted, Shopper, TelegramFile
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import bodies, drain, send

BRAND_SUPPLIER = "7700000024"  # in tests/data/program.yaml


def submit(stack: LocalStack, raw: dict[str, Any], submission: str = "tg-update:1", member: str = "601") -> None:
    MembersRepository("MembersTable").join(member, int(member), "ru")
    stack.receipts.add(raw)
    message = ReceiptSubmitted(submission_id=submission, qr=qr_of(raw),
                               shopper=Shopper(member_id=member, chat_id=int(member), language="ru"))
    send(stack, "AccrualQueue", message.model_dump_json())


def poll(stack: LocalStack) -> int:
    return stack.poller("AccrualQueue").poll_once()


def points(member: str = "601") -> int:
    """What the member was credited: pending until the marketplace's return period ends, then available."""
    found = MembersRepository("MembersTable").get(member)
    return found.available + found.pending if found else 0


def told(stack: LocalStack, chat: int = 601) -> list[str]:
    return [body["text"] for body in bodies(stack, "OutboxQueue") if body["chat_id"] == chat]


def control(stack: LocalStack, path: str, payload: dict[str, int]) -> None:
    request = urllib.request.Request(stack.receipts.url + path, data=json.dumps(payload).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def brand_receipt(fd: int = 1, **kwargs: Any) -> dict[str, Any]:
    return marketplace_receipt(BRAND_SUPPLIER, [("Крем", 45000, 2), ("Сыворотка", 129000, 1)], fd=fd, **kwargs)


def test_a_receipt_with_brand_goods_is_claimed_and_credited_in_the_same_delivery(stack: LocalStack) -> None:
    submit(stack, brand_receipt())
    poll(stack)
    (entry,) = LedgerRepository("LedgerTable", "MembersTable").entries("601")
    assert (entry.details.brand_sum_kopecks, entry.details.channel, entry.details.submission_id) == (
        219000, "wildberries", "tg-update:1")
    assert points() > 0 and told(stack)[0].startswith(f"+{points()} баллов за покупку на Wildberries")
    assert stack.queue_depth("AccrualQueue") == 0


def test_the_same_receipt_from_another_submission_is_refused_as_already_registered(stack: LocalStack) -> None:
    submit(stack, brand_receipt(), submission="tg-update:1", member="601")
    submit(stack, brand_receipt(), submission="tg-update:2", member="602")
    poll(stack)
    assert points("601") > 0 and points("602") == 0
    (reply,) = told(stack, 602)
    assert reply.startswith("Этот чек уже зарегистрирован")


def test_a_redelivered_submission_is_credited_once_not_refused(stack: LocalStack) -> None:
    submit(stack, brand_receipt())
    poll(stack)
    once = points()
    submit(stack, brand_receipt())  # the same message delivered again: the claim finds itself, the ledger its entry
    poll(stack)
    assert points() == once > 0
    assert not [text for text in told(stack) if "уже зарегистрирован" in text]


def test_a_receipt_the_service_does_not_know_is_reported_to_the_shopper(stack: LocalStack) -> None:
    raw = brand_receipt()
    message = ReceiptSubmitted(submission_id="tg-update:9", qr=qr_of(raw),
                               shopper=Shopper(member_id="601", chat_id=601, language="ru"))
    MembersRepository("MembersTable").join("601", 601, "ru")
    send(stack, "AccrualQueue", message.model_dump_json())  # never added to the emulator
    poll(stack)
    (reply,) = told(stack)
    assert reply.startswith("Налоговая не нашла такой чек")
    assert stack.queue_depth("AccrualQueue") == 0 and points() == 0


def test_a_receipt_without_brand_goods_names_the_store(stack: LocalStack) -> None:
    submit(stack, marketplace_receipt("7700000099", [("Чайник", 250000, 1)], fd=2))
    poll(stack)
    (reply,) = bodies(stack, "OutboxQueue")
    assert "Wildberries" in reply["text"] and "нет товаров Тест-Бренд" in reply["text"]


def test_a_refund_receipt_earns_nothing(stack: LocalStack) -> None:
    submit(stack, brand_receipt(operation=2))
    poll(stack)
    (reply,) = told(stack)
    assert "возврата" in reply and points() == 0


def test_a_busy_service_is_retried_with_backoff_and_then_succeeds(stack: LocalStack) -> None:
    control(stack, "/emulator/fail", {"code": 2, "times": 1})
    control(stack, "/emulator/fail", {"http_status": 503, "times": 1})
    submit(stack, brand_receipt())
    poll(stack)  # code 2: not ready yet
    assert points() == 0 and stack.queue_depth("AccrualQueue") == 1
    poll(stack)  # HTTP 503
    assert points() == 0
    poll(stack)
    assert points() > 0 and stack.queue_depth("AccrualQueue") == 0


def test_after_the_last_attempt_the_shopper_is_told_and_the_message_is_dead_lettered(stack: LocalStack) -> None:
    attempts = int(stack.template.parameters["ReceiptFetchAttempts"])
    control(stack, "/emulator/fail", {"code": 5, "times": attempts})
    submit(stack, brand_receipt())
    for _ in range(attempts):
        poll(stack)
    (reply,) = told(stack)
    assert reply.startswith("Чек задерживается") and "присылать заново не нужно" in reply
    ((body, attributes),) = drain(stack, "AccrualDeadLetterQueue")
    assert body["submission_id"] == "tg-update:1"
    assert attributes["reason"] == (f"gave up after {attempts} attempts: receipt service unavailable: "
                                    "receipt service code 5 (scripted failure)")
    assert stack.queue_depth("AccrualQueue") == 0


@pytest.mark.parametrize("file_id, refusal", [("gone", "Invalid file_id"), ("huge", "File is too big")])
def test_a_photo_telegram_will_not_serve_is_parked_at_once_with_the_reason_and_the_shopper_told(
        stack: LocalStack, file_id: str, refusal: str) -> None:
    stack.telegram.state.files["huge"] = ("photos/huge.jpg", b"\xff" * 64)
    stack.telegram.state.download_limit = 32  # stands for the Bot API's 20 MB
    MembersRepository("MembersTable").join("601", 601, "ru")
    message = ReceiptSubmitted(submission_id="tg-update:7", file=TelegramFile(file_id=file_id, kind="photo"),
                               shopper=Shopper(member_id="601", chat_id=601, language="ru"))
    send(stack, "AccrualQueue", message.model_dump_json())
    poll(stack)  # the first attempt: no retry of what can never work
    (reply,) = told(stack)
    assert reply.startswith("Telegram не отдал нам этот файл")
    ((body, attributes),) = drain(stack, "AccrualDeadLetterQueue")
    assert body["submission_id"] == "tg-update:7"
    assert attributes["reason"] == f"telegram will not serve the shopper's file: {refusal}"
    assert stack.queue_depth("AccrualQueue") == 0


def test_a_poison_message_goes_to_the_dead_letter_queue_at_once_with_its_reason(stack: LocalStack) -> None:
    send(stack, "AccrualQueue", "this is not json")
    poll(stack)
    assert stack.queue_depth("AccrualQueue") == 0
    ((body, attributes),) = drain(stack, "AccrualDeadLetterQueue")
    assert body == "this is not json" and attributes["reason"].startswith("malformed AccrualQueue message")
    assert attributes["source_queue"].endswith(":AccrualQueue")
