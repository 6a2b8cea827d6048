"""point_accrual: ledger entry and balance in one transaction, once per receipt, on moto."""

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.contracts import ReceiptAccepted, Shopper
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.integration.conftest import bodies, drain, send


def accepted(fiscal_key: str = "7380440800000017:1:42", brand_sum: int = 219000,
             member: str = "701") -> ReceiptAccepted:
    return ReceiptAccepted(submission_id="tg-update:1", fiscal_key=fiscal_key, channel="wildberries",
                           store="Wildberries", brand_sum_kopecks=brand_sum,
                           shopper=Shopper(member_id=member, chat_id=int(member), language="ru"))


def poll(stack: LocalStack) -> int:
    return stack.poller("AccrualQueue").poll_once()


def test_points_are_credited_with_a_ledger_entry_and_the_shopper_is_told(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("701", 701, "ru")
    send(stack, "AccrualQueue", accepted().model_dump_json())
    send(stack, "AccrualQueue", accepted(fiscal_key="7380440800000017:2:43", brand_sum=50099).model_dump_json())
    poll(stack)
    assert present(MembersRepository("MembersTable").get("701")).available == 219 + 50
    entries = LedgerRepository("LedgerTable", "MembersTable").entries("701")
    assert sorted(entry.points for entry in entries) == [50, 219]
    assert sorted(entry.balance_after.available for entry in entries) == [219, 269]
    texts = sorted(reply["text"] for reply in bodies(stack, "OutboxQueue"))
    assert texts == ["+219 баллов за покупку на Wildberries. На счёте 219 баллов.",
                     "+50 баллов за покупку на Wildberries. На счёте 269 баллов."]


def test_a_redelivered_accrual_credits_nothing_more_and_repeats_the_same_message(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("701", 701, "ru")
    for _ in range(3):
        send(stack, "AccrualQueue", accepted().model_dump_json())
        poll(stack)
    assert present(MembersRepository("MembersTable").get("701")).available == 219
    assert len(LedgerRepository("LedgerTable", "MembersTable").entries("701")) == 1
    replies = bodies(stack, "OutboxQueue")
    assert {reply["dedupe_key"] for reply in replies} == {"ledger:701:receipt#7380440800000017:1:42"}
    assert {reply["text"] for reply in replies} == {"+219 баллов за покупку на Wildberries. На счёте 219 баллов."}


def test_a_purchase_too_small_for_a_point_is_explained(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("701", 701, "ru")
    send(stack, "AccrualQueue", accepted(brand_sum=999).model_dump_json())
    poll(stack)
    assert present(MembersRepository("MembersTable").get("701")).available == 0
    assert "слишком мала" in bodies(stack, "OutboxQueue")[0]["text"]


def test_an_accrual_for_an_unknown_member_is_dead_lettered_with_the_reason(stack: LocalStack) -> None:
    send(stack, "AccrualQueue", accepted(member="799").model_dump_json())
    poll(stack)
    ((body, attributes),) = drain(stack, "AccrualDeadLetterQueue")
    assert body["shopper"]["member_id"] == "799" and attributes["reason"] == "member 799 not found"
