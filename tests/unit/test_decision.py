"""What can be decided from a receipt and the program alone."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.adapters.program_file import load_program
from loyalty.domain.decision import assess, order_fingerprint, refunded_share
from loyalty.domain.matching import match_brand_goods
from loyalty.domain.names import name_matches, normalise_name
from loyalty.domain.receipt import MOSCOW, normalise_one
from loyalty_tools.local.receipts import marketplace_receipt
from tests.conftest import TEST_PROGRAM, present

PROGRAM = load_program(TEST_PROGRAM)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BRAND = "7700000024"


def receipt(lines: Any = (("Крем", 45000, 2),), fd: int = 1, days_ago: float = 1.0, **kwargs: Any) -> dict[str, Any]:
    raw = marketplace_receipt(BRAND, list(lines), fd=fd, issued_at=NOW - timedelta(days=days_ago), **kwargs)
    return raw


def test_a_fresh_receipt_with_brand_goods_accrues() -> None:
    result = assess(normalise_one(receipt()), PROGRAM, NOW)
    assert result.decision == "accrue"
    assert [reason.code for reason in result.reasons] == ["channel", "brand_line", "order_role", "accrue"]


@pytest.mark.parametrize(("change", "code"), [
    ({"days_ago": 31}, "too_old"),
    ({"days_ago": -1}, "future"),
    ({"operation": 3}, "not_a_sale"),
    ({"lines": (("Крем", 5, 1),)}, "too_small"),
])
def test_refusals_name_their_reason(change: dict[str, Any], code: str) -> None:
    result = assess(normalise_one(receipt(**change)), PROGRAM, NOW)
    assert result.decision == "reject" and present(result.first_refusal).code == code


def test_a_far_east_receipt_read_as_moscow_time_is_not_taken_for_the_future() -> None:
    khabarovsk_local = (NOW + timedelta(hours=7)).astimezone(MOSCOW)  # 7 hours ahead of Moscow, written locally
    raw = receipt(days_ago=0)
    raw["dateTime"] = khabarovsk_local.strftime("%Y-%m-%dT%H:%M:%S")
    assert assess(normalise_one(raw), PROGRAM, NOW).decision == "accrue"


def test_a_refund_receipt_is_a_reversal() -> None:
    result = assess(normalise_one(receipt(operation=2)), PROGRAM, NOW)
    assert result.decision == "reverse" and result.reasons[-1].code == "refund"


def test_prepayment_and_settlement_of_one_order_share_a_fingerprint() -> None:
    prepay = receipt(fd=1)
    for item in prepay["items"]:
        item.update(paymentType=1, productType=10)
    prepay.update(prepaidSum=0, ecashTotalSum=prepay["totalSum"])
    settle = receipt(fd=2, days_ago=0.1)  # paymentType 4, covered by prepaidSum
    first, second = (assess(normalise_one(raw), PROGRAM, NOW) for raw in (prepay, settle))
    assert (first.order_role, second.order_role) == ("prepayment", "settlement")
    assert first.order_fingerprint == second.order_fingerprint
    other_order = assess(normalise_one(receipt(lines=(("Крем", 45000, 3),), fd=3)), PROGRAM, NOW)
    assert other_order.order_fingerprint != first.order_fingerprint


def test_an_ordinary_purchase_has_no_order_role() -> None:
    raw = receipt()
    raw["prepaidSum"] = 0
    assert assess(normalise_one(raw), PROGRAM, NOW).order_role is None


def test_fingerprint_ignores_spelling_but_not_price() -> None:
    one = normalise_one(receipt(lines=(("КРЕМ  для рук", 45000, 1),)))
    two = normalise_one(receipt(lines=(("крем для рук", 45000, 1),), fd=2))
    three = normalise_one(receipt(lines=(("крем для рук", 45100, 1),), fd=3))
    fingerprints = [order_fingerprint(r, match_brand_goods(r, PROGRAM)) for r in (one, two, three)]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_refunded_share_matches_lines_by_name_and_price() -> None:
    purchase = match_brand_goods(normalise_one(receipt(lines=(("Крем", 45000, 2), ("Сыворотка", 129000, 1)))),
                                 PROGRAM).lines
    partial = match_brand_goods(normalise_one(receipt(lines=(("КРЕМ", 45000, 1),), fd=2)), PROGRAM).lines
    stranger = match_brand_goods(normalise_one(receipt(lines=(("Маска", 45000, 1),), fd=3)), PROGRAM).lines
    assert refunded_share(partial, purchase) == (45000, 219000)
    assert refunded_share(stranger, purchase) is None


@pytest.mark.parametrize(("item", "pattern", "matches"), [
    ("ТЕСТ-БРЕНД Крем", "Тест-Бренд", True),
    ("Kpeм Тест бренд", "крем", True),  # Latin K, p, e
    ("Ёлочка крем", "елочка", True),
    ("Тестбренд", "Тест-Бренд", False),  # whole words only
    ("", "крем", False),
])
def test_name_matching_folds_case_yo_lookalikes_and_spaces(item: str, pattern: str, matches: bool) -> None:
    assert name_matches(item, pattern) is matches


def test_normalised_names_are_stable() -> None:
    assert normalise_name("  Крем   д/рук, 50 МЛ ") == "крем д рук 50 мл"


def test_fingerprint_is_scoped_by_the_buyer_contact_or_else_by_the_member() -> None:
    raw = receipt()
    plain = normalise_one(raw)
    with_buyer = normalise_one({**raw, "buyerPhoneOrAddress": "Buyer@Example.com "})
    other_buyer = normalise_one({**raw, "buyerPhoneOrAddress": "someone@example.com"})
    match = match_brand_goods(plain, PROGRAM)
    assert order_fingerprint(with_buyer, match, "1") == order_fingerprint(with_buyer, match, "2")
    assert order_fingerprint(with_buyer, match) != order_fingerprint(other_buyer, match)
    assert order_fingerprint(plain, match, "1") != order_fingerprint(plain, match, "2")
    assert "example" not in order_fingerprint(with_buyer, match)  # hashed: personal data stays out
