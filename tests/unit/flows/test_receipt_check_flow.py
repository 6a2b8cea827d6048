"""ReceiptCheck (flows/receipt_check.py) on the fakes: a receipt fetched, judged and claimed once; every refusal
answered in the shopper's words; the receipt service or Telegram failing retried, then given up politely."""

import json
from datetime import datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pytest import MonkeyPatch

from loyalty.contracts import ReceiptAccepted, ReceiptHeldLater, ReceiptSubmitted, Shopper, TelegramFile
from loyalty.domain.errors import ReceiptNotFound, ReceiptServiceUnavailable, TelegramUnavailable
from loyalty.domain.messages import render
from loyalty.domain.program import Program
from loyalty.domain.qr import ReceiptQuery
from loyalty.domain.receipt import MOSCOW, normalise_one
from loyalty.flows.accrual import InProcess, PointAccrual
from loyalty.flows.outcomes import PermanentFailure, RetryLater
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty_tools.local.receipts import fns_app_export, marketplace_receipt, qr_of
from tests.conftest import present
from tests.fakes import (
    STACK_KEY,
    MemoryBooks,
    MemoryClaims,
    MemoryOutbox,
    MemoryPromoCodes,
    MemoryQueue,
    MemoryTelegram,
)
from tests.unit.flows.conftest import NOW, PROGRAM

BRAND = PROGRAM.brand.supplier_inns[0]
CREAM = ("Лепесток крем для рук 50 мл", 45_000, 1)


