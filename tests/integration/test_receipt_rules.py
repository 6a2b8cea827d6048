"""The fraud and edge-case rules that need the database, through point_accrual's receipt check and ledger on moto."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.dynamo import from_item
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.contracts import ReceiptSubmitted, Shopper
from loyalty.domain.claims import OrderHalf
from loyalty.domain.details import Details
from loyalty.domain.errors import ReceiptAlreadyClaimed
from loyalty.domain.ledger import Kind
from loyalty.domain.postings import adjustment
from loyalty.domain.receipt import normalise_one
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.accrual import point_accrual
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.runtime import FunctionHost, new_container
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, present
from tests.integration.conftest import all_at_once, bodies, send

BRAND = "7700000024"


def shopper(member: str = "611") -> Shopper:
    MembersRepository("MembersTable").join(member, int(member), "ru")
    return Shopper(member_id=member, chat_id=int(member), language="ru")


def submit(stack: LocalStack, raw: dict[str, Any], who: Shopper, submission: str) -> None:
    stack.receipts.add(raw)
    message = ReceiptSubmitted(submission_id=submission, qr=qr_of(raw), shopper=who)
    send(stack, "AccrualQueue", message.model_dump_json())


def run(stack: LocalStack) -> None:
    """Drain AccrualQueue, as its poller would."""
    while stack.poller("AccrualQueue").poll_once():
        pass


def receipt_check(stack: LocalStack, **environment: str) -> ReceiptCheck:
    """PointAccrualFunction's check, with the function's environment and `environment` over it."""
    settings = PointAccrualSettings.model_validate({**stack.functions.environment("PointAccrualFunction"),
                                                    **environment})
    return present(point_accrual(settings)().receipts)


def texts(stack: LocalStack) -> list[str]:
    return [reply["text"] for reply in bodies(stack, "OutboxQueue")]


def test_the_daily_limit_refuses_the_receipt_after_the_last_allowed(stack: LocalStack) -> None:
    anna = shopper()
    for fd in range(1, 5):  # the test program allows 3 a day
        submit(stack, marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=fd), anna, f"tg-update:{fd}")
        run(stack)
    assert present(MembersRepository("MembersTable").get("611")).available == 3 * 45
    assert texts(stack)[-1].startswith("Сегодня вы уже зарегистрировали 3 чека")


def test_prepayment_and_settlement_of_one_order_earn_once_and_a_second_order_earns_again(stack: LocalStack) -> None:
    anna = shopper()
    now = datetime.now(UTC)

    def half(fd: int, prepayment: bool, hours_ago: int) -> dict[str, Any]:
        raw = marketplace_receipt(BRAND, [("Крем", 45000, 2)], fd=fd, issued_at=now - timedelta(hours=hours_ago))
        if prepayment:
            for item in raw["items"]:
                item.update(paymentType=1, productType=10)
            raw.update(prepaidSum=0, ecashTotalSum=raw["totalSum"])
        return raw

    submit(stack, half(1, True, 48), anna, "tg-update:1")   # order A paid
    submit(stack, half(2, True, 30), anna, "tg-update:2")   # order B, the same basket, paid
    run(stack)
    submit(stack, half(3, False, 5), anna, "tg-update:3")   # one of them delivered
    run(stack)
    assert present(MembersRepository("MembersTable").get("611")).available == 2 * 90
    assert texts(stack)[-1].startswith("Этот чек относится к заказу, за который баллы уже начислены")
    submit(stack, half(4, False, 1), anna, "tg-update:4")  # the other delivered
    run(stack)
    assert present(MembersRepository("MembersTable").get("611")).available == 2 * 90


def test_an_orders_first_half_is_claimed_with_no_read_and_its_second_learns_the_first_from_a_refusal(
        stack: LocalStack) -> None:
    """The order's item is guessed absent (most orders' first receipt): one transaction, no read; the other half's
    guess is refused, and the refusal carries the item (ALL_OLD), so it pairs on the second write, still unread."""
    claims, window = ReceiptClaims("ReceiptClaimsTable", "MembersTable"), timedelta(days=10)
    shopper("611")
    now = datetime.now(UTC)

    def claimed(key: str, role: str) -> tuple[Any, Counter[str]]:
        before = stack.moto.counter.snapshot()
        found = claims.claim(key, "611", f"s-{key}", {}, day=now.date().isoformat(), max_per_day=None,
                             order=OrderHalf("order-9", role, now, window))
        spent = stack.moto.counter.snapshot() - before
        return found, Counter({operation: n for (_, service, operation), n in spent.items() if service == "dynamodb"})

    first, first_requests = claimed("k:1", "prepayment")
    second, second_requests = claimed("k:2", "settlement")
    assert (first.outcome, second.outcome, second.paired_with) == ("earns", "same_order", "k:1")
    assert first_requests == Counter({"TransactWriteItems": 1, "TransactWriteItems.items": 2})
    assert second_requests["TransactWriteItems"] == 2 and "GetItem" not in second_requests


def test_a_settlement_first_then_its_prepayment_also_earns_once(stack: LocalStack) -> None:
    anna = shopper()
    settle = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=7)
    prepay = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=8,
                                 issued_at=datetime.now(UTC) - timedelta(days=3))
    for item in prepay["items"]:
        item["paymentType"] = 1
    prepay["prepaidSum"] = 0
    submit(stack, settle, anna, "tg-update:7")
    submit(stack, prepay, anna, "tg-update:8")
    run(stack)
    assert present(MembersRepository("MembersTable").get("611")).available == 45


def test_a_refund_reverses_the_points_of_the_matching_purchase_once(stack: LocalStack) -> None:
    anna = shopper()
    purchase = marketplace_receipt(BRAND, [("Крем", 45000, 2), ("Сыворотка", 129000, 1)], fd=10,
                                   issued_at=datetime.now(UTC) - timedelta(days=2))
    submit(stack, purchase, anna, "tg-update:10")
    run(stack)
    refund = marketplace_receipt(BRAND, [("Сыворотка", 129000, 1)], fd=11, operation=2)
    submit(stack, refund, anna, "tg-update:11")
    submit(stack, refund, anna, "tg-update:12")  # the same refund again
    run(stack)
    assert present(MembersRepository("MembersTable").get("611")).available == 219 - 129
    replies = texts(stack)
    assert "Возврат на Wildberries: списано 129 баллов. На счёте 90 баллов." in replies
    assert sum(reply.startswith("Этот чек уже зарегистрирован") for reply in replies) == 1
    kinds = sorted(entry.kind for entry in LedgerRepository("LedgerTable", "MembersTable").entries("611"))
    assert kinds == ["accrual", "refund_reversal"]


def test_a_refund_without_a_registered_purchase_changes_nothing(stack: LocalStack) -> None:
    anna = shopper()
    submit(stack, marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=20, operation=2), anna, "tg-update:20")
    run(stack)
    assert texts(stack) == ["Это чек возврата, но покупки, к которой он относится, нет среди ваших чеков. "
                            "Баллы не изменились."]


def test_a_refund_of_spent_points_stops_at_zero_and_records_the_shortfall(stack: LocalStack) -> None:
    anna = shopper()
    submit(stack, marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=30,
                                      issued_at=datetime.now(UTC) - timedelta(days=1)), anna, "tg-update:30")
    run(stack)
    ledger = LedgerRepository("LedgerTable", "MembersTable")
    program = load_program(TEST_PROGRAM)
    ledger.apply("611", "adjustment#spent", Kind.ADJUSTMENT,
                 lambda wal: adjustment(program, wal, "x", -40, datetime.now(UTC)), Details(reason="test: spent"))
    submit(stack, marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=31, operation=2), anna, "tg-update:31")
    run(stack)
    reversal = next(e for e in ledger.entries("611") if e.kind == "refund_reversal")
    assert (reversal.points, reversal.details.shortfall, reversal.balance_after.available) == (-5, 40, 0)
    assert reversal.balance_after.debt == 40


def test_concurrent_claims_of_one_receipt_let_exactly_one_win(stack: LocalStack) -> None:
    claims = ReceiptClaims("ReceiptClaimsTable", "MembersTable")
    for member in range(20):
        MembersRepository("MembersTable").join(str(700 + member), 700 + member, "ru")

    def claim(member: int) -> str:
        try:
            claims.claim("7380440800000017:99:1", str(700 + member), f"tg-update:{member}", {"brand_sum_kopecks": 1},
                         day="2026-11-23", max_per_day=3)
            return "won"
        except ReceiptAlreadyClaimed:
            return "lost"

    outcomes = all_at_once(20, claim)
    assert sorted(outcomes) == ["lost"] * 19 + ["won"]


def offline_program(tmp_path: Path) -> Path:
    program = tmp_path / "offline.yaml"
    offline = TEST_PROGRAM.read_text().replace("max_per_day: 3", "max_per_day: 3\n  accept_unverified_files: true")
    program.write_text(offline)
    return program


def test_offline_programs_may_accept_an_uploaded_receipt_the_service_cannot_confirm_and_mark_it(
        stack: LocalStack, tmp_path: Path) -> None:
    program = offline_program(tmp_path)
    check = receipt_check(stack, PROGRAM_FILE=str(program))
    anna = shopper()
    raw = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=40)  # unknown to the receipt service
    uploaded = normalise_one(raw)
    check.check(ReceiptSubmitted(submission_id="tg-update:40#k", shopper=anna, qr=uploaded.query().to_qr(),
                                 uploaded=raw))
    claim = stack.aws("dynamodb").get_item(TableName="ReceiptClaimsTable",
                                           Key={"fiscal_key": {"S": str(uploaded.key)}})["Item"]
    assert claim["verified"] == {"BOOL": False}
    (entry,) = LedgerRepository("LedgerTable", "MembersTable").entries("611")
    assert entry.details.fiscal_key == str(uploaded.key) and entry.points == 45


def test_without_the_offline_setting_an_unconfirmed_upload_earns_nothing(stack: LocalStack) -> None:
    anna = shopper()
    raw = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=41)
    receipt_check(stack).check(ReceiptSubmitted(submission_id="tg-update:41#k", shopper=anna,
                                                qr=normalise_one(raw).query().to_qr(), uploaded=raw))
    assert LedgerRepository("LedgerTable", "MembersTable").entries("611") == []
    assert texts(stack)[-1].startswith("Налоговая не нашла такой чек")


def test_a_doctored_upload_earns_on_the_receipt_the_tax_service_holds_not_on_the_file(stack: LocalStack) -> None:
    anna = shopper()
    real = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=42)
    stack.receipts.add(real)
    doctored = {**real, "items": [{**real["items"][0], "sum": 450000, "price": 450000, "quantity": 1}]}
    assert doctored["totalSum"] == real["totalSum"]  # what the QR names is unchanged: only the line is a lie
    receipt_check(stack).check(ReceiptSubmitted(submission_id="tg-update:42#k", shopper=anna,
                                                qr=normalise_one(doctored).query().to_qr(), uploaded=doctored))
    (entry,) = LedgerRepository("LedgerTable", "MembersTable").entries("611")
    assert entry.details.brand_sum_kopecks == 45000  # the tax service's cream, not the file's


def test_the_order_record_forgets_halves_too_old_to_pair(stack: LocalStack) -> None:
    anna = shopper()
    now = datetime.now(UTC)
    for fd, days_ago in ((50, 25), (51, 1)):  # settlements of the same basket, far apart, no prepayment
        raw = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=fd, issued_at=now - timedelta(days=days_ago))
        submit(stack, raw, anna, f"tg-update:{fd}")
        run(stack)
    pairs = ReceiptClaims("ReceiptClaimsTable", "MembersTable")
    orders = [item for item in stack.aws("dynamodb").scan(TableName="ReceiptClaimsTable")["Items"]
              if item["fiscal_key"]["S"].startswith("order#")]
    (order,) = orders
    assert len(order["settlements"]["L"]) == 2  # both wait within 2 × the 90-day window
    update, partner = pairs._pairing("k", OrderHalf(order["fiscal_key"]["S"][len("order#"):], "settlement",
                                                     now, timedelta(days=10)), from_item(order))
    kept = update["Put"]["Item"]["settlements"]["L"]
    assert partner is None and len(kept) == 2  # the 25-day-old one is dropped, the new one added


def test_a_redelivered_refund_reverses_the_same_purchase_once(stack: LocalStack) -> None:
    anna = shopper()
    for fd, days_ago in ((60, 3), (61, 2)):  # two purchases the refund could belong to
        submit(stack, marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=fd,
                                          issued_at=datetime.now(UTC) - timedelta(days=days_ago)),
               anna, f"tg-update:{fd}")
        run(stack)
    refund = marketplace_receipt(BRAND, [("Крем", 45000, 1)], fd=62, operation=2)
    submit(stack, refund, anna, "tg-update:62")
    submit(stack, refund, anna, "tg-update:62")  # SQS delivers the same message twice
    run(stack)
    entries = LedgerRepository("LedgerTable", "MembersTable").entries("611")
    reversals = [entry for entry in entries if entry.kind == "refund_reversal"]
    assert len(reversals) == 1 and reversals[0].points == -45
    assert present(MembersRepository("MembersTable").get("611")).available == 45


def test_in_lambda_a_function_does_not_start_with_unverified_files_accepted(stack: LocalStack, tmp_path: Path) -> None:
    program = offline_program(tmp_path)
    lambda_runtime = {"PROGRAM_FILE": str(program), "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
    new_container()  # a cold start: no settings or program cached from another test
    with pytest.raises(Exception, match=r"accept_unverified_files .* for offline use only") as refused:
        FunctionHost(stack.template, stack.moto.url, lambda_runtime).module("PointAccrualFunction")
    assert type(refused.value).__name__ == ProgramError.__name__  # the function's own import of the package
    # The same program runs where it is meant to: offline, on the local stack.
    new_container()
    assert FunctionHost(stack.template, stack.moto.url, {"PROGRAM_FILE": str(program)}).module(
        "PointAccrualFunction").accrual().receipts.program.receipts.accept_unverified_files
