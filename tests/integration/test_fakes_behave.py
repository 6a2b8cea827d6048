"""The in-memory fakes the flow tests use (tests/fakes.py) behave like the DynamoDB adapters they stand for:
one script, run against both, must see the same answers. A fake that drifts from the real thing fails here,
not silently in a flow test that trusted it."""

import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pytest import FixtureRequest

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.bot_api import BotApi
from loyalty.adapters.bot_table import BotTable, LastMessages
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.draw_store import DrawStore
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.promo_codes import PromoCodes
from loyalty.adapters.telegram import TelegramBot
from loyalty.contracts import OutboundMessage
from loyalty.domain import composer, postings, wallet
from loyalty.domain.campaigns import HELD_OUT, Touch, touch_key
from loyalty.domain.claims import OrderHalf, Refund
from loyalty.domain.codes import PromoCode
from loyalty.domain.composer import CampaignRefused
from loyalty.domain.contact import Sent
from loyalty.domain.conversation import FollowUp, Ticket
from loyalty.domain.details import Details
from loyalty.domain.draw import Spin, seed_hash
from loyalty.domain.earning import purchase_credit
from loyalty.domain.errors import (
    ChatBlocked,
    DailyLimitReached,
    InsufficientPoints,
    ItemRefused,
    MemberNotFound,
    MessageRejected,
    RateLimited,
    ReceiptAlreadyClaimed,
    RefundExceeded,
    TelegramUnavailable,
)
from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.wallet import Step, Wallet
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.fakes import (
    STACK_KEY,
    MemoryBooks,
    MemoryBotTable,
    MemoryCampaigns,
    MemoryClaims,
    MemoryConsoleTable,
    MemoryDraw,
    MemoryPromoCodes,
    MemorySentMessages,
    MemoryTelegram,
)
from tests.unit.flows.conftest import PROGRAM

NOW = datetime.now(UTC).replace(microsecond=0)


class Real:
    """The members, ledger, promo codes, bot and claims tables on moto, as the flows receive them."""

    def __init__(self) -> None:
        self.members = MembersRepository("MembersTable")
        self.ledger = self.books = ledger_for(PROGRAM, "LedgerTable", "MembersTable")
        self.codes = PromoCodes("PromoCodesTable")
        self.bot = BotTable("BotTable")
        self.claims = ReceiptClaims("ReceiptClaimsTable", "MembersTable")
        self.campaigns = CampaignStore("CampaignsTable")
        self.sent = LastMessages(self.bot, STACK_KEY)

    def join(self, member_id: str, phone: str) -> None:
        self.members.join(member_id, int(member_id), "ru")
        self.members.save_phone(member_id, phone)


class Fake:
    def __init__(self) -> None:
        self.members = self.ledger = self.books = MemoryBooks(PROGRAM)
        self.codes = MemoryPromoCodes()
        self.bot = MemoryBotTable()
        self.claims = MemoryClaims(self.members)
        self.campaigns = MemoryCampaigns()
        self.sent = MemorySentMessages()

    def join(self, member_id: str, phone: str) -> None:
        self.members.join(member_id, int(member_id), "ru", phone=phone)


@pytest.fixture(params=["real", "fake"])
def store(request: FixtureRequest) -> Fake | Real:
    if request.param == "real":
        request.getfixturevalue("stack")  # a clean moto server
        return Real()
    return Fake()


def credit(lot: str, points: int, available_at: datetime = NOW) -> Callable[[Wallet], Step]:
    return lambda wal: wallet.credit(wal, lot, points, NOW, available_at, None)


def test_an_entry_is_written_once_and_a_replay_returns_the_first_posting(store: Fake | Real) -> None:
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
    assert (present(store.members.get("801")).available, store.members.find_by_phone("+79160000801")) == (100, "801")


def test_writes_made_of_the_entry_go_with_it_in_one_transaction_once(store: Fake | Real) -> None:
    """A receipt's follow-ups are written with its entry (Ledger.apply's `also`): both or neither, and once."""
    store.join("809", "+79160000809")
    nudge = FollowUp(id="FU00000201", member_id="809", kind="nudge", name="site", due_at=NOW)
    made: list[int] = []

    def followups(entry: Entry) -> list[Any]:
        made.append(entry.details.credited)
        return store.bot.scheduled_writes([nudge])

    with pytest.raises(InsufficientPoints):  # the step refuses: no entry, and no follow-up either
        store.ledger.apply("809", "hold#x", Kind.HOLD,
                           lambda wal: wallet.hold(wal, "hold#x", 10, NOW, NOW + timedelta(days=1)), also=followups)
    assert store.bot.followup(nudge.id) is None and made == []
    first = store.ledger.apply("809", "receipt#f", Kind.ACCRUAL, credit("receipt#f", 40), now=NOW, also=followups)
    again = store.ledger.apply("809", "receipt#f", Kind.ACCRUAL, credit("receipt#f", 40), now=NOW, also=followups)
    assert (first.applied, again.applied, made[0]) == (True, False, 40)
    assert [found.id for found in store.bot.due(NOW)] == [nudge.id]