class ReceiptService:
    """The receipt service as the flow sees it: the receipts it knows, by their fiscal key."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, Any]] = {}
        self.down = False

    def add(self, raw: dict[str, Any]) -> dict[str, Any]:
        self.known[str(normalise_one(raw).key)] = raw
        return raw

    def fetch(self, query: ReceiptQuery) -> dict[str, Any]:
        if self.down:
            raise ReceiptServiceUnavailable("HTTP 503", retry_after_seconds=60)
        if str(query.key) not in self.known:
            raise ReceiptNotFound(str(query.key))
        return self.known[str(query.key)]


class Checking:
    def __init__(self, program: Program = PROGRAM) -> None:
        self.books = MemoryBooks(program)
        self.claims, self.outbox, self.service, self.telegram = MemoryClaims(self.books), MemoryOutbox(), \
            ReceiptService(), MemoryTelegram()
        self.queue, self.accepted_queue = MemoryQueue(), MemoryQueue()  # AccrualQueue; the accrual in process
        self.check = ReceiptCheck(program, self.claims, self.outbox, self.queue, self.accepted_queue,
                                  lambda: self.service, lambda: self.telegram, fetch_attempts=3, keyed=STACK_KEY)
        self._fd = iter(range(1, 10_000))

    def receipt(self, *lines: tuple[str, int, int], supplier_inn: str = BRAND) -> dict[str, Any]:
        issued = datetime(2026, 11, 23, 10, tzinfo=MOSCOW)
        return self.service.add(marketplace_receipt(supplier_inn, list(lines or [CREAM]), next(self._fd),
                                                    issued_at=issued))

    def submit(self, member_id: str, raw: dict[str, Any] | None = None, submission: str | None = None, attempt: int = 1,
               suspect: tuple[str, ...] = (), invited_by: str | None = None, **message: Any) -> ReceiptSubmitted:
        self.books.join(member_id)
        submitted = ReceiptSubmitted(submission_id=submission or f"tg-update:{next(self._fd)}",
                                     shopper=Shopper(member_id=member_id, chat_id=int(member_id), language="ru",
                                                     suspect=suspect, invited_by=invited_by),
                                     qr=qr_of(raw) if raw is not None else None, **message)
        self.check.handle(submitted, attempt)
        return submitted

    def accepted(self) -> list[Any | ReceiptAccepted]:
        return [message for message in self.accepted_queue.messages if isinstance(message, ReceiptAccepted)]

    def told(self, member_id: str) -> list[Any | str]:
        return self.outbox.texts(int(member_id))


@pytest.fixture
def checking(monkeypatch: MonkeyPatch) -> Checking:
    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    return Checking()


def test_a_brand_receipt_is_accepted_with_its_goods_and_channel(checking: Checking) -> None:
    checking.submit("801", checking.receipt())
    (accepted,) = checking.accepted()
    assert (accepted.channel, accepted.channel_kind, accepted.brand_sum_kopecks) == ("wildberries", "marketplace",
                                                                                      45_000)
    assert [line.name for line in accepted.lines] == [CREAM[0]] and checking.told("801") == []


def test_a_submission_on_accrual_queue_is_checked_and_credited_in_one_delivery_and_once(checking: Checking) -> None:
    """PointAccrualFunction's record: the check hands the accepted receipt to the accrual in process (no queue
    between them), and the shopper's "+N баллов" leaves with the delivery; SQS's redelivery credits nothing more."""
    accrual = PointAccrual(PROGRAM, checking.books, checking.outbox, MemoryPromoCodes(), STACK_KEY)
    accrual.receipts = ReceiptCheck(PROGRAM, checking.claims, checking.outbox, checking.queue,
                                    InProcess(accrual), lambda: checking.service, lambda: checking.telegram,
                                    fetch_attempts=3, keyed=STACK_KEY)
    checking.books.join("830")
    submitted = ReceiptSubmitted(submission_id="tg-update:30", shopper=Shopper(member_id="830", chat_id=830,
                                                                               language="ru"),
                                 qr=qr_of(checking.receipt()))
    record = SQSRecord({"messageId": "m", "body": submitted.model_dump_json(),
                        "attributes": {"ApproximateReceiveCount": "1"}})
    accrual.handle_record(record)
    credited = present(checking.books.get("830")).pending + present(checking.books.get("830")).available
    assert credited > 0 and checking.queue.messages == []  # nothing went through the queue
    (told,) = checking.told("830")  # the points, and the level the first purchase reached: one message
    points, level = told.split("\n\n")
    assert points.startswith(f"+{credited} баллов") and level.startswith("Поздравляем, ваш новый уровень")
    accrual.handle_record(record)
    assert present(checking.books.get("830")).pending + present(checking.books.get("830")).available == credited
    assert checking.told("830") == [told]


def test_a_redelivered_submission_is_accepted_again_and_another_shoppers_is_a_duplicate(checking: Checking) -> None:
    raw = checking.receipt()
    checking.submit("802", raw, submission="tg-update:1")
    checking.submit("802", raw, submission="tg-update:1")  # SQS's redelivery: the accrual's entry key pays once
    assert [accepted.submission_id for accepted in checking.accepted()] == ["tg-update:1", "tg-update:1"]
    checking.submit("803", raw, submission="tg-update:2")
    assert len(checking.accepted()) == 2
    assert checking.told("803") == [render("receipt_duplicate", "ru")]


def test_a_receipt_without_the_brands_goods_or_unknown_to_the_service_is_refused_politely(checking: Checking) -> None:
    checking.submit("804", checking.receipt(("Чужой шампунь", 30_000, 1), supplier_inn="7700000099"))
    unknown = marketplace_receipt(BRAND, [CREAM], 9_999)  # never registered with the service
    checking.submit("804", unknown)
    assert checking.accepted() == []
    no_goods = f"В чеке с Wildberries нет товаров {PROGRAM.brand.name}, поэтому баллов за него нет."
    assert checking.told("804") == [no_goods, render("receipt_not_found", "ru")]


def test_the_daily_limit_counts_a_members_receipts_of_one_moscow_day(monkeypatch: MonkeyPatch) -> None:
    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    program = PROGRAM.model_copy(update={"receipts": PROGRAM.receipts.model_copy(update={"max_per_day": 1})})
    checking = Checking(program)
    checking.submit("805", checking.receipt())
    checking.submit("805", checking.receipt())
    assert len(checking.accepted()) == 1
    assert checking.told("805") == [render("receipt_daily_limit", "ru", limit=1)]


def marked(raw: dict[str, Any], *serials: str | None) -> dict[str, Any]:
    """The receipt with a marking code (Честный ЗНАК: GTIN and serial) on each of its lines."""
    items = [{**item, "productType": 33, "productCodeNew": {"gs1m": {"gtin": "04607012345678", "sernum": serial}}}
             if serial else item for item, serial in zip(raw["items"], serials, strict=True)]
    return {**raw, "items": items}


def test_one_marked_item_earns_once_across_members_and_receipts(checking: Checking) -> None:
    """A resale (or a return and rebuy) lists the same physical item again: that line earns nothing the second
    time; the receipt's other lines still do, and a receipt left with nothing is refused in the shopper's words."""
    first = checking.service.add(marked(checking.receipt(CREAM), "5Xq!8jK2"))
    checking.submit("820", first, submission="tg-update:20")
    checking.submit("820", first, submission="tg-update:20")  # redelivered: its own item is still its own
    serum = ("Лепесток сыворотка для лица 30 мл", 129_000, 1)
    resold = checking.service.add(marked(checking.receipt(CREAM, serum), "5Xq!8jK2", "Zz9-0001"))
    checking.submit("821", resold)
    again = checking.service.add(marked(checking.receipt(CREAM), "5Xq!8jK2"))
    checking.submit("822", again)
    accepted = checking.accepted()
    assert [(a.shopper.member_id, [line.name for line in a.lines]) for a in accepted] == [
        ("820", [CREAM[0]]), ("820", [CREAM[0]]), ("821", [serum[0]])]
    assert accepted[-1].brand_sum_kopecks == 129_000
    assert checking.told("822") == [render("receipt_items_earned_before", "ru")]


def test_a_marked_item_on_a_receipt_over_the_days_limit_is_given_back_for_the_receipt_that_earns(
        monkeypatch: MonkeyPatch) -> None:
    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    program = PROGRAM.model_copy(update={"receipts": PROGRAM.receipts.model_copy(update={"max_per_day": 1})})
    checking = Checking(program)
    checking.submit("823", checking.receipt())
    over = checking.service.add(marked(checking.receipt(CREAM), "AAAA0001"))
    checking.submit("823", over)  # refused: the day's one receipt is spent
    checking.submit("824", checking.service.add(marked(checking.receipt(CREAM), "AAAA0001")))
    assert [a.shopper.member_id for a in checking.accepted()] == ["823", "824"]


def test_a_till_many_members_send_receipts_from_holds_the_receipts_over_the_threshold(
        monkeypatch: MonkeyPatch) -> None:
    """A receipt farm: one unlisted shop's fiscal drive, receipts of more members in a day than its threshold. The
    first ones pass, the rest are held (their points wait for the staff); a listed marketplace's drive serves
    everyone and is never counted; one member's many receipts from one till trip their own rule."""
    from loyalty.domain.fraud import Fraud, Rule, RuleName

    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    rules = [Rule(rule=RuleName.TILL_MEMBERS, threshold=2), Rule(rule=RuleName.MEMBER_TILL, threshold=2, days=7)]
    checking = Checking(PROGRAM.model_copy(update={"fraud": Fraud(rules=rules)}))

    def farmed(fd: int) -> dict[str, Any]:
        return checking.service.add(marketplace_receipt(BRAND, [CREAM], fd, seller_inn="7700000055",
                                                        seller="ИП Фермер", retail_place="Ларёк", fn="9960440300000001",
                                                        issued_at=datetime(2026, 11, 23, 10, tzinfo=MOSCOW)))

    for member, fd in (("830", 501), ("831", 502), ("832", 503), ("830", 504)):
        checking.submit(member, farmed(fd), submission=f"tg-update:{fd}")
    checking.submit("832", farmed(503), submission="tg-update:503")  # redelivered: counted once
    for member in ("833", "834", "835"):
        checking.submit(member, checking.receipt())  # Wildberries: one drive for everyone
    held = {(a.shopper.member_id, a.fiscal_key.split(":")[1]): a.held_by for a in checking.accepted()}
    assert held[("830", "501")] == () and held[("831", "502")] == ()  # credited before the farm showed …
    later = {(c.member_id, c.fiscal_key.split(":")[1], c.held_by) for c in checking.queue.messages
             if isinstance(c, ReceiptHeldLater)}  # (said again while the count stands: the ledger holds once)
    assert {("830", "501", ("till_members",)), ("831", "502", ("till_members",))} <= later  # … held now
    assert all(held[(member, fd)] for member, fd, _ in later - {("830", "501", ("till_members",)),
                                                                ("831", "502", ("till_members",))})  # already held
    assert held[("832", "503")] == ("till_members",) and held[("830", "504")] == ("till_members",)
    assert all(by == () for (member, _), by in held.items() if member in ("833", "834", "835"))
    for fd in (505, 506):
        checking.submit("836", farmed(fd))
    checking.submit("836", checking.service.add(marketplace_receipt(
        BRAND, [CREAM], 507, seller_inn="7700000055", fn="9960440300000001",
        issued_at=datetime(2026, 11, 23, 11, tzinfo=MOSCOW))))
    assert [a.held_by for a in checking.accepted() if a.shopper.member_id == "836"][-1] == (
        "till_members", "member_till")  # its 3rd from that till, and the till's 4th member


