"""The Mindbox client against the Mindbox emulator over real HTTP: the auth and the request's shape are
checked, a repeated transaction is answered as Mindbox does, and the client reads every answer right."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from loyalty.adapters.mindbox import MindboxClient
from loyalty.contracts import MemberRegistered, Unsubscribed
from loyalty.domain.errors import CrmRejected, CrmUnavailable
from loyalty.domain.program import Mindbox
from loyalty_tools.local.mindbox_emulator import MindboxEmulator

CONFIG = Mindbox(endpoint_id="Brand.Bot")
AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
JOINED = MemberRegistered(event_id="7/registered", member_id="7", occurred_at=AT, phone="+79161234567",
                          telegram_id=7, source="organic", consent=True)


@pytest.fixture
def emulator() -> Iterator[MindboxEmulator]:
    server = MindboxEmulator("s3cret", CONFIG)
    server.start()
    yield server
    server.stop()


def test_a_call_is_applied_once_and_its_retry_is_answered_transaction_already_processed(
        emulator: MindboxEmulator) -> None:
    client = MindboxClient(emulator.url, lambda: "s3cret", CONFIG)
    client.deliver(JOINED)
    client.deliver(JOINED)  # the same event again: the same transactionId
    state = emulator.state()
    assert [op["status"] for op in state["operations"]] == ["Success", "TransactionAlreadyProcessed"]
    assert state["customers"][0]["mobilePhone"] == "79161234567"


def test_a_wrong_secret_is_a_protocol_error_that_is_never_retried(emulator: MindboxEmulator) -> None:
    with pytest.raises(CrmRejected, match="ProtocolError"):
        MindboxClient(emulator.url, lambda: "wrong", CONFIG).deliver(JOINED)
    assert emulator.state()["customers"] == []


def test_the_older_authorization_form_is_accepted_too(emulator: MindboxEmulator) -> None:
    status, answer = emulator.answer("/v3/operations/async", {"endpointId": "Brand.Bot",
                                     "operation": CONFIG.operations.member_registered, "transactionId": "t1"},
                                     {"authorization": 'Mindbox secretKey="s3cret"'},
                                     b'{"customer": {"ids": {"tgID": "8"}, "mobilePhone": "79160000008"}}')
    assert (status, answer["status"]) == (200, "Success")


def test_an_unknown_customer_is_a_validation_error_and_an_outage_is_retried(emulator: MindboxEmulator) -> None:
    client = MindboxClient(emulator.url, lambda: "s3cret", CONFIG)
    with pytest.raises(CrmRejected, match="/customer: Customer not found"):
        client.deliver(Unsubscribed(event_id="9/u", member_id="9", occurred_at=AT))
    emulator.fail(503, count=1)
    with pytest.raises(CrmUnavailable):
        client.deliver(JOINED)
    client.deliver(JOINED)  # back: applied now
    assert len(emulator.state()["customers"]) == 1