def test_a_replay_that_no_longer_fits_the_wallet_is_still_a_replay_and_a_refusal_writes_nothing(
        store: Fake | Real) -> None:
    store.join("802", "+79160000802")
    store.ledger.apply("802", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100), now=NOW)
    place = lambda wal: wallet.hold(wal, "h", 100, NOW, NOW + timedelta(minutes=30))  # noqa: E731
    held = store.ledger.apply("802", "hold#h", Kind.HOLD, place, now=NOW)
    assert store.ledger.apply("802", "hold#h", Kind.HOLD, place, now=NOW).entry == held.entry  # 0 left: replayed
    with pytest.raises(InsufficientPoints):
        store.ledger.apply("802", "hold#i", Kind.HOLD, lambda wal: wallet.hold(wal, "i", 1, NOW, NOW), now=NOW)
    assert store.ledger.entry("802", "hold#i") is None and present(store.members.get("802")).held == 100


def test_history_is_newest_first_and_the_due_index_follows_the_program(store: Fake | Real) -> None:
    store.join("803", "+79160000803")
    for day in range(3):
        store.ledger.apply("803", f"bonus#{day}", Kind.BONUS, credit(f"bonus#{day}", day + 1),
                           now=NOW + timedelta(days=day))
    assert [entry.entry_id for entry in store.ledger.history("803", 2)] == ["bonus#2", "bonus#1"]
    assert "803" not in set(store.ledger.due(NOW))
    store.ledger.apply("803", "receipt#p", Kind.ACCRUAL, credit("receipt#p", 5, NOW + timedelta(days=14)), now=NOW)
    assert "803" not in set(store.ledger.due(NOW + timedelta(days=13)))
    assert "803" in set(store.ledger.due(NOW + timedelta(days=14)))


def test_a_promo_code_exists_only_with_the_hold_written_in_its_transaction(store: Fake | Real) -> None:
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
def campaigns(request: FixtureRequest) -> CampaignStore | MemoryCampaigns:
    if request.param == "real":
        request.getfixturevalue("stack")
        return CampaignStore("CampaignsTable")
    return MemoryCampaigns()


def test_a_touch_is_recorded_settled_and_converted_once_each_with_its_counters(
        campaigns: CampaignStore | MemoryCampaigns) -> None:
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
                                          "revenue_kopecks": 45_000, "points_given": 150, "points_spent": 100,
                                          "held": 0, "merged": 0, "dropped": 0, "stopped": 0,
                                          "held_out": 0, "holdout_converted": 0, "holdout_revenue_kopecks": 0,
                                          "budget_used": 0, "over_budget": 0, "skipped": 0}
    assert campaigns.cursor("winback") is None
    campaigns.advance("winback", NOW)
    campaigns.advance("winback", NOW - timedelta(hours=1))  # an older run finishing late moves nothing back
    assert campaigns.cursor("winback") == NOW


def test_a_held_out_touch_converts_once_as_the_holdouts_and_a_delivered_one_does_not_convert_as_it(
        campaigns: CampaignStore | MemoryCampaigns) -> None:
    kept, sent = (Touch(campaign="offer", step=0, member_id=m, key=f"offer:0:{m}") for m in ("806", "807"))
    for touch in (kept, sent):
        campaigns.record(touch, 0, NOW)
    campaigns.settle("offer", touch_key(kept), HELD_OUT, NOW)
    campaigns.settle("offer", touch_key(sent), "delivered", NOW)
    assert not campaigns.convert("offer", touch_key(kept), 1_000, NOW)  # not as a delivery
    assert not campaigns.convert("offer", touch_key(sent), 1_000, NOW, held_out=True)
    assert campaigns.convert("offer", touch_key(kept), 150_000, NOW, held_out=True)
    assert not campaigns.convert("offer", touch_key(kept), 150_000, NOW, held_out=True)
    stats = campaigns.stats("offer")
    assert (stats["audience"], stats["held_out"], stats["holdout_converted"], stats["holdout_revenue_kopecks"],
            stats["converted"], stats["revenue_kopecks"]) == (2, 1, 1, 150_000, 0, 0)
    assert [(touch.member_id, touch.status, touch.delivered_at, touch.converted_at, touch.revenue_kopecks)
            for touch in campaigns.touches("offer")] == [
        ("806", HELD_OUT, clock.stamp(NOW), clock.stamp(NOW), 150_000), ("807", "delivered", clock.stamp(NOW), None, 0)]


def test_a_budget_is_taken_only_while_it_lasts_and_a_boosts_points_are_counted_once_per_receipt(
        campaigns: CampaignStore | MemoryCampaigns) -> None:
    assert campaigns.reserve("gift", 100, 250) and campaigns.reserve("gift", 100, 250)
    assert not campaigns.reserve("gift", 100, 250) and campaigns.spent("gift") == 200  # 50 left: not enough
    assert campaigns.reserve("gift", 50, 250) and campaigns.spent("gift") == 250
    for step in (0, 1):
        touch = Touch(campaign="gift", step=step, member_id="808", key=f"gift:{step}:x")
        campaigns.record(touch, 100 + step, NOW)
    campaigns.record(Touch(campaign="gift", step=0, member_id="809", key="gift:0:x"), 100, NOW)
    assert campaigns.given_to("gift", "808") == 201 and campaigns.given_to("gift", "810") == 0
    assert campaigns.boosted("double", "receipt-1", 120, NOW) and not campaigns.boosted("double", "receipt-1", 120, NOW)
    assert (campaigns.spent("double"), campaigns.stats("double")["points_given"]) == (120, 120)


