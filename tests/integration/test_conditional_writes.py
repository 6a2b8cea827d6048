"""The one helper every adapter's conditional write goes through (adapters/dynamo.py), on moto: a false condition is
an answer about the data (False, None, or the domain error the caller names), anything else stays an error."""

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pytest import MonkeyPatch

from loyalty.adapters.aws import _Translated
from loyalty.adapters.dynamo import applied, conditional, to_item
from loyalty.adapters.members import MembersRepository
from loyalty.domain.errors import MemberNotFound
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present

NEW: dict[str, Any] = {"TableName": "BotTable", "Item": to_item({"pk": "x", "sk": "y"}),
       "ConditionExpression": "attribute_not_exists(pk)"}


def test_a_write_applies_once_and_then_says_its_condition_was_false(stack: LocalStack) -> None:
    assert applied("put_item", **NEW) is True
    assert applied("put_item", **NEW) is False
    assert conditional("put_item", **NEW) is None


def test_a_false_condition_raises_the_domain_error_the_caller_names(stack: LocalStack) -> None:
    with pytest.raises(MemberNotFound):
        conditional("put_item", refused=MemberNotFound("x"), **{**NEW, "ConditionExpression": "attribute_exists(pk)"})


def test_a_malformed_write_is_not_taken_for_a_false_condition(stack: LocalStack) -> None:
    with pytest.raises(ClientError, match="ValidationException"):
        applied("put_item", **{**NEW, "Item": to_item({"pk": "x"})})  # the table's sort key left out


def test_a_member_who_is_gone_is_refused_in_the_domains_words(stack: LocalStack) -> None:
    members = MembersRepository("MembersTable")
    assert members.unsubscribe("404") is False
    with pytest.raises(MemberNotFound):
        members.choose_language("404", "en")
    with pytest.raises(MemberNotFound):
        members.save_phone("404", "+79160000000")


def _conflict_once(monkeypatch: MonkeyPatch, dynamodb: _Translated) -> list[Any]:
    """The next transaction is cancelled as DynamoDB cancels one that met another writer in the same items."""
    real, calls = dynamodb.transact_write_items, []

    def transact_write_items(**request: Any) -> Any:
        calls.append(request)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                               "CancellationReasons": [{"Code": "TransactionConflict"}] +
                                                      [{"Code": "None"}] * (len(request["TransactItems"]) - 1)},
                              "TransactWriteItems")
        return real(**request)

    monkeypatch.setattr(dynamodb, "transact_write_items", transact_write_items)
    return calls


def test_a_transaction_that_met_another_is_contended_and_a_claim_tries_again(
        stack: LocalStack, monkeypatch: MonkeyPatch) -> None:
    """A conflict is neither a false condition nor an unknown error: transact says Contended, and the claim, which
    reads again and retries, is written once."""
    from loyalty.adapters.aws import client
    from loyalty.adapters.claims import ReceiptClaims
    from loyalty.adapters.dynamo import transact
    from loyalty.domain.errors import Contended

    members = MembersRepository("MembersTable")
    members.join("901", 901, "ru")
    calls = _conflict_once(monkeypatch, client("dynamodb"))
    with pytest.raises(Contended):
        transact([{"Put": NEW}])
    calls.clear()
    claims = ReceiptClaims("ReceiptClaimsTable", "MembersTable")
    claimed = claims.claim("k:901", "901", "tg-update:1", {"seller_inn": "7707083893"}, day="2026-11-23",
                           max_per_day=5)
    assert (claimed.outcome, claimed.replayed) == ("earns", False) and len(calls) > 1  # tried again after the conflict
    again = claims.claim("k:901", "901", "tg-update:1", {}, day="2026-11-23", max_per_day=5)
    assert again.replayed and present(again.record)["member_id"] == "901"


def test_a_delivery_is_counted_when_the_member_it_would_mark_was_erased_meanwhile(stack: LocalStack) -> None:
    """The campaign sender settles a delivered touch with the member's last touch in the same transaction: a member
    erased since the message went out refuses that part, and the delivery still counts, once."""
    from datetime import UTC, datetime

    from loyalty.adapters.campaign_store import CampaignStore
    from loyalty.domain.campaigns import Touch, touch_key

    store, now = CampaignStore("CampaignsTable"), datetime.now(UTC)
    touch = Touch(campaign="winback", step=1, member_id="902", key="winback:1:x")
    store.record(touch, 0, now)
    gone = MembersRepository("MembersTable").touched_item("902", {"campaign": "winback"})
    assert store.settle("winback", touch_key(touch), "delivered", now, also=[gone])
    assert not store.settle("winback", touch_key(touch), "delivered", now, also=[gone])
    assert store.stats("winback")["delivered"] == 1