def test_an_inviter_whose_friends_buy_once_and_never_again_has_the_next_friends_first_receipt_held(
        monkeypatch: MonkeyPatch) -> None:
    """A referral ring: accounts invited by one member, each sending one receipt (the one that pays both invitation
    bonuses) and never buying again. Past the threshold the next friend's first receipt is held (its bonuses wait
    with it), and the earlier idle friends' receipts are held later. A friend who buys again is no longer idle; an
    honest inviter's friends who keep buying never trip it; a receipt of no invited member is never counted."""
    from loyalty.domain.fraud import Fraud, Rule, RuleName

    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    checking = Checking(PROGRAM.model_copy(update={"fraud": Fraud(rules=[
        Rule(rule=RuleName.IDLE_FRIENDS, threshold=2, days=30)])}))
    first = {member: checking.receipt() for member in ("861", "862", "863", "864")}
    checking.submit("861", first["861"], invited_by="860")
    checking.submit("862", first["862"], invited_by="860")
    checking.submit("862", checking.receipt(), invited_by="860")  # 862 buys again: a friend, not a ring account
    checking.submit("863", first["863"], invited_by="860")
    checking.submit("863", first["863"], submission="tg-update:again", invited_by="860")  # another's claim: refused
    checking.submit("864", first["864"], invited_by="860")  # 861, 863, 864 bought once: over 2
    checking.submit("865", checking.receipt(), invited_by="860")
    checking.submit("866", checking.receipt())  # nobody invited 866
    held = [(a.shopper.member_id, a.held_by) for a in checking.accepted()]
    assert held == [("861", ()), ("862", ()), ("862", ()), ("863", ()), ("864", ("idle_friends",)),
                    ("865", ("idle_friends",)), ("866", ())]
    later = [(c.member_id, c.fiscal_key) for c in checking.queue.messages if isinstance(c, ReceiptHeldLater)]
    keys = {member: str(normalise_one(raw).key) for member, raw in first.items()}
    assert sorted(later) == [("861", keys["861"]), ("863", keys["863"])]  # once: the earlier idle ones, not 862

    honest = Checking(PROGRAM.model_copy(update={"fraud": Fraud(rules=[
        Rule(rule=RuleName.IDLE_FRIENDS, threshold=2, days=30)])}))
    for friend in ("871", "872", "873", "874"):
        for _ in range(2):
            honest.submit(friend, honest.receipt(), invited_by="870")
    assert all(a.held_by == () for a in honest.accepted()) and len(honest.accepted()) == 8