def test_erasure_moves_a_members_campaign_deliveries_to_the_pseudonym_once(
        campaigns: CampaignStore | MemoryCampaigns) -> None:
    touch = Touch(campaign="winback", step=0, member_id="806", key="winback:0:2026-10-01T12:00:00+00:00")
    campaigns.record(touch, 0, NOW)
    campaigns.settle("winback", touch_key(touch), "delivered", NOW)
    assert campaigns.forget_member("806", "erased-806") == 1 and campaigns.forget_member("806", "erased-806") == 0
    assert not campaigns.touched(touch)
    assert campaigns.touched(touch.model_copy(update={"member_id": "erased-806"}))
    assert campaigns.stats("winback")["delivered"] == 1  # the figures stay whole


def test_the_lapse_window_holds_last_purchases_after_its_start_up_to_its_end(store: Fake | Real) -> None:
    store.join("806", "+79160000806")
    bought = NOW - timedelta(days=30)
    store.ledger.apply("806", "receipt#a", Kind.ACCRUAL, lambda wal: postings.purchase(
        PROGRAM, wal, "receipt#a", purchase_credit(PROGRAM, wal, [], "d2c", "d2c", NOW), 45_000, "lepestok.ru", "d2c",
        bought), now=NOW)
    audience = store.members

    def found(start: datetime, end: datetime) -> list[str]:
        return [item["member_id"] for item in audience.lapsed(clock.stamp(start), clock.stamp(end))]

    assert found(bought - timedelta(hours=1), bought) == ["806"]
    assert found(bought, bought + timedelta(hours=1)) == []  # the start is excluded: the last run took it
    (item,) = [item for item in audience.everyone() if item["member_id"] == "806"]
    assert (item["chat_id"], item["language"]) == (806, "ru")


def test_a_fifo_queue_takes_a_deduplication_id_once_and_keeps_each_group_in_order(stack: LocalStack) -> None:
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


# ---------------------------------------------------------------------------------------------- the prize draw
@pytest.fixture(params=["real", "fake"])
def draws(request: FixtureRequest) -> DrawStore | MemoryDraw:
    if request.param == "real":
        request.getfixturevalue("stack")
        return DrawStore("BotTable")
    return MemoryDraw()


def test_a_days_seed_is_made_once_and_a_spin_is_recorded_only_on_the_counts_it_was_drawn_from(
        draws: DrawStore | MemoryDraw) -> None:
    day = date(2031, 3, 4)  # a day no other test draws on
    seed = draws.seed(day, NOW)
    assert draws.seed(day, NOW + timedelta(hours=1)) == seed and len(seed) == 32
    (published,) = draws.seeds(day, day)
    assert (published["day"], published["hash"], published["seed"]) == ("2031-03-04", seed_hash(seed), seed.hex())
    counts, seq, version = draws.state()
    first = Spin(day="2031-03-04", seq=seq + 1, player="p-draw", number=1, before=counts)
    after = counts.model_copy(update={"day": "2031-03-04", "day_points": 50})
    assert draws.record(first, after, version)
    assert not draws.record(first.model_copy(update={"number": 2}), after, version)  # the counts moved meanwhile
    assert not draws.record(first.model_copy(update={"seq": seq + 2}), after, version + 1)  # this spin is written
    assert draws.state() == (after, seq + 1, version + 1)
    assert draws.spin_of("p-draw", 1) == first and draws.spin_of("p-draw", 2) is None
    assert draws.day(day) == [first]


# ---------------------------------------------------------------------------------------------- members (Members)
def test_joining_keeps_the_inviter_of_the_first_contact_and_later_contacts_refresh_chat_language_and_subscription(
        store: Fake | Real) -> None:
    first = store.members.join("811", 811, "ru", referred_by="810", via="campaign:spring")
    assert (first.referred_by, first.joined_via, first.subscribed) == ("810", "campaign:spring", True)
    assert store.members.unsubscribe("811") and not present(store.members.get("811")).subscribed
    again = store.members.join("811", 811, "en", referred_by="999")
    assert (again.referred_by, again.joined_via, again.language, again.subscribed) == ("810", "campaign:spring", "en",
                                                                                        True)
    assert store.members.join("812", 812, "ru", referred_by="812").referred_by is None  # nobody invites themselves
    assert not store.members.unsubscribe("nobody")


def test_a_phone_is_kept_with_consent_and_the_pending_receipt_is_handed_back_once(store: Fake | Real) -> None:
    store.members.join("813", 813, "ru")
    store.members.keep_pending("813", '{"submission_id": "tg-update:1"}')
    before = store.members.save_phone("813", "+79160000813", "https://brand.example/rules")
    assert (before.pending_receipt, before.phone, before.phone_before) == ('{"submission_id": "tg-update:1"}',
                                                                          "+79160000813", None)
    member = present(store.members.get("813"))
    assert (member.pending_receipt, member.rules_url, member.consented_at is not None) == (
        None, "https://brand.example/rules", True)
    assert store.members.save_phone("813", "+79160000814").phone_before == "+79160000813"
    assert store.members.find_by_phone("+79160000814") == "813"
    with pytest.raises(MemberNotFound):
        store.members.save_phone("nobody", "+79160000000")


