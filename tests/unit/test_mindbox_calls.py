"""The CRM events as Mindbox operations (../shared/crm/MINDBOX.md): the project's names, the customer by the
Telegram id, a transactionId that is the same on every retry, and Mindbox's answers read as its table says."""

from datetime import UTC, datetime

import pytest

from loyalty.adapters.mindbox import _raise_for, call_for, transaction_id
from loyalty.contracts import CrmBalance, MemberRegistered, PointsChanged, ReceiptRecorded, Unsubscribed
from loyalty.domain.details import BoughtLine
from loyalty.domain.errors import CrmRejected, CrmUnavailable
from loyalty.domain.program import Mindbox, MindboxOperations

CONFIG = Mindbox(endpoint_id="Brand.Bot", telegram_id="telegram",
                 operations=MindboxOperations(member_registered="Bot.Register", points_changed="Bot.Balance",
                                              receipt_accepted="Bot.Order"))
AT = datetime(2026, 11, 30, 9, tzinfo=UTC)


def test_a_registration_carries_the_phone_in_digits_the_consent_and_the_source() -> None:
    call = call_for(CONFIG, MemberRegistered(event_id="7/registered", member_id="7", occurred_at=AT,
                                             phone="+79161234567", telegram_id=7, source="campaign:spring",
                                             consent=True))
    assert call is not None and call.operation == "Bot.Register"
    assert call.body["customer"]["ids"] == {"telegram": "7"}
    assert call.body["customer"]["mobilePhone"] == "79161234567"
    assert call.body["customer"]["subscriptions"] == [{"pointOfContact": "Telegram", "isSubscribed": True}]
    assert call.transaction_id == transaction_id("7/registered") != transaction_id("8/registered")


def test_an_order_has_its_lines_and_total_in_roubles_and_the_receipt_as_its_id() -> None:
    call = call_for(CONFIG, ReceiptRecorded(
        event_id="7/receipt#k:receipt", member_id="7", occurred_at=AT, fiscal_key="k", channel="ozon", store="Ozon",
        purchased_at=AT, brand_sum_kopecks=174_000, points=238,
        lines=(BoughtLine(name="Крем", sum_kopecks=90_000, quantity="2", gtin="04600000000017"),
               BoughtLine(name="Сыворотка", sum_kopecks=84_000))))
    assert call is not None
    order = call.body["order"]
    assert order["ids"] == {"externalSystemId": "k"} and order["totalPrice"] == 1740.0
    assert [(line["quantity"], line["basePricePerItem"], line["product"]["ids"]) for line in order["lines"]] == [
        ("2", 450.0, {"externalId": "04600000000017"}), ("1", 840.0, {"externalId": "Сыворотка"})]
    assert call.body["executionDateTimeUtc"] == "2026-11-30 09:00:00"


def test_a_balance_change_names_the_balance_type_and_a_change_of_no_points_is_not_sent() -> None:
    def change(points: int, held: int) -> PointsChanged:
        return PointsChanged(event_id=f"7/x{points}", member_id="7", occurred_at=AT, entry_id="commit#1",
                             kind="commit", points=points, change=CrmBalance(held=held),
                             balance_after=CrmBalance())

    call = call_for(CONFIG, change(-150, 150))
    assert call is not None and call.body["balanceChanges"] == [
        {"balanceType": {"ids": {"systemName": "Points"}}, "changeAmount": -150, "comment": "commit"}]
    assert call_for(CONFIG, change(0, -150)) is None  # a commit only empties the hold Mindbox never saw


def test_an_unsubscription_turns_the_subscription_off() -> None:
    call = call_for(CONFIG, Unsubscribed(event_id="7/u", member_id="7", occurred_at=AT))
    assert call is not None and call.body["customer"]["subscriptions"][0]["isSubscribed"] is False


@pytest.mark.parametrize(("status", "body", "outcome"), [
    (200, b'{"status": "Success"}', None),
    (200, b'{"status": "TransactionAlreadyProcessed"}', None),  # a retry of what was applied: done
    (200, b'{"status": "ValidationError", "validationMessages": [{"message": "bad", "location": "/customer"}]}',
     CrmRejected),
    (400, b'{"status": "ProtocolError"}', CrmRejected),
    (401, b'{"status": "ProtocolError"}', CrmRejected),
    (429, b'{"status": "ProtocolError"}', CrmUnavailable),  # not stored: retried with backoff
    (500, b'{"status": "InternalServerError"}', CrmUnavailable),
    (503, b"<html>", CrmUnavailable),
    (200, b"<html>", CrmUnavailable),
])
def test_mindbox_answers_are_read_as_its_table_says(status: int, body: bytes,
                                                    outcome: type[CrmRejected] | type[CrmUnavailable] | None) -> None:
    if outcome is None:
        _raise_for(status, body, None, "Bot.Order")
    else:
        with pytest.raises(outcome):
            _raise_for(status, body, None, "Bot.Order")


def test_a_validation_error_keeps_mindbox_messages_for_the_dead_letter_queue() -> None:
    with pytest.raises(CrmRejected) as raised:
        _raise_for(200, b'{"status": "ValidationError", "validationMessages": [{"message": "Customer not found", '
                        b'"location": "/customer"}]}', None, "Bot.Order")
    assert "/customer: Customer not found" in str(raised.value)
    assert "validationMessages" in raised.value.response


def test_a_429_with_retry_after_waits_that_long() -> None:
    with pytest.raises(CrmUnavailable) as raised:
        _raise_for(429, b"{}", "120", "Bot.Order")
    assert raised.value.retry_after_seconds == 120


def test_a_crm_answer_is_logged_without_the_phone_it_may_echo() -> None:
    from loyalty.observability import redacted

    text = "ValidationError (/customer/mobilePhone: Invalid mobile phone '79161234567' or +7 (916) 123-45-67)"
    assert redacted(text) == "ValidationError (/customer/mobilePhone: Invalid mobile phone '***' or ***)"
    assert redacted("HTTP 503 after 2 tries") == "HTTP 503 after 2 tries"