def test_a_suspect_members_receipts_are_held_anywhere_while_the_program_has_that_rule(
        monkeypatch: MonkeyPatch) -> None:
    from loyalty.domain.fraud import Fraud, Rule, RuleName

    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    checking = Checking(PROGRAM.model_copy(update={"fraud": Fraud(rules=[
        Rule(rule=RuleName.PHONE_ACCOUNTS, threshold=1)])}))
    checking.submit("840", checking.receipt(), suspect=("phone_accounts",))  # Wildberries: held all the same
    checking.submit("841", checking.receipt())
    assert [(a.shopper.member_id, a.held_by) for a in checking.accepted()] == [("840", ("phone_accounts",)),
                                                                               ("841", ())]
    lenient = Checking(PROGRAM.model_copy(update={"fraud": Fraud()}))  # the rule dropped: a flag left holds nothing
    lenient.submit("842", lenient.receipt(), suspect=("phone_accounts",))
    assert [a.held_by for a in lenient.accepted()] == [()]
    lenient.submit("843", lenient.receipt(), suspect=("staff_blocked",))  # support's block holds without any rule
    assert [a.held_by for a in lenient.accepted()][-1] == ("staff_blocked",)


def test_a_brand_item_whose_serial_the_brand_never_put_in_circulation_is_recorded_and_earns_as_the_brand_chose(
        monkeypatch: MonkeyPatch) -> None:
    from loyalty.domain.fraud import Fraud, Serials

    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    outcomes = {}
    for choice in ("earn", "hold", "refuse"):
        checking = Checking(PROGRAM.model_copy(update={"fraud": Fraud(serials=Serials(unlisted=choice))}))
        checking.claims.load_serials(["04607012345678:LISTED-1"])
        checking.submit("850", checking.service.add(marked(checking.receipt(CREAM), "LISTED-1")))
        checking.submit("851", checking.service.add(marked(checking.receipt(CREAM), "GREY-0001")))
        unloaded = marked(checking.receipt(CREAM), "ANY")  # another GTIN, whose serials were never loaded
        unloaded["items"][0]["productCodeNew"]["gs1m"]["gtin"] = "04607000000001"
        checking.submit("852", checking.service.add(unloaded))
        outcomes[choice] = ([(a.shopper.member_id, a.held_by) for a in checking.accepted()],
                            [item["code"] for item in checking.claims.grey_items()], checking.told("851"))
    assert outcomes["earn"] == ([("850", ()), ("851", ()), ("852", ())], ["04607012345678:GREY-0001"], [])
    assert outcomes["hold"][0] == [("850", ()), ("851", ("grey_market",)), ("852", ())]
    assert outcomes["refuse"][0] == [("850", ()), ("852", ())]
    assert outcomes["refuse"][2] == [render("receipt_items_grey_market", "ru", brand=PROGRAM.brand.name)]
    assert all(grey == ["04607012345678:GREY-0001"] for _, grey, _ in outcomes.values())  # reported whatever