def test_awaiting_an_answer_a_language_and_a_retired_import_are_kept_for_members_only(store: Fake | Real) -> None:
    store.members.join("814", 814, "ru")
    store.members.await_answer("814", "complaint", "FU1", "2026-12-01T10:00:00+00:00")
    assert present(store.members.get("814")).awaiting == {"kind": "complaint", "about": "FU1",
                                                 "until": "2026-12-01T10:00:00+00:00"}
    store.members.answered("814")
    store.members.choose_language("814", "en")
    member = present(store.members.get("814"))
    assert (member.awaiting, member.language, member.language_choice) == (None, "en", "en")
    store.join("815", "+79160000815")
    store.members.retire("815", "814")
    assert (present(store.members.get("815")).merged_into, store.members.find_by_phone("+79160000815")) == ("814", None)
    writes: list[Callable[[], object]] = [
        lambda: store.members.await_answer("nobody", "review", "x", "y"),
                  lambda: store.members.answered("nobody"), lambda: store.members.choose_language("nobody", "en"),
                  lambda: store.members.retire("nobody", "814"), lambda: store.members.erase("nobody")]
    for write in writes:
        with pytest.raises(MemberNotFound):
            write()


def test_a_phones_accounts_are_counted_once_each_and_a_suspect_member_keeps_the_rule(store: Fake | Real) -> None:
    assert [store.bot.phone_accounts("P1", account) for account in ("A", "B", "A", "C")] == [1, 2, 2, 3]
    assert store.bot.phone_accounts("P2", "A") == 1
    store.join("817", "+79160000817")
    store.members.suspect("817", "phone_accounts")
    store.members.suspect("817", "phone_accounts")
    assert list(present(store.members.get("817")).suspect) == ["phone_accounts"]
    with pytest.raises(MemberNotFound):
        store.members.suspect("nobody", "phone_accounts")


def test_erasure_leaves_a_pseudonym_and_moves_the_books_to_it_once(store: Fake | Real) -> None:
    store.join("816", "+79160000816")
    store.members.await_answer("816", "review", "FU2", "2026-12-01T10:00:00+00:00")
    store.ledger.apply("816", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 70), now=NOW)
    assert not store.books.rekey("816", "erased-x")  # not erased: nothing moves
    store.members.erase("816")
    erased = present(store.members.get("816"))
    pseudonym = present(erased.anonymous_id)
    assert (erased.phone, erased.chat_id, erased.awaiting, erased.subscribed) == (None, None, None, False)
    assert erased.erased_at and pseudonym.startswith("erased-")
    assert store.members.find_by_phone("+79160000816") is None
    assert store.books.rekey("816", pseudonym) and not store.books.rekey("816", pseudonym)
    assert store.members.get("816") is None and present(store.members.get(pseudonym)).available == 70
    assert [entry.entry_id for entry in store.ledger.history(pseudonym, 5)] == ["receipt#a"]


def test_a_delivered_touch_becomes_the_members_last_and_still_counts_when_the_member_is_gone(
        store: Fake | Real) -> None:
    store.join("817", "+79160000817")
    touches = [Touch(campaign="winback", step=1, member_id=member, key=f"winback:1:{member}") for member in
               ("817", "818")]
    for touch in touches:
        store.campaigns.record(touch, 0, NOW)
    last = {"campaign": "winback", "key": touch_key(touches[0]), "at": clock.stamp(NOW)}
    assert store.campaigns.settle("winback", touch_key(touches[0]), "delivered", NOW,
                                  also=[store.members.touched_item("817", last)])
    assert present(store.members.get("817")).last_touch == last
    gone = store.members.touched_item("818", last)  # never a member (or erased since the message went out)
    assert store.campaigns.settle("winback", touch_key(touches[1]), "delivered", NOW, also=[gone])
    assert not store.campaigns.settle("winback", touch_key(touches[1]), "delivered", NOW, also=[gone])
    assert store.campaigns.stats("winback")["delivered"] == 2 and store.members.get("818") is None


# ---------------------------------------------------------------------------------------------- the bot's memory
def test_an_invitation_code_is_made_once_leads_to_its_member_and_is_forgotten_on_erasure(store: Fake | Real) -> None:
    code = store.bot.invite_code("820")
    assert code == store.bot.invite_code("820") and len(code) == 8 and code.isalnum()
    assert store.bot.inviter(code) == "820" and store.bot.inviter("NOSUCH22") is None
    assert store.bot.inviter("not a code!") is None
    store.bot.forget_invitations("820")
    assert store.bot.inviter(code) is None and store.bot.invite_code("820") != code
    assert not store.bot.was_erased("821")
    store.bot.mark_erased("821")
    store.bot.mark_erased("821")
    assert store.bot.was_erased("821")


