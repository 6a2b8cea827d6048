"""The CRM sync on the local stack, against the Mindbox emulator: members, receipts and balance changes arrive
in the order they happened, each once, through an outage, 429s and the program's rate limit; what Mindbox
refuses is parked with its answer."""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, SERUM, buy, join, loyalty, member, seed_stack

pytestmark = pytest.mark.e2e
REGISTER, EDIT, ORDER, BALANCE = ("Telegram.RegisterCustomer", "Telegram.EditCustomer", "Telegram.SaveOfflineOrder",
                                  "Telegram.ChangeBalance")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # Retries 1, 2, 2, 2… seconds apart: the production backoff (30 s doubling, capped at 15 minutes) scaled down.
    with seed_stack(retry_base_seconds=1, parameter_overrides={"CrmRetryCapSeconds": "2"}) as stack:
        yield stack


@pytest.fixture(autouse=True)
def fresh(stack: LocalStack) -> Iterator[None]:
    stack.reset()
    yield
    stack.mindbox.recover()
    stack.backlogged.clear()


def applied(stack: LocalStack, shopper: Shopper) -> list[dict[str, Any]]:
    """The operations Mindbox applied for this shopper, in the order it applied them."""
    return [op for op in stack.mindbox.state()["operations"]
            if op["status"] == "Success"
            and (op["body"].get("customer") or {}).get("ids", {}).get("tgID") == str(shopper.chat_id)]


def points_of(stack: LocalStack, shopper: Shopper) -> int:
    wallet = member(stack, shopper)
    return int(wallet["available"]) + int(wallet["pending"])


def test_a_new_member_then_a_receipt_then_its_points_arrive_in_that_order(stack: LocalStack) -> None:
    ann = join(stack)
    buy(stack, ann, CREAM, SERUM)
    operations = applied(stack, ann)
    assert [op["operation"] for op in operations] == [REGISTER, BALANCE, ORDER, BALANCE, EDIT]
    registered, welcome, order, _, level = (op["body"] for op in operations)
    assert registered["customer"]["mobilePhone"] == f"7916{ann.chat_id:07d}"
    assert welcome["balanceChanges"][0]["changeAmount"] == 100
    assert order["order"]["totalPrice"] == 1740.0 and len(order["order"]["lines"]) == 2
    assert level["customer"]["customFields"]["loyaltyLevel"] == member(stack, ann)["level"]
    assert stack.mindbox.state()["balances"][str(ann.chat_id)] == points_of(stack, ann)


def test_a_mindbox_outage_is_caught_up_in_full_with_nothing_lost_or_doubled(stack: LocalStack) -> None:
    stack.mindbox.fail(503)  # down until it recovers
    stack.backlogged.add("CrmQueue")  # the bot goes on while the CRM is down
    shoppers = [join(stack) for _ in range(3)]
    for shopper in shoppers:
        buy(stack, shopper)
        buy(stack, shopper, SERUM)
    time.sleep(5)  # every member's first event is tried again and again meanwhile
    assert stack.mindbox.state()["counts"]["http_503"] >= 2 * len(shoppers)
    assert not stack.mindbox.state()["customers"]
    stack.mindbox.recover()
    stack.backlogged.clear()
    stack.wait_idle(timeout=60)

    state = stack.mindbox.state()
    assert len(state["customers"]) == len(shoppers)
    assert len(state["orders"]) == 2 * len(shoppers)  # every receipt, once
    for shopper in shoppers:
        assert state["balances"][str(shopper.chat_id)] == points_of(stack, shopper)
        assert [op["operation"] for op in applied(stack, shopper)][:3] == [REGISTER, BALANCE, ORDER]  # in order
    done = [op["transactionId"] for op in state["operations"] if op["status"] == "Success"]
    assert len(done) == len(set(done))  # nothing applied twice
    assert stack.dead_letters("CrmDeadLetterQueue") == []


def test_a_429_is_retried_after_a_backoff_and_its_data_arrives(stack: LocalStack) -> None:
    ann = join(stack)
    stack.mindbox.fail(429, count=3)
    buy(stack, ann)
    state = stack.mindbox.state()
    assert state["counts"]["http_429"] == 3
    # Each applied once. (In the order moto gives them back: once peeked, its FIFO queue returns a group's messages
    # out of order, where SQS keeps them in order.)
    replayed = [op["operation"] for op in applied(stack, ann)]
    assert replayed[:2] == [REGISTER, BALANCE] and sorted(replayed[2:]) == sorted([ORDER, BALANCE, EDIT])
    assert state["balances"][str(ann.chat_id)] == points_of(stack, ann)


def test_what_mindbox_refuses_is_parked_with_its_answer_the_rest_goes_on_and_a_redrive_applies_it(
        stack: LocalStack) -> None:
    ann = join(stack)
    stack.mindbox.fail(400, count=3)  # Mindbox refuses the receipt's three calls as malformed
    buy(stack, ann)
    parked = stack.dead_letters("CrmDeadLetterQueue")
    assert {letter["attributes"]["event_type"] for letter in parked} == {"receipt_accepted", "points_changed",
                                                                         "level_changed"}
    order = next(letter for letter in parked if letter["attributes"]["event_type"] == "receipt_accepted")
    assert "ProtocolError (HTTP 400)" in order["attributes"]["reason"]
    assert order["attributes"]["member_id"] == str(ann.chat_id)
    bob = join(stack)  # another member's events are not held back
    assert [op["operation"] for op in applied(stack, bob)] == [REGISTER, BALANCE]
    assert stack.queue_depth("CrmQueue") == 0

    code, out, _ = loyalty(stack, "dlq", "redrive", "CrmQueue")  # fixed: each parked event is a batch again
    assert (code, out.strip()) == (0, "replayed 3 message(s) from CrmDeadLetterQueue.fifo into CrmQueue.fifo")
    stack.wait_idle()
    assert stack.dead_letters("CrmDeadLetterQueue") == []
    # Each applied once. (In the order moto gives them back: once peeked, its FIFO queue returns a group's messages
    # out of order, where SQS keeps them in order.)
    replayed = [op["operation"] for op in applied(stack, ann)]
    assert replayed[:2] == [REGISTER, BALANCE] and sorted(replayed[2:]) == sorted([ORDER, BALANCE, EDIT])
    assert stack.mindbox.state()["balances"][str(ann.chat_id)] == points_of(stack, ann)


