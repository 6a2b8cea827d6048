"""The fraud layer wired on the local stack: a shop the program does not list, whose till many members send receipts
from in a day, gets every receipt held (those credited before the rule tripped, once it does); the staff chat
approves one (its points are released once) and rejects another (the shopper is told why); `loyalty fraud report`
counts them."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper, StaffChat
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.e2e.journeys import PROGRAM, SUPPLIER, join, letter, loyalty, member, seed_stack

STAFF = present(PROGRAM.bot.staff_chat_id)
SHOP_INN, SHOP_FN = "7700000055", "9960440300000001"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    def two_members_a_till(document: dict[str, Any]) -> None:
        document["fraud"]["rules"] = [{"rule": "till_members", "threshold": 2}]

    with seed_stack(two_members_a_till) as stack:
        stack.travel(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
        stack.telegram.limit(chat_burst=100)
        yield stack


def shop_receipt(stack: LocalStack, shopper: Shopper, fd: int) -> None:
    """The brand's cream (its supplier INN on the line) from a shop the program does not list."""
    raw = marketplace_receipt(SUPPLIER, [("Лепесток крем для рук 50 мл", 45_000, 1)], fd, seller_inn=SHOP_INN,
                              seller="ИП Фермер", retail_place="Ларёк у метро", fn=SHOP_FN,
                              issued_at=stack.now() - timedelta(hours=1))
    stack.receipts.add(raw)
    shopper.say(qr_of(raw))
    stack.wait_idle()


def test_a_farmed_till_is_held_decided_in_the_staff_chat_once_and_reported(stack: LocalStack) -> None:
    staff = StaffChat(stack.telegram.url, STAFF)
    shoppers = [join(stack, name=name) for name in ("Ира", "Оля", "Катя", "Нина")]
    for fd, shopper in enumerate(shoppers, start=701):
        shop_receipt(stack, shopper, fd)
    first, _, third, fourth = shoppers
    assert any(text.startswith("+45 баллов") for text in first.bot_messages())  # credited, then …
    # … held once found out (news they did not ask for: a letter, in the day)
    assert letter(stack, first, "отправлен на проверку").startswith(
        "Чек из магазина «Ларёк у метро» отправлен на проверку")
    assert (int(member(stack, first)["available"]), int(member(stack, first)["pending"])) == (100, 45)
    assert third.bot_messages()[-1].startswith("Чек из магазина «Ларёк у метро» принят и отправлен на проверку")
    waiting = member(stack, third)
    asked = [text for text in staff.bot_messages() if text.startswith("🔎 Чек #")]
    assert len(asked) == 4 and all("с этой кассы сегодня прислали чеки многие участники" in text for text in asked)
    staff.tap("✅ Засчитать", under=f"Участник: {third.chat_id},")
    staff.tap("✅ Засчитать", under=f"Участник: {third.chat_id},")  # a double tap decides once
    staff.tap("❌ Отклонить", under=f"Участник: {fourth.chat_id},")
    stack.wait_idle()
    released = member(stack, third)
    assert (int(released["available"]), int(released["pending"])) == (
        int(waiting["available"]) + 45, int(waiting["pending"]) - 45)
    assert letter(stack, third, "проверен") == "Чек из магазина «Ларёк у метро» проверен, спасибо! +45 баллов."
    assert "не можем начислить за него баллы" in letter(stack, fourth, "не можем начислить")
    assert int(member(stack, fourth)["pending"]) == 0

    code, out, _ = loyalty(stack, "fraud", "report", "--json")
    report = json.loads(out)
    assert code == 0 and (report["held"], report["approved"], report["rejected"], report["points_saved"]) == (
        4, 1, 1, 45)  # every farmed receipt held, the first two once the farm showed
    assert report["waiting"] == 2 and report["by_rule"] == {"till_members": {"held": 4, "approved": 1,
                                                                               "rejected": 1}}
    code, out, _ = loyalty(stack, "ledger", "verify")
    assert code == 0, out


def test_a_brand_item_not_in_the_loaded_serials_is_reported_as_grey_by_where_it_was_bought(
        stack: LocalStack, tmp_path: Any) -> None:
    export = tmp_path / "chestny-znak.csv"
    export.write_text("GTIN;Серийный номер\n04607012345678;ORIGINAL-1\n0104607012345678ORIGINAL-2\n"
                      "010460701234567821ORIGINAL-3\x1d91EE06\x1d92sig\n", encoding="utf-8")
    code, out, _ = loyalty(stack, "fraud", "serials", str(export))
    assert code == 0 and json.loads(out) == {"loaded": 2, "skipped_lines": 2}
    shopper = join(stack, name="Вера")
    raw = marketplace_receipt(SUPPLIER, [("Лепесток крем для рук 50 мл", 45_000, 1)], 801,
                              issued_at=stack.now() - timedelta(hours=1))  # Wildberries
    raw["items"][0]["productCodeNew"] = {"gs1m": {"gtin": "04607012345678", "sernum": "COPY-0001"}}
    stack.receipts.add(raw)
    shopper.say(qr_of(raw))
    stack.wait_idle()
    assert any(text.startswith("+45 баллов") for text in shopper.bot_messages())  # the shipped choice: it earns
    code, out, _ = loyalty(stack, "fraud", "report", "--json")
    report = json.loads(out)
    assert report["grey_items"] == 1
    assert report["grey_by_place"] == {"wildberries, Wildberries (ИНН 9714053621)": 1}
    code, text, _ = loyalty(stack, "fraud", "report")
    assert "Товары не из оборота бренда (серый рынок или подделка): 1" in text