def test_a_message_about_to_go_is_kept_as_the_chats_last_once_and_given_back_if_it_did_not_go(
        store: Fake | Real) -> None:
    first, second = (OutboundMessage(dedupe_key=key, chat_id=829, text=text) for key, text in (("a", "первое"),
                                                                                              ("b", "второе")))
    assert store.sent.last_sent(829) is None
    assert store.sent.take(first) and store.sent.take(second) and not store.sent.take(first)
    assert present(store.sent.last_sent(829))[0].text == "второе"
    store.sent.give_back(second)  # Telegram refused it: the retry takes it again
    assert store.sent.take(second) and not store.sent.take(second)
    assert store.sent.take(OutboundMessage(dedupe_key="a", chat_id=830, text="другой чат"))


def test_a_followup_is_scheduled_once_due_until_settled_and_rated_and_clicked_once(store: Fake | Real) -> None:
    followup = FollowUp(id="FU00000001", member_id="822", kind="survey", name="survey", due_at=NOW,
                        fiscal_key="k", goods=["крем"])
    assert store.bot.schedule(followup) and not store.bot.schedule(followup)
    assert [found.id for found in store.bot.due(NOW - timedelta(minutes=1))] == []
    assert [found.id for found in store.bot.due(NOW)] == ["FU00000001"]
    assert not store.bot.rate("NOSUCHFU01", 5) and not store.bot.clicked("NOSUCHFU01")
    assert store.bot.rate("FU00000001", 4) and not store.bot.rate("FU00000001", 1)
    assert store.bot.clicked("FU00000001") and not store.bot.clicked("FU00000001")
    store.bot.settle("FU00000001", "sent")
    assert list(store.bot.due(NOW + timedelta(days=1))) == []
    kept = present(store.bot.followup("FU00000001"))
    assert (kept.status, kept.rating, kept.goods, kept.due_at) == ("sent", 4, ["крем"], NOW)


def test_a_nudge_counts_its_sends_and_stops_once(store: Fake | Real) -> None:
    assert store.bot.nudge_state("823", "site") == {}
    store.bot.nudged("823", "site", NOW)
    store.bot.nudged("823", "site", NOW + timedelta(days=1))
    state = store.bot.nudge_state("823", "site")
    assert (state["sent"], state["last_sent_at"]) == (2, clock.stamp(NOW + timedelta(days=1)))
    assert store.bot.stop_nudge("823", "site", NOW) and not store.bot.stop_nudge("823", "site", NOW)
    assert "stopped_at" in store.bot.nudge_state("823", "site")


def test_a_ticket_is_opened_once_and_decided_once(store: Fake | Real) -> None:
    ticket = Ticket(id="TK00000001", kind="review", member_id="824", followup_id="FU1")
    assert store.bot.open_ticket(ticket) and not store.bot.open_ticket(ticket)
    assert store.bot.close_ticket("TK00000001", "approved") and not store.bot.close_ticket("TK00000001", "rejected")
    assert present(store.bot.ticket("TK00000001")).status == "approved" and store.bot.ticket("NOSUCH") is None
    assert not store.bot.close_ticket("NOSUCH", "approved")


def test_erasure_renames_the_members_followups_and_tickets_and_drops_their_nudges_once(store: Fake | Real) -> None:
    store.bot.schedule(FollowUp(id="FU00000009", member_id="826", kind="nudge", name="site", due_at=NOW,
                                fiscal_key="1:2:3"))
    store.bot.open_ticket(Ticket(id="TK00000009", kind="complaint", member_id="826", followup_id="FU00000009"))
    store.bot.nudged("826", "site", NOW)
    store.bot.schedule(FollowUp(id="FU00000010", member_id="827", kind="survey", name="survey", due_at=NOW))
    assert store.bot.forget_member("826", "erased-826") == 3 and store.bot.forget_member("826", "erased-826") == 0
    followup = present(store.bot.followup("FU00000009"))
    assert (followup.member_id, followup.fiscal_key) == ("erased-826", "")
    assert present(store.bot.ticket("TK00000009")).member_id == "erased-826"
    assert store.bot.nudge_state("826", "site") == {}
    assert [found.id for found in store.bot.due(NOW)] == ["FU00000010"]  # never sent now; the others' stay


def test_a_submission_is_counted_in_both_windows_and_a_full_one_counts_nothing(store: Fake | Real) -> None:
    limits = {"minute": 2, "day": 3}
    store.join("828", "+79160000828")
    sent = iter(range(100))

    def admit(minute: str, submission: str | None = None, member: str = "828") -> str | None:
        found, full = store.members.admit(member, submission or f"tg-update:{next(sent)}",
                                          {"minute": minute, "day": "20261206"}, limits)
        assert found is not None and found.member_id == member  # read by the same request
        return full

    assert [admit("1015"), admit("1015", "tg-update:0"), admit("1015"), admit("1015")] == [None, None, None, "minute"]
    assert [admit("1016"), admit("1016")] == [None, "day"]  # the refused one of 10:15 took no slot of the day
    assert admit("1016", "tg-update:3") is None  # a redelivered update counted before: admitted, counted once
    store.join("829", "+79160000829")
    assert admit("1016", "tg-update:7", member="829") is None  # another member's limits are their own
    assert store.members.admit("830", "tg-update:8", {"minute": "1016", "day": "20261206"}, limits) == (None, None)
    assert store.members.get("830") is None  # nobody: nothing counted, and no member made


