"""The in-memory fakes the flow tests use (tests/fakes.py) behave like the DynamoDB adapters they stand for:
one script, run against both, must see the same answers. A fake that drifts from the real thing fails here,
not silently in a flow test that trusted it."""

from datetime import UTC, datetime, timedelta

import pytest

from loyalty import clock
from loyalty.adapters.campaign_store import CampaignStore, touch_key
from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.promo_codes import PromoCode, PromoCodes
from loyalty.domain import postings, wallet
from loyalty.domain.campaigns import Touch
from loyalty.domain.details import Details
from loyalty.domain.earning import purchase_credit
from loyalty.domain.errors import InsufficientPoints, MemberNotFound
from loyalty.domain.ledger import Kind
from tests.fakes import MemoryBooks, MemoryCampaigns, MemoryPromoCodes
from tests.unit.flows.conftest import PROGRAM

NOW = datetime.now(UTC).replace(microsecond=0)


class Real:
    """The members table, the ledger and the promo codes table on moto, as the flows receive them."""

    def __init__(self):
        self.members = MembersRepository("MembersTable")
        self.ledger = ledger_for(PROGRAM, "LedgerTable", "MembersTable")
        self.codes = PromoCodes("PromoCodesTable")

    def join(self, member_id, phone):
        self.members.join(member_id, int(member_id), "ru")
        self.members.save_phone(member_id, phone)


class Fake:
    def __init__(self):
        self.members = self.ledger = MemoryBooks(PROGRAM)
        self.codes = MemoryPromoCodes()

    def join(self, member_id, phone):
        self.members.join(member_id, int(member_id), "ru", phone=phone)


@pytest.fixture(params=["real", "fake"])
def store(request):
    if request.param == "real":
        request.getfixturevalue("stack")  # a clean moto server
        return Real()
    return Fake()


def credit(lot, points, available_at=NOW):
    return lambda wal: wallet.credit(wal, lot, points, NOW, available_at, None)


def test_an_entry_is_written_once_and_a_replay_returns_the_first_posting(store):
    with pytest.raises(MemberNotFound):
        store.ledger.apply("801", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100), now=NOW)
    store.join("801", "+79160000801")
    first = store.ledger.apply("801", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100),
                               Details(store="Ozon"), now=NOW)
    again = store.ledger.apply("801", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100),
                               Details(store="Ozon"), now=NOW)
    assert (first.applied, again.applied, again.entry) == (True, False, first.entry)
    assert (first.entry.details.store, first.entry.details.credited, first.balance.available) == ("Ozon", 100, 100)
    assert store.ledger.entry("801", "receipt#a") == first.entry and store.ledger.entry("801", "receipt#b") is None
    assert (store.members.get("801").available, store.members.find_by_phone("+79160000801")) == (100, "801")


def test_a_replay_that_no_longer_fits_the_wallet_is_still_a_replay_and_a_refusal_writes_nothing(store):
    store.join("802", "+79160000802")
    store.ledger.apply("802", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100), now=NOW)
    place = lambda wal: wallet.hold(wal, "h", 100, NOW, NOW + timedelta(minutes=30))  # noqa: E731
    held = store.ledger.apply("802", "hold#h", Kind.HOLD, place, now=NOW)
    assert store.ledger.apply("802", "hold#h", Kind.HOLD, place, now=NOW).entry == held.entry  # 0 left: replayed
    with pytest.raises(InsufficientPoints):
        store.ledger.apply("802", "hold#i", Kind.HOLD, lambda wal: wallet.hold(wal, "i", 1, NOW, NOW), now=NOW)
    assert store.ledger.entry("802", "hold#i") is None and store.members.get("802").held == 100


def test_history_is_newest_first_and_the_due_index_follows_the_program(store):
    store.join("803", "+79160000803")
    for day in range(3):
        store.ledger.apply("803", f"bonus#{day}", Kind.BONUS, credit(f"bonus#{day}", day + 1),
                           now=NOW + timedelta(days=day))
    assert [entry.entry_id for entry in store.ledger.history("803", 2)] == ["bonus#2", "bonus#1"]
    assert "803" not in set(store.ledger.due(NOW))
    store.ledger.apply("803", "receipt#p", Kind.ACCRUAL, credit("receipt#p", 5, NOW + timedelta(days=14)), now=NOW)
    assert "803" not in set(store.ledger.due(NOW + timedelta(days=13)))
    assert "803" in set(store.ledger.due(NOW + timedelta(days=14)))