def test_a_member_mindbox_does_not_know_is_registered_from_our_data_and_nothing_is_parked(stack: LocalStack) -> None:
    """Her registration was refused once, or a Mindbox manager deleted her: her next event registers her again from
    the members table (the phone, the source), then goes through. No event of hers is parked, no alarm rings."""
    ann = join(stack)
    with stack.mindbox.lock:
        stack.mindbox.customers.clear()
    buy(stack, ann)
    assert stack.dead_letters("CrmDeadLetterQueue") == []
    state = stack.mindbox.state()
    (customer,) = [found for found in state["customers"] if found["ids"]["tgID"] == str(ann.chat_id)]
    assert customer["mobilePhone"] == f"7916{ann.chat_id:07d}"
    assert any(order["customer"] == str(ann.chat_id) for order in state["orders"])
    operations = [op["operation"] for op in applied(stack, ann)]
    assert operations[:2] == [REGISTER, BALANCE] and REGISTER in operations[2:]  # joined; registered again


def test_a_member_who_blocks_the_bot_is_unsubscribed_in_the_crm_and_subscribed_again_on_return(
        stack: LocalStack) -> None:
    from loyalty.contracts import CampaignMessage

    ann = join(stack)
    ann.block_bot()
    stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("CampaignQueue"), MessageBody=CampaignMessage(
        campaign="winback", touch=f"touch#{ann.chat_id}#winback:1:x", member_id=str(ann.chat_id), chat_id=ann.chat_id,
        text="Давно не виделись!", goal_days=7).model_dump_json())
    stack.wait_idle()
    ann.unblock_bot()
    ann.say("/start")
    stack.wait_idle()
    operations = applied(stack, ann)
    assert [op["operation"] for op in operations] == [REGISTER, BALANCE, "Telegram.UnsubscribeCustomer", EDIT]
    assert [op["body"]["customer"]["subscriptions"][0]["isSubscribed"] for op in operations[2:]] == [False, True]


def test_stop_ends_offers_for_a_member_who_stays_and_start_brings_them_back(stack: LocalStack) -> None:
    ann = join(stack)
    ann.say("/stop")
    stack.wait_idle()
    assert member(stack, ann)["subscribed"] is False  # no campaign reaches her now
    assert "Вернуть рассылки — /start." in ann.bot_messages()[-1]
    buy(stack, ann)  # receipts and their messages go on
    assert int(member(stack, ann)["pending"]) > 0
    ann.say("/start")
    stack.wait_idle()
    assert member(stack, ann)["subscribed"] is True
    operations = [op["operation"] for op in applied(stack, ann)]
    assert operations[:3] == [REGISTER, BALANCE, "Telegram.UnsubscribeCustomer"]
    assert operations[-1] == EDIT and applied(stack, ann)[-1]["body"]["customer"]["subscriptions"][0][
        "isSubscribed"] is True


def test_a_resync_gives_the_crm_what_it_lacks_from_our_books_and_a_second_one_changes_nothing(
        stack: LocalStack) -> None:
    """The receipt's three reports were refused and parked, never redriven, and a points change was written with its
    report lost (the function died in between): `loyalty crm resync` makes Mindbox's view whole, once."""
    from datetime import UTC, datetime

    from loyalty.adapters.ledger import LedgerRepository
    from loyalty.domain import postings
    from loyalty.domain.details import Details
    from loyalty.domain.ledger import Kind
    from tests.e2e.journeys import PROGRAM

    ann = join(stack)
    stack.mindbox.fail(400, count=3)
    buy(stack, ann)
    now = datetime.now(UTC)
    with stack.as_operator():  # unreported: as if the function died after the write
        LedgerRepository("LedgerTable", "MembersTable").apply(
            str(ann.chat_id), "adjustment#lost-report", Kind.ADJUSTMENT,
            lambda wallet: postings.adjustment(PROGRAM, wallet, "adjustment#lost-report", 25, now),
            details=Details(reason="a goodwill credit"), now=now)
    key = str(ann.chat_id)
    assert stack.mindbox.state()["balances"][key] != points_of(stack, ann)

    code, out, _ = loyalty(stack, "crm", "resync", key)
    assert code == 0 and '"queued": true' in out
    stack.wait_idle()
    state = stack.mindbox.state()
    assert state["balances"][key] == points_of(stack, ann)
    assert [order["customer"] for order in state["orders"]] == [key]
    (customer,) = [found for found in state["customers"] if found["ids"]["tgID"] == key]
    assert customer["customFields"]["loyaltyLevel"] == member(stack, ann)["level"]
    applied_before = len(applied(stack, ann))

    code, out, _ = loyalty(stack, "crm", "resync", "--all")
    assert code == 0 and '"members": 1' in out
    stack.wait_idle()
    assert stack.mindbox.state()["balances"][key] == points_of(stack, ann)  # nothing applied twice
    again = [op["operation"] for op in applied(stack, ann)[applied_before:]]
    assert again == [REGISTER]  # the profile set to what it is; the same level, orders and points: already there
    code, out, _ = loyalty(stack, "crm", "resync", "7999999")
    assert code == 1 and '"queued": false' in out