def test_the_last_of_a_reward_goes_with_one_entry_and_the_next_is_refused_with_nothing_written(
        store: Fake | Real) -> None:
    store.join("825", "+79160000825")
    store.ledger.apply("825", "receipt#a", Kind.ACCRUAL, credit("receipt#a", 100), now=NOW)
    def spend(hold: str) -> Callable[[Wallet], Step]:
        return lambda wal: wallet.hold(wal, hold, 10, NOW, NOW + timedelta(days=1))

    store.ledger.apply("825", "hold#o1", Kind.HOLD, spend("o1"), extra_items=[store.bot.take_item("mug", "o1", 1)],
                       now=NOW)
    assert store.bot.stock_left("mug", 1) == 0 and store.bot.stock_left("pen", 3) == 3
    with pytest.raises(ItemRefused):
        store.ledger.apply("825", "hold#o2", Kind.HOLD, spend("o2"), extra_items=[store.bot.take_item("mug", "o2", 1)],
                           now=NOW)
    assert store.ledger.entry("825", "hold#o2") is None and present(store.members.get("825")).held == 10


# ---------------------------------------------------------------------------------------------- receipt claims
SUMMARY = {"seller_inn": "7707083893", "refundable_kopecks": 45_000, "channel": "wildberries"}


def test_a_marked_item_is_claimed_by_one_receipt_its_own_again_and_given_back_only_by_it(store: Fake | Real) -> None:
    assert store.claims.claim_items("k:1", ["G:1", "G:2"]) == set()
    assert store.claims.claim_items("k:1", ["G:1", "G:2"]) == set()  # the same receipt again: its own
    assert store.claims.claim_items("k:2", ["G:2", "G:3"]) == {"G:2"}  # G:3 is claimed all the same
    store.claims.release_items("k:2", ["G:2"])  # not its to give back
    assert store.claims.claim_items("k:3", ["G:2", "G:3"]) == {"G:2", "G:3"}
    store.claims.release_items("k:2", ["G:3"])
    assert store.claims.claim_items("k:3", ["G:3"]) == set()


def test_a_tills_members_are_counted_once_each_a_day_and_a_members_receipts_from_a_till_in_a_window(
        store: Fake | Real) -> None:
    seen = [store.claims.members_seen("till:99", "2026-11-23", member, receipt)
            for member, receipt in (("A", "99:1:1"), ("B", "99:2:2"), ("A", "99:1:1"))]
    assert seen == [(1, {"99:1:1"}, False), (2, {"99:1:1", "99:2:2"}, False), (2, {"99:1:1", "99:2:2"}, False)]
    store.claims.held_earlier("till:99", "2026-11-23")
    assert store.claims.members_seen("till:99", "2026-11-23", "C", "99:4:4")[::2] == (3, True)
    assert store.claims.members_seen("till:99", "2026-11-24", "A", "99:3:3") == (1, {"99:3:3"}, False)
    store.join("839", "+79160000839")
    for fiscal_key in ("99:1:1", "99:2:2", "98:3:3"):
        store.claims.claim(fiscal_key, "839", f"tg-update:{fiscal_key}", SUMMARY, day="2026-11-23", max_per_day=None)
    assert store.claims.member_receipts_from("839", "99", "2000-01-01T00:00:00.000+00:00") == 2
    assert store.claims.member_receipts_from("839", "99", "2999-01-01T00:00:00.000+00:00") == 0
    assert present(store.claims.claimed("99:1:1"))["member_id"] == "839" and store.claims.claimed("0:0:0") is None
    assert sorted(claim["fiscal_key"] for claim in store.claims.purchases("839")) == ["98:3:3", "99:1:1", "99:2:2"]


def test_an_inviters_idle_friends_are_counted_across_days_and_one_who_buys_again_leaves_them(
        store: Fake | Real) -> None:
    store.claims.unsee("friends:X", "all", "A", ["1:1:1"])  # nobody seen yet: nothing to take out
    assert store.claims.members_seen("friends:X", "all", "A", "1:1:1", kept_days=30) == (1, {"1:1:1"}, False)
    assert store.claims.members_seen("friends:X", "all", "B", "2:2:2", kept_days=30)[:2] == (2, {"1:1:1", "2:2:2"})
    store.claims.unsee("friends:X", "all", "A", ["1:1:1", "1:1:9"])  # A bought again
    assert store.claims.members_seen("friends:X", "all", "C", "3:3:3", kept_days=30)[:2] == (2, {"2:2:2", "3:3:3"})
    store.claims.unsee("friends:X", "all", "B", ["2:2:2"])
    store.claims.unsee("friends:X", "all", "C", ["3:3:3"])  # every one of them bought again: the sets empty
    assert store.claims.members_seen("friends:X", "all", "D", "4:4:4", kept_days=30)[:2] == (1, {"4:4:4"})


def test_a_receipt_is_claimed_once_and_a_replay_of_the_same_submission_answers_as_the_first_time(
        store: Fake | Real) -> None:
    store.join("830", "+79160000830")
    first = store.claims.claim("k1", "830", "tg-update:1", SUMMARY, day="2026-11-23", max_per_day=5)
    again = store.claims.claim("k1", "830", "tg-update:1", SUMMARY, day="2026-11-23", max_per_day=5)
    assert (first.outcome, first.replayed, again.outcome, again.replayed) == ("earns", False, "earns", True)
    assert (present(again.record)["member_id"], present(again.record)["seller_inn"]) == ("830", "7707083893")
    with pytest.raises(ReceiptAlreadyClaimed):
        store.claims.claim("k1", "831", "tg-update:2", SUMMARY, day="2026-11-23", max_per_day=5)