def test_a_service_outage_is_retried_and_the_last_attempt_parks_it_and_tells_the_shopper(checking: Checking) -> None:
    raw = checking.receipt()
    checking.service.down = True
    with pytest.raises(RetryLater) as retry:
        checking.submit("806", raw, submission="tg-update:6")
    assert retry.value.delay_seconds == 60 and checking.told("806") == []
    with pytest.raises(PermanentFailure, match="gave up after 3 attempts"):
        checking.submit("806", raw, submission="tg-update:6", attempt=3)
    assert checking.told("806") == [render("receipt_delayed", "ru")]
    checking.service.down = False  # `loyalty dlq redrive` later: accepted then
    checking.submit("806", raw, submission="tg-update:6")
    assert len(checking.accepted()) == 1


def test_a_file_from_the_fns_app_becomes_one_submission_per_receipt(checking: Checking) -> None:
    first, second = checking.receipt(), checking.receipt()
    checking.telegram.files["doc-1"] = json.dumps(fns_app_export(first, second)).encode()
    checking.submit("807", file=TelegramFile(file_id="doc-1", kind="document"), submission="tg-update:7")
    assert [submitted.qr for submitted in checking.queue.messages] == [qr_of(first), qr_of(second)]
    assert all(submitted.submission_id.startswith("tg-update:7#") for submitted in checking.queue.messages)
    assert checking.told("807") == [render("file_received", "ru", count=2)]


def test_a_file_with_one_receipt_gets_no_second_acknowledgement(checking: Checking) -> None:
    only = checking.receipt()
    checking.telegram.files["doc-9"] = json.dumps(fns_app_export(only)).encode()
    checking.submit("809", file=TelegramFile(file_id="doc-9", kind="document"), submission="tg-update:9")
    assert checking.told("809") == []  # not «чеков в нём: 1»: the webhook said «Чек принят», its result follows
    assert len(checking.queue.messages) == 1


def test_a_file_telegram_will_not_serve_is_refused_and_one_it_cannot_serve_now_is_retried(checking: Checking) -> None:
    with pytest.raises(PermanentFailure, match="will not serve"):
        checking.submit("808", file=TelegramFile(file_id="gone", kind="document"))
    assert checking.told("808") == [render("file_unavailable", "ru")]
    checking.telegram.files["doc-2"] = b"{}"
    checking.telegram.fail_downloads = TelegramUnavailable("Bad Gateway")
    with pytest.raises(RetryLater):
        checking.submit("808", file=TelegramFile(file_id="doc-2", kind="document"))


def test_a_file_that_holds_no_receipt_is_answered_and_queues_nothing(checking: Checking) -> None:
    checking.telegram.files["doc-3"] = b"not json at all"
    checking.submit("809", file=TelegramFile(file_id="doc-3", kind="document"))
    assert checking.queue.messages == [] and checking.told("809") == [render("file_unreadable", "ru")]