def test_a_promo_code_exists_only_with_the_hold_written_in_its_transaction(store):
    store.join("804", "+79160000804")
    store.ledger.apply("804", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100), now=NOW)
    expires = NOW + timedelta(days=30)
    code = PromoCode(code="ABCD2345", member_id="804", hold_id="promo:1", points=100, expires_at=expires.isoformat())
    place = lambda wal: wallet.hold(wal, "promo:1", 100, NOW, expires, code="ABCD2345")  # noqa: E731
    store.ledger.apply("804", "hold#promo:1", Kind.HOLD, place, extra_items=[store.codes.put_item(code, expires)],
                       now=NOW)
    assert store.codes.find("abcd-2345") == code
    other = code.model_copy(update={"code": "WXYZ6789", "hold_id": "promo:2"})
    with pytest.raises(InsufficientPoints):
        store.ledger.apply("804", "hold#promo:2", Kind.HOLD,
                           lambda wal: wallet.hold(wal, "promo:2", 100, NOW, expires, code="WXYZ6789"),
                           extra_items=[store.codes.put_item(other, expires)], now=NOW)
    assert store.codes.find("WXYZ6789") is None


@pytest.fixture(params=["real", "fake"])
def campaigns(request):
    if request.param == "real":
        request.getfixturevalue("stack")
        return CampaignStore("CampaignsTable")
    return MemoryCampaigns()


def test_a_touch_is_recorded_settled_and_converted_once_each_with_its_counters(campaigns):
    touch = Touch(campaign="winback", step=1, member_id="805", key="winback:1:2026-10-01T12:00:00+00:00")
    assert not campaigns.touched(touch)
    assert campaigns.record(touch, 150, NOW) and not campaigns.record(touch, 150, NOW)
    assert campaigns.touched(touch)
    key = touch_key(touch)
    assert not campaigns.convert("winback", key, 45_000, NOW)  # not delivered yet
    assert campaigns.settle("winback", key, "delivered", NOW) and not campaigns.settle("winback", key, "blocked", NOW)
    assert campaigns.convert("winback", key, 45_000, NOW) and not campaigns.convert("winback", key, 99, NOW)
    campaigns.add("winback", points_spent=100)
    assert campaigns.stats("winback") == {"audience": 1, "delivered": 1, "blocked": 0, "converted": 1, "clicks": 0,
                                          "revenue_kopecks": 45_000, "points_given": 150, "points_spent": 100}
    assert campaigns.cursor("winback") is None
    campaigns.advance("winback", NOW)
    campaigns.advance("winback", NOW - timedelta(hours=1))  # an older run finishing late moves nothing back
    assert campaigns.cursor("winback") == NOW


def test_the_lapse_window_holds_last_purchases_after_its_start_up_to_its_end(store):
    store.join("806", "+79160000806")
    bought = NOW - timedelta(days=30)
    store.ledger.apply("806", "receipt#a", Kind.ACCRUAL, lambda wal: postings.purchase(
        PROGRAM, wal, "receipt#a", purchase_credit(PROGRAM, wal, [], "d2c", "d2c", NOW), 45_000, "lepestok.ru", "d2c",
        bought), now=NOW)
    audience = store.members

    def found(start, end):
        return [item["member_id"] for item in audience.lapsed(clock.stamp(start), clock.stamp(end))]

    assert found(bought - timedelta(hours=1), bought) == ["806"]
    assert found(bought, bought + timedelta(hours=1)) == []  # the start is excluded: the last run took it
    (item,) = [item for item in audience.everyone() if item["member_id"] == "806"]
    assert (item["chat_id"], item["language"]) == (806, "ru")


def test_a_fifo_queue_takes_a_deduplication_id_once_and_keeps_each_group_in_order(stack):
    """The CRM feed's queue: MemoryFifoQueue against a FIFO queue on moto."""
    from pydantic import BaseModel

    from loyalty.adapters.queues import FifoQueue
    from tests.fakes import MemoryFifoQueue

    class Note(BaseModel):
        text: str

    url = stack.template.queue_url("CrmQueue")
    real, fake = FifoQueue(url), MemoryFifoQueue()
    script = [("a", "1", "a1"), ("b", "2", "b1"), ("a", "3", "a2"), ("a", "1", "a1 again")]
    for queue in (real, fake):
        for group, dedupe, text in script:
            queue.put(Note(text=text), group=group, dedupe=dedupe)
    sqs, received = stack.aws("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            received.append((message["Attributes"]["MessageGroupId"], Note.model_validate_json(message["Body"]).text))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    faked = [(group, message.text) for group, message in zip(fake.groups, fake.messages, strict=True)]
    for group in ("a", "b"):
        assert [text for g, text in received if g == group] == [text for g, text in faked if g == group]
    assert sorted(received) == sorted(faked) == [("a", "a1"), ("a", "a2"), ("b", "b1")]