def test_the_daily_limit_counts_earning_receipts_of_one_day_and_a_stranger_is_no_member(store: Fake | Real) -> None:
    store.join("832", "+79160000832")
    for n in range(2):
        store.claims.claim(f"d{n}", "832", f"s{n}", SUMMARY, day="2026-11-23", max_per_day=2)
    with pytest.raises(DailyLimitReached):
        store.claims.claim("d2", "832", "s2", SUMMARY, day="2026-11-23", max_per_day=2)
    assert store.claims.claim("d2", "832", "s2", SUMMARY, day="2026-11-24", max_per_day=2).outcome == "earns"
    with pytest.raises(MemberNotFound):
        store.claims.claim("d3", "nobody", "s3", SUMMARY, day="2026-11-24", max_per_day=2)
    if isinstance(store, Real):  # one write a claim whatever the day, and the member keeps only recent days' counts
        member = from_item(client("dynamodb").get_item(TableName="MembersTable",
                                                       Key=to_item({"member_id": "832"}))["Item"])
        assert {name: value for name, value in member.items() if name.startswith("receipts_on")} == \
            {"receipts_on_20261124": 1}


def test_an_orders_two_halves_pair_and_the_second_does_not_earn_again(store: Fake | Real) -> None:
    store.join("833", "+79160000833")
    window = timedelta(days=30)
    prepaid = OrderHalf("order-1", "prepayment", NOW, window)
    settled = OrderHalf("order-1", "settlement", NOW + timedelta(days=3), window)
    first = store.claims.claim("p1", "833", "s1", SUMMARY, day="2026-11-23", max_per_day=5, order=prepaid)
    second = store.claims.claim("p2", "833", "s2", SUMMARY, day="2026-11-26", max_per_day=5, order=settled)
    assert (first.outcome, first.paired_with, second.outcome, second.paired_with) == ("earns", None, "same_order", "p1")


def test_a_refund_takes_its_share_of_the_purchase_never_more_than_is_left(store: Fake | Real) -> None:
    store.join("834", "+79160000834")
    store.claims.claim("buy", "834", "s1", SUMMARY, day="2026-11-23", max_per_day=5)
    assert [claim["fiscal_key"] for claim in store.claims.purchases("834", "7707083893")] == ["buy"]
    assert store.claims.purchases("834", "0000000000") == []
    back = store.claims.claim("ret1", "834", "s2", {"seller_inn": "7707083893"}, day="", max_per_day=None,
                              refund=Refund("buy", 30_000))
    assert back.outcome == "reverses"
    with pytest.raises(RefundExceeded):
        store.claims.claim("ret2", "834", "s3", {"seller_inn": "7707083893"}, day="", max_per_day=None,
                           refund=Refund("buy", 20_000))


def test_a_review_is_paid_to_its_first_reporter_and_erased_claims_pass_to_the_pseudonym(store: Fake | Real) -> None:
    assert store.claims.claim_review("r1", "835") == "835" and store.claims.claim_review("r1", "836") == "835"
    store.join("837", "+79160000837")
    store.claims.claim("e1", "837", "s1", SUMMARY, day="2026-11-23", max_per_day=5)
    assert store.claims.reassign("837", "erased-y") == 1 and store.claims.reassign("837", "erased-y") == 0
    assert [claim["fiscal_key"] for claim in store.claims.purchases("erased-y", "7707083893")] == ["e1"]


