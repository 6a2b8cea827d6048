"""Every way a shopper sends a receipt, end to end: a photo of the QR, the FNS app's file, bad inputs."""

import itertools
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.receipt_photos import Defects, receipt_photo
from tests.conftest import TEST_PROGRAM, deployed

pytestmark = pytest.mark.e2e
BRAND = "7700000024"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with tempfile.TemporaryDirectory() as receipts, open("/dev/null", "w") as quiet, deployed(
        receipts_dir=Path(receipts), program_file=TEST_PROGRAM, retry_base_seconds=0, log_stream=quiet,
    ) as stack:
        yield stack


def member(stack: LocalStack) -> Shopper:
    shopper = Shopper(stack.telegram.url, user_id=950_000 + next(_ids))
    shopper.say("/start")
    shopper.share_phone("+79161234567")
    shopper.wait_for_bot_messages(2)
    return shopper


def brand_receipt(stack: LocalStack, price: int = 45000, days_ago: int = 1) -> dict[str, Any]:
    raw = marketplace_receipt(BRAND, [("Крем", price, 1)], fd=5000 + next(_ids),
                              issued_at=datetime.now(UTC) - timedelta(days=days_ago))
    stack.receipts.add(raw)
    return raw


def test_a_photo_of_the_receipt_earns_like_its_qr_text(stack: LocalStack) -> None:
    anna = member(stack)
    photo = receipt_photo(qr_of(brand_receipt(stack)), Defects(rotate=-23, tilt=0.1, blur=0.7, width=1080))
    anna.send_photo(photo)
    assert anna.wait_for_bot_messages(4)[2:] == [
        "Чек принят, проверяю. Это займёт до минуты.",
        "+45 баллов за покупку на Wildberries. На счёте 45 баллов.",
    ]


def test_a_photo_without_a_qr_code_gets_advice(stack: LocalStack) -> None:
    anna = member(stack)
    blank = receipt_photo("x", Defects(blur=12, width=400))  # nothing readable is left
    anna.send_photo(blank)
    assert anna.wait_for_bot_messages(4)[-1].startswith("Не нашёл QR-код на фото")


def test_the_fns_app_export_with_several_receipts_is_verified_and_credited_receipt_by_receipt(
        stack: LocalStack) -> None:
    anna = member(stack)
    first, second = brand_receipt(stack, 45000, days_ago=2), brand_receipt(stack, 30000, days_ago=1)
    export: list[dict[str, Any]] = [
        {"_id": "a", "createdAt": "2026-11-20T10:00:00+00:00", "ticket": {"document": {"receipt": raw}}}
              for raw in (first, second)]
    second_claimed = dict(second, totalSum=1)  # the file lies about the sum: the service's receipt wins
    export[1]["ticket"]["document"]["receipt"] = second_claimed
    anna.send_file(json.dumps(export, ensure_ascii=False).encode(), "checks.json")
    messages = anna.wait_for_bot_messages(6)
    assert "Файл принят, чеков в нём: 2. Проверяю каждый." in messages
    assert "+45 баллов за покупку на Wildberries. На счёте 45 баллов." in messages
    assert any(text.startswith("Налоговая не нашла такой чек") for text in messages)  # the altered one


def test_a_file_that_is_not_a_receipt_gets_a_clear_answer(stack: LocalStack) -> None:
    anna = member(stack)
    anna.send_file(b"{\"hello\": 1}", "notes.json")
    assert anna.wait_for_bot_messages(4)[-1].startswith("Не получилось прочитать файл")