# ---------------------------------------------------------------------------------------------- Telegram
class RealTelegram:
    """The senders' BotApi, and python-telegram-bot's TelegramBot for a shopper's files, against the Bot API emulator
    over HTTP."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.bot = BotApi(stack.telegram.url, stack.template.parameters["BotTokenSecretName"])
        self.files = TelegramBot(stack.telegram.url, stack.template.parameters["BotTokenSecretName"])

    def open(self, chat_id: int) -> None:
        _control(self.stack, f"/emulator/chats/{chat_id}/open")

    def block(self, chat_id: int) -> None:
        _control(self.stack, f"/emulator/chats/{chat_id}/block")

    def limit(self, chat_id: int, retry_after: int) -> None:
        _control(self.stack, f"/emulator/chats/{chat_id}/fail", {"status": 429, "retry_after": retry_after})

    def down(self, chat_id: int) -> None:
        _control(self.stack, f"/emulator/chats/{chat_id}/fail", {"status": 502, "description": "Bad Gateway"})

    def file(self, file_id: str, data: bytes) -> None:
        with self.stack.telegram.state.lock:
            self.stack.telegram.state.files[file_id] = (f"photos/{file_id}.jpg", data)

    def texts(self, chat_id: int) -> list[str]:
        with urllib.request.urlopen(f"{self.stack.telegram.url}/emulator/chats/{chat_id}", timeout=5) as response:
            return [entry["text"] for entry in json.load(response)]


class FakeTelegram:
    def __init__(self) -> None:
        self.bot = self.files = MemoryTelegram()

    def open(self, chat_id: int) -> None:
        self.bot.open(chat_id)

    def block(self, chat_id: int) -> None:
        self.bot.blocked.add(chat_id)

    def limit(self, chat_id: int, retry_after: int) -> None:
        self.bot.fail(chat_id, RateLimited("Too Many Requests", retry_after))

    def down(self, chat_id: int) -> None:
        self.bot.fail(chat_id, TelegramUnavailable("Bad Gateway"))

    def file(self, file_id: str, data: bytes) -> None:
        self.bot.files[file_id] = data

    def texts(self, chat_id: int) -> list[str]:
        return self.bot.texts(chat_id)


def _control(stack: LocalStack, path: str, payload: dict[str, Any] | dict[str, int] | None = None) -> None:
    request = urllib.request.Request(stack.telegram.url + path, data=json.dumps(payload or {}).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()


@pytest.fixture(params=["real", "fake"])
def telegram(request: FixtureRequest) -> FakeTelegram | RealTelegram:
    return RealTelegram(request.getfixturevalue("stack")) if request.param == "real" else FakeTelegram()


def test_telegram_delivers_to_an_open_chat_in_order_and_answers_each_refusal_as_the_domain_names_it(
        telegram: FakeTelegram | RealTelegram) -> None:
    with pytest.raises(MessageRejected):  # the shopper never wrote to the bot
        telegram.bot.send_message(840, "Привет")
    telegram.open(840)
    first = telegram.bot.send_message(840, "Привет", {"inline_keyboard": [[{"text": "Да", "callback_data": "y"}]]})
    second = telegram.bot.send_message(840, "<b>45</b> баллов", parse_mode="HTML")
    assert second > first and telegram.texts(840) == ["Привет", "<b>45</b> баллов"]
    with pytest.raises(MessageRejected):
        telegram.bot.send_message(840, "   ")
    with pytest.raises(MessageRejected):
        telegram.bot.send_photo(840, "no-such-file", "подпись")
    telegram.limit(840, 3)
    with pytest.raises(RateLimited) as limited:
        telegram.bot.send_message(840, "потом")
    assert limited.value.retry_after_seconds == 3
    telegram.down(840)
    with pytest.raises(TelegramUnavailable):
        telegram.bot.send_message(840, "потом")
    telegram.block(840)
    with pytest.raises(ChatBlocked):
        telegram.bot.send_message(840, "вы здесь?")
    assert telegram.texts(840) == ["Привет", "<b>45</b> баллов"]


def test_telegram_serves_a_file_a_shopper_sent_and_refuses_an_unknown_one(
        telegram: FakeTelegram | RealTelegram) -> None:
    telegram.file("photo-1", b"\xff\xd8 a receipt")
    assert telegram.files.download("photo-1") == b"\xff\xd8 a receipt"
    with pytest.raises(MessageRejected):
        telegram.files.download("photo-404")
    telegram.open(841)
    assert telegram.bot.send_photo(841, "photo-1", "Ваш чек") > 0 and telegram.texts(841) == ["Ваш чек"]


@pytest.fixture(params=["real", "fake"])
def drafts(request: FixtureRequest) -> ConsoleTable | MemoryConsoleTable:
    if request.param == "real":
        request.getfixturevalue("stack")
        return ConsoleTable("ConsoleTable")
    return MemoryConsoleTable()


def test_a_console_campaign_is_kept_over_the_version_before_it_and_a_taken_name_or_stale_page_is_refused(
        drafts: ConsoleTable | MemoryConsoleTable) -> None:
    spring = {"name": "spring", "kind": "broadcast", "at": (NOW + timedelta(days=30)).isoformat(),
              "messages": {"ru": {"text": "Весна"}}}
    new = composer.edited(None, composer.drafted(spring, None, NOW))
    assert drafts.made("spring") is None
    drafts.keep(new)
    assert drafts.made("spring") == new and drafts.all_made() == [new]
    with pytest.raises(CampaignRefused, match="с таким именем уже есть"):
        drafts.keep(new)  # another tab made one with the same name
    launched = composer.launched(new, NOW)
    drafts.keep(launched)
    with pytest.raises(CampaignRefused, match="уже изменили"):
        drafts.keep(composer.stopped(new.model_copy(update={"state": composer.State.RUNNING}), NOW))  # a stale page
    assert drafts.made("spring") == launched and launched.state == composer.State.SCHEDULED and launched.version == 2


def test_the_letters_that_reached_members_are_read_one_by_one_or_many_at_once_alike(store: Fake | Real) -> None:
    for day in (1, 3, 9):
        store.bot.contacted("830", Sent(at=NOW - timedelta(days=day), marketing=day != 3))
    store.bot.contacted("831", Sent(at=NOW - timedelta(hours=2), marketing=True))
    week = NOW - timedelta(days=7)
    many = store.bot.contacts_of(["830", "831", "832"], week)
    assert many == {member: store.bot.contacts(member, week) for member in ("830", "831", "832")}
    assert [(sent.at, sent.marketing) for sent in many["830"]] == [
        (NOW - timedelta(days=3), False), (NOW - timedelta(days=1), True)]  # oldest first, the week's only
    assert many["832"] == []
