"""The bot (flows/webhook.py: Webhook, Bot) on the fakes, fed real python-telegram-bot Updates: joining, the phone,
receipts before and after it, invitations, commands, erasure, and the HTTP edge's answers. Milliseconds each; the
local stack proves the same wiring end to end (tests/integration/test_bot_webhook.py, tests/e2e/test_bot.py)."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pytest import MonkeyPatch

from loyalty import clock
from loyalty.contracts import (
    BonusGranted,
    HeldReceiptDecided,
    MemberErased,
    OutboundMessage,
    PromoRequested,
    ReceiptAccepted,
    ReceiptHeldLater,
    ReceiptSubmitted,
    RewardRequested,
    Shopper,
)
from loyalty.domain.errors import Contended
from loyalty.domain.fraud import Fraud, Rule, RuleName
from loyalty.domain.fraud_report import FraudReportBuilder
from loyalty.domain.messages import render
from loyalty.flows.accrual import PointAccrual
from loyalty.flows.campaigns import Touches
from loyalty.flows.crm_feed import CrmFeed
from loyalty.flows.erasure import Erasure
from loyalty.flows.followups import FollowUps
from loyalty.flows.webhook import Bot, Webhook
from loyalty_tools.fraud_cli import render as render_fraud_report
from tests.conftest import present
from tests.fakes import (
    STACK_KEY,
    MemoryBooks,
    MemoryBotTable,
    MemoryCampaigns,
    MemoryClaims,
    MemoryDeadLetters,
    MemoryFifoQueue,
    MemoryOnce,
    MemoryOutbox,
    MemoryPromoCodes,
    MemoryQueue,
)
from tests.telegram_updates import contact_of, in_staff_chat, tapped, telegram_update
from tests.unit.flows.conftest import PROGRAM

QR = "t=20261123T1200&s=450.00&fn=7380440800000017&i=101&fp=2791184930&n=1"
SECRET = "webhook-secret"


class Submitted:
    """The receipts the bot submitted: those of AccrualQueue's messages (it also takes the ledger's commands)."""

    def __init__(self, queue: MemoryQueue):
        self.queue = queue

    @property
    def messages(self) -> list[ReceiptSubmitted]:
        return [message for message in self.queue.messages if isinstance(message, ReceiptSubmitted)]


class BotWorld:
    """The bot and the points it queues, on one set of fakes."""

    def __init__(self) -> None:
        self.books, self.table, self.outbox = MemoryBooks(PROGRAM), MemoryBotTable(), MemoryOutbox()
        self.accrual_queue, self.crm = MemoryQueue(), MemoryFifoQueue()
        self.receipts = Submitted(self.accrual_queue)
        self.claims, self.dead_letters = MemoryClaims(self.books), MemoryDeadLetters()
        self.bot = Bot(PROGRAM, self.books, self.books, self.outbox, self.accrual_queue, self.table, STACK_KEY,
                       CrmFeed(self.crm))
        self.once = MemoryOnce("update", lambda update: str(update["update_id"]))
        self.webhook = Webhook(self.bot, self.once, lambda: SECRET, self.dead_letters)
        erasure = Erasure(self.books, self.books, self.claims, self.books)
        self.accrual = PointAccrual(PROGRAM, self.books, self.outbox, MemoryPromoCodes(), STACK_KEY, None, self.table,
                                    erasure)
        self._ids = iter(range(1000, 100_000))

    def says(self, user_id: int, text: str | None = None, **message: Any) -> dict[str, Any]:
        return self.handle(telegram_update(next(self._ids), user_id, text, **message))

    def taps(self, user_id: int, data: str) -> dict[str, Any]:
        return self.handle(tapped(next(self._ids), user_id, data))

    def handle(self, update: dict[str, Any]) -> dict[str, Any]:
        """The bot's handling of one update; an acknowledgement in its answer reaches the chat, as Telegram takes it
        from the webhook's answer (here: into the outbox, where the member's other messages are read)."""
        outcome = self.bot.handle(update)
        if outcome.get("reply"):
            self.outbox.put(OutboundMessage(dedupe_key=f"answer:{update['update_id']}",
                                            chat_id=update["message"]["chat"]["id"], text=outcome["reply"]))
        return outcome

    def joins(self, user_id: int, phone: str = "+7 916 000-00-00", start: str = "") -> dict[str, Any]:
        self.says(user_id, f"/start {start}".strip())
        return self.says(user_id, contact=contact_of(user_id, phone))

    def settle_points(self) -> None:
        """What PointAccrualFunction does with the queued ledger commands (each as the SQS record it arrives in).
        The submitted receipts stay queued, for the tests that read them (their check: test_receipt_check_flow)."""
        queued = self.accrual_queue.messages
        commands = [message for message in queued if not isinstance(message, ReceiptSubmitted)]
        self.accrual_queue.messages = [message for message in queued if isinstance(message, ReceiptSubmitted)]
        for command in commands:
            self.accrual.handle_record(SQSRecord({"messageId": "m", "body": command.model_dump_json()}))

    def texts(self, user_id: int) -> list[str]:
        """What the member was told: the bot's answers, and the letters (a staff decision, a friend's bonus) as the
        postman would have sent them by now."""
        self.deliver_letters()
        return self.outbox.texts(user_id)

    def deliver_letters(self) -> None:
        """The postman's runs, hour by hour, until every letter due went (as the campaigns function's schedule
        would, keeping to the contact policy): bounded by a few days, it says what was left if that is not enough."""
        postman = FollowUps(PROGRAM, self.table, self.books, Touches(PROGRAM, self.books, MemoryCampaigns(),
                                                                     MemoryOutbox()), outbox=self.outbox)
        start = clock.now()
        for hour in range(24 * 4):
            if not [key for key in self.table.due_ids if self.table.followups[key].kind == "notice"]:
                return
            postman.run(start + timedelta(hours=hour))
        raise AssertionError(f"letters still due after 4 days: {sorted(self.table.due_ids)}")


@pytest.fixture
def world() -> BotWorld:
    return BotWorld()


def test_a_newcomer_is_welcomed_and_asked_for_the_phone_and_the_welcome_bonus_waits_for_it(world: BotWorld) -> None:
    assert world.says(501, "/start insert_wb")["action"] == "welcomed"
    member = present(world.books.get("501"))
    assert (member.chat_id, member.phone, member.joined_via) == (501, None, "organic")
    assert world.accrual_queue.messages == []  # no bonus before the rules are accepted with the phone
    assert world.says(501, contact=contact_of(501, "+7 916 000-05-01"))["action"] == "phone_saved"
    assert present(world.books.get("501")).phone == "+79160000501" and present(world.books.get("501")).consented_at
    (bonus,) = world.accrual_queue.messages
    assert isinstance(bonus, BonusGranted) and (bonus.bonus, bonus.reference) == ("welcome", "501")
    assert present(world.books.get("501")).name == "Анна"  # as Telegram shows her: a campaign may greet her
    world.settle_points()
    assert present(world.books.get("501")).available == PROGRAM.bonuses.welcome > 0
    registered = [event for batch in world.crm.messages for event in batch.events if event.type == "member_registered"]
    assert [(event.phone, event.consent) for event in registered] == [("+79160000501", True)]


def test_a_receipt_sent_before_the_phone_is_kept_and_goes_on_once_the_phone_is_shared(world: BotWorld) -> None:
    assert world.says(502, QR)["action"] == "phone_needed"
    assert world.receipts.messages == [] and present(world.books.get("502")).pending_receipt
    saved = world.says(502, contact=contact_of(502, "+7 916 000-05-02"))
    assert saved == {"action": "phone_saved", "pending_receipt": True}
    (submitted,) = world.receipts.messages
    assert isinstance(submitted, ReceiptSubmitted) and submitted.qr == QR
    assert present(world.books.get("502")).pending_receipt is None
    assert world.says(502, QR)["action"] == "receipt_submitted" and len(world.receipts.messages) == 2
    assert render("receipt_accepted", "ru") in world.texts(502)


def test_somebody_elses_contact_card_is_refused_and_no_phone_is_kept(world: BotWorld) -> None:
    world.says(503, "/start")
    assert world.says(503, contact=contact_of(999, "+7 916 000-09-99"))["action"] == "foreign_contact"
    assert present(world.books.get("503")).phone is None and world.books.find_by_phone("+79160000999") is None
    assert world.accrual_queue.messages == []


def test_an_invitation_link_names_the_inviter_from_the_first_contact_only(world: BotWorld) -> None:
    world.joins(504, "+7 916 000-05-04")
    world.says(504, "/invite")
    code = world.table.invite_code("504")
    assert f"start=ref_{code}" in world.texts(504)[-1]
    assert world.says(505, f"/start ref_{code}")["invited"] is True
    assert present(world.books.get("505")).referred_by == "504"
    world.says(505, "/start ref_ZZZZZZZZ")  # a later link changes nothing
    assert present(world.books.get("505")).referred_by == "504"
    assert world.says(504, f"/start ref_{code}")["action"] == "welcomed_back"  # one's own link invites nobody
    assert present(world.books.get("504")).referred_by is None


def test_text_that_is_no_receipt_gets_a_polite_answer_and_queues_nothing(world: BotWorld) -> None:
    world.joins(506)
    assert world.says(506, "привет, где мои баллы?")["action"] == "not_a_receipt"
    assert world.texts(506)[-1] == render("not_a_receipt", "ru") and world.receipts.messages == []


def test_promo_asks_for_a_number_and_a_phone_before_it_queues_a_request(world: BotWorld) -> None:
    world.says(507, "/start")
    assert world.says(507, "/promo много")["action"] == "promo_usage"
    assert world.says(507, "/promo 300")["action"] == "phone_needed"
    world.says(507, contact=contact_of(507, "+7 916 000-05-07"))
    world.accrual_queue.messages.clear()
    assert world.says(507, "/promo 300")["action"] == "promo_requested"
    (request,) = world.accrual_queue.messages
    assert isinstance(request, PromoRequested) and request.points == 300


def test_the_language_button_wins_over_the_telegram_app_from_then_on(world: BotWorld) -> None:
    world.joins(508)
    assert world.taps(508, "lang:en") == {"action": "language", "language": "en", "answer": world_answer(world)}
    assert present(world.books.get("508")).language_choice == "en"
    world.says(508, "hello?")
    assert world.texts(508)[-1] == render("not_a_receipt", "en")


def test_timezone_offers_the_cities_with_their_clocks_and_the_choice_is_kept(
        world: BotWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("loyalty.clock.now", lambda: datetime(2026, 12, 6, 11, 5, tzinfo=UTC))  # 14:05 in Moscow
    world.joins(509)
    assert world.says(509, "/timezone")["action"] == "choose_time_zone"
    offer = world.outbox.messages[-1]
    assert offer.text.startswith("О баллах и акциях я пишу только днём: с 10:00 до 21:00 по вашему времени. "
                                 "Сейчас я думаю, что у вас 14:05.")
    buttons = [button for row in present(offer.reply_markup)["inline_keyboard"] for button in row]
    assert len(buttons) == 12 and buttons[1] == {"text": "Москва · 14:05", "callback_data": "tz:Europe/Moscow"}
    assert {"text": "Владивосток · 21:05", "callback_data": "tz:Asia/Vladivostok"} in buttons
    assert world.taps(509, "tz:Asia/Vladivostok")["action"] == "time_zone"
    assert present(world.books.get("509")).time_zone == "Asia/Vladivostok"
    assert world.texts(509)[-1] == ("Готово: Владивосток, у вас сейчас 21:05. Сообщения о баллах и акциях буду "
                                    "присылать с 10:00 до 21:00 по вашему времени.")
    world.says(509, "/timezone")
    assert "у вас 21:05" in world.outbox.messages[-1].text  # the chosen zone, from then on
    assert world.taps(509, "tz:Mars/Olympus")["action"] == "button_expired"  # not a city the program offers
    assert present(world.books.get("509")).time_zone == "Asia/Vladivostok"


def world_answer(world: BotWorld) -> str:
    """The callback query id of the tap just made (the webhook acknowledges it in its HTTP answer)."""
    return f"cb-{next(world._ids) - 1}"


def test_stop_unsubscribes_and_start_subscribes_again(world: BotWorld) -> None:
    world.joins(509)
    assert world.says(509, "/stop")["action"] == "stopped" and not present(world.books.get("509")).subscribed
    world.says(509, "/start")
    assert present(world.books.get("509")).subscribed


def test_deletion_is_asked_then_erases_the_person_keeps_the_books_and_pays_no_second_welcome(world: BotWorld) -> None:
    world.joins(510, "+7 916 000-05-10")
    world.settle_points()
    code = world.table.invite_code("510")
    assert world.says(510, "/delete")["action"] == "delete_asked" and present(world.books.get("510")).phone
    assert world.taps(510, "delete:no")["action"] == "delete_cancelled" and present(world.books.get("510")).phone
    assert world.taps(510, "delete:yes")["action"] == "deleted"
    erased = present(world.books.get("510"))
    assert (erased.phone, erased.chat_id, erased.erased_at is not None) == (None, None, True)
    assert world.table.inviter(code) is None and not world.table.was_erased("510")  # no id in clear, only keyed:
    assert world.table.erased == {STACK_KEY.marker("member", "510"), STACK_KEY.marker("phone", "+79160000510")}
    assert isinstance(world.accrual_queue.messages[-1], MemberErased)
    world.settle_points()  # the points left are written off, the books move to a pseudonym
    assert world.books.get("510") is None
    anonymous = present(world.books.get(present(erased.anonymous_id)))
    assert (anonymous.available, anonymous.phone) == (0, None)
    world.joins(510, "+7 916 000-05-10")  # back again: welcome, but no second welcome bonus
    assert not any(isinstance(command, BonusGranted) for command in world.accrual_queue.messages)


def first_receipt(world: BotWorld, user_id: int, fiscal_key: str) -> None:
    """The accrual of a receipt receipt_check accepted for the member."""
    world.accrual.accrue(ReceiptAccepted(
        submission_id=f"tg-update:{fiscal_key}", shopper=Shopper(member_id=str(user_id), chat_id=user_id,
                                                                 language="ru"),
        fiscal_key=fiscal_key, channel="d2c", channel_kind="d2c", store="lepestok.ru", brand_sum_kopecks=45_000))
    world.settle_points()


def test_news_the_member_did_not_ask_for_waits_for_their_morning(world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    """A friend's first purchase at night pays the inviter's bonus at once; the inviter hears of it at 10:00. The
    friend, who just sent the receipt, is answered at once."""
    night = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    monkeypatch.setattr("loyalty.clock.now", lambda: night)
    world.joins(560, "+7 916 000-05-60")
    code = world.table.invite_code("560")
    world.joins(561, "+7 916 000-05-61", start=f"ref_{code}")
    world.settle_points()
    told_before = world.outbox.texts(560)
    first_receipt(world, 561, "1:561:1")
    assert world.outbox.texts(561)[-1].startswith("Вы пришли по приглашению")  # the answer to their receipt
    assert world.outbox.texts(560) == told_before  # nothing for the inviter at 23:30 …
    (letter,) = [one for one in world.table.followups.values() if one.member_id == "560" and one.kind == "notice"]
    postman = FollowUps(PROGRAM, world.table, world.books, Touches(PROGRAM, world.books, MemoryCampaigns(),
                                                                   MemoryOutbox()), outbox=world.outbox)
    postman.run(night)
    assert world.table.followups[letter.id].due_at == datetime(2026, 12, 7, 7, tzinfo=UTC)  # … it waits for 10:00
    postman.run(datetime(2026, 12, 7, 7, tzinfo=UTC))
    assert world.table.followups[letter.id].status == "sent" and len(world.outbox.texts(560)) == len(told_before) + 1
    assert world.outbox.texts(560)[-1] == "Ваш друг зарегистрировал первый чек — вам +200 баллов. На счёте 300 баллов."


def referral_bonuses(world: BotWorld, inviter: str) -> list[str]:
    return [entry.entry_id for entry in world.books.entries(inviter) if entry.entry_id.startswith("bonus#referrer")]


def test_a_person_who_erased_their_account_and_comes_back_by_invitation_pays_nobody_a_second_bonus(
        world: BotWorld) -> None:
    world.joins(520, "+7 916 000-05-20")
    code = world.table.invite_code("520")
    world.joins(521, "+7 916 000-05-21", start=f"ref_{code}")
    first_receipt(world, 521, "1:521:1")
    (paid,) = referral_bonuses(world, "520")
    assert "521" not in paid  # the inviter's ledger names the friend by a keyed pseudonym only
    world.taps(521, "delete:yes")
    world.settle_points()
    world.joins(521, "+7 916 000-05-21", start=f"ref_{code}")  # the same person, invited again
    assert present(world.books.get("521")).referred_by is None
    first_receipt(world, 521, "1:521:2")
    assert referral_bonuses(world, "520") == [paid]
    assert [e.entry_id for e in world.books.entries("521") if e.kind == "bonus"] == []  # no welcome, no referred


def test_the_same_phone_on_another_account_after_an_erasure_is_not_a_new_person_for_bonuses(world: BotWorld) -> None:
    world.joins(522, "+7 916 000-05-22")
    code = world.table.invite_code("522")
    world.joins(523, "+7 916 000-05-23")
    world.taps(523, "delete:yes")
    world.settle_points()
    world.joins(524, "+7 916 000-05-23", start=f"ref_{code}")  # a second Telegram account, the erased phone
    assert present(world.books.get("524")).referred_by is None
    first_receipt(world, 524, "1:524:1")
    assert referral_bonuses(world, "522") == []
    assert not [e for e in world.books.entries("524") if e.kind == "bonus"]


def test_a_reward_order_id_is_the_one_the_bot_issued_and_a_client_can_neither_choose_nor_borrow_one(
        world: BotWorld) -> None:
    world.joins(530, "+7 916 000-05-30")
    world.joins(531, "+7 916 000-05-31")
    reward = PROGRAM.bot.rewards[0].id
    world.taps(530, f"reward:{reward}")
    confirm = present(world.outbox.messages[-1].reply_markup)["inline_keyboard"][0][0]["callback_data"]
    _, _, offer, order = confirm.split(":")
    for forged in (f"take:{reward}:{offer}:ORDER00001", f"take:{reward}:{int(offer) + 1}:{order}",
                   f"take:{reward}:{offer}"):
        assert world.taps(530, forged)["action"] == "button_expired"
    assert world.taps(531, confirm)["action"] == "button_expired"  # another member's confirmation
    assert not [c for c in world.accrual_queue.messages if isinstance(c, RewardRequested)]
    assert world.taps(530, confirm)["action"] == "reward_requested"
    (request,) = [c for c in world.accrual_queue.messages if isinstance(c, RewardRequested)]
    assert request.order_id == order and len(order) == 10


def test_receipts_sent_too_fast_or_too_many_a_day_get_a_polite_wait_and_reach_no_paid_call(
        world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    """Cheap checks before the receipt service is paid: 5 a minute, 30 a Moscow day (the shipped defaults); what is
    refused says when to try again, is not counted, and queues nothing."""
    world.joins(540, "+7 916 000-05-40")
    world.joins(541, "+7 916 000-05-41")
    moment = [datetime(2026, 12, 6, 9, 15, 20, tzinfo=UTC)]  # 12:15:20 in Moscow
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    limits = PROGRAM.fraud.submissions
    qrs = (f"t=20261123T1200&s=450.00&fn=7380440800000017&i={n}&fp=2791184930&n=1" for n in range(1000, 2000))
    outcomes = [world.says(540, next(qrs))["action"] for _ in range(limits.per_minute + 1)]
    assert outcomes == ["receipt_submitted"] * limits.per_minute + ["throttled"]
    assert world.texts(540)[-1] == render("submissions_per_minute", "ru", seconds=40)
    assert world.says(541, next(qrs))["action"] == "receipt_submitted"  # another member is not held back
    for _ in range(limits.per_day - limits.per_minute):  # a minute later each time: only the day's limit is left
        moment[0] += timedelta(minutes=1)
        assert world.says(540, next(qrs))["action"] == "receipt_submitted"
    moment[0] += timedelta(minutes=1)
    refused = world.says(540, next(qrs))
    assert (refused["action"], refused["window"]) == ("throttled", "day")
    assert world.texts(540)[-1] == render("submissions_per_day", "ru", limit=limits.per_day)
    mine = [message for message in world.receipts.messages if message.shopper.member_id == "540"]
    assert len(mine) == limits.per_day  # what was refused never reached the receipt parser
    moment[0] = datetime(2026, 12, 6, 21, 0, 1, tzinfo=UTC)  # 00:00:01 in Moscow: a new day
    assert world.says(540, next(qrs))["action"] == "receipt_submitted"


def test_a_phone_behind_more_accounts_than_the_rule_allows_makes_the_newest_account_suspect(
        world: BotWorld) -> None:
    rules = [Rule(rule=RuleName.PHONE_ACCOUNTS, threshold=1)]
    for flow in (world.bot.joining, world.bot.menu, world.bot.account, world.bot.talk):
        flow.program = PROGRAM.model_copy(update={"fraud": Fraud(rules=rules)})
    world.joins(565, "+7 916 000-05-65")
    world.says(565, QR)
    world.says(566, QR.replace("i=101", "i=102"))  # a receipt before the phone: kept until it is shared
    world.joins(566, "+7 916 000-05-65")  # another account, the same phone
    world.says(566, QR.replace("i=101", "i=103"))
    suspects = {message.shopper.member_id: message.shopper.suspect for message in world.receipts.messages}
    assert suspects == {"565": (), "566": ("phone_accounts",)}
    assert [message.shopper.suspect for message in world.receipts.messages if message.shopper.member_id == "566"] \
        == [("phone_accounts",), ("phone_accounts",)]  # the kept receipt too
    assert present(world.books.get("566")).suspect == ["phone_accounts"]


def held_receipt(world: BotWorld, user_id: int, fiscal_key: str) -> None:
    """A purchase receipt_check held: 450 ₽ of the brand's goods at an unlisted shop, a fraud rule tripped."""
    world.accrual.accrue(ReceiptAccepted(
        submission_id=f"tg-update:{fiscal_key}", shopper=Shopper(member_id=str(user_id), chat_id=user_id,
                                                                 language="ru"),
        fiscal_key=fiscal_key, channel="other", channel_kind="other", store="Ларёк", brand_sum_kopecks=45_000,
        held_by=("till_members",)))
    world.settle_points()


def test_a_held_receipt_waits_for_the_staff_an_approval_credits_it_once_and_a_rejection_says_why(
        world: BotWorld) -> None:
    staff = present(PROGRAM.bot.staff_chat_id)
    world.joins(550, "+7 916 000-05-50")
    world.settle_points()
    before = present(world.books.get("550"))
    held_receipt(world, 550, "9960440300000001:1:1")
    waiting = present(world.books.get("550"))
    assert (waiting.available, waiting.pending - before.pending) == (before.available, 45)
    assert world.texts(550)[-1].startswith("Чек из магазина «Ларёк» принят и отправлен на проверку: 45 баллов")
    asked = world.outbox.texts(staff)[-1]
    ticket = present(re.search(r"#([A-Z2-9]{10})", asked)).group(1)
    assert "с этой кассы сегодня прислали чеки многие участники" in asked and "550" in asked
    stranger = in_staff_chat(9_100, staff, data=f"receipt:{ticket}:ok", user_id=7_000_066)
    assert world.handle(stranger)["action"] == "staff_not_allowed"
    assert world.handle(in_staff_chat(9_101, staff, data=f"receipt:{ticket}:ok"))["action"] == "receipt_approved"
    assert world.handle(in_staff_chat(9_102, staff, data=f"receipt:{ticket}:no"))["action"] == \
        "staff_decided_before"
    world.settle_points()
    world.accrual.decide(HeldReceiptDecided(member_id="550", fiscal_key="9960440300000001:1:1", approved=True))
    approved = present(world.books.get("550"))
    assert (approved.available, approved.pending) == (before.available + 45, before.pending)  # once
    assert world.texts(550)[-1] == "Чек из магазина «Ларёк» проверен, спасибо! +45 баллов."
    assert world.outbox.texts(staff)[-1].endswith("засчитан (Мария).")

    held_receipt(world, 550, "9960440300000001:2:2")
    ticket = present(re.search(r"#([A-Z2-9]{10})", world.outbox.texts(staff)[-1])).group(1)
    world.handle(in_staff_chat(9_103, staff, data=f"receipt:{ticket}:no"))
    world.settle_points()
    rejected = present(world.books.get("550"))
    assert (rejected.available, rejected.pending) == (approved.available, approved.pending)
    assert "не можем начислить за него баллы: с этой кассы сегодня прислали чеки многие участники" in \
        world.texts(550)[-1]
    kinds = [(entry.kind, entry.points, entry.details.approved) for entry in world.books.entries("550")
             if entry.kind == "held_decision"]
    assert sorted(kinds, key=str) == sorted([("held_decision", 0, True), ("held_decision", -45, False)], key=str)
    builder = FraudReportBuilder(None, None)  # `loyalty fraud report` reads the same entries
    builder.entries(world.books.entries("550"))
    figures = builder.report()
    assert (figures.receipts, figures.held, figures.approved, figures.rejected, figures.waiting,
            figures.points_saved, figures.held_percent) == (2, 2, 1, 1, 0, 45, 100.0)
    assert figures.by_rule["till_members"].model_dump() == {"held": 2, "approved": 1, "rejected": 1}
    assert "задержано 2, одобрено 1, отклонено 1" in render_fraud_report(figures)


def test_a_purchase_found_farmed_after_it_was_credited_waits_for_the_staff_with_what_is_left_of_it(
        world: BotWorld) -> None:
    world.joins(555, "+7 916 000-05-55")
    first_receipt(world, 555, "9960440300000001:5:5")  # the brand's own site: 45 points available at once
    before = present(world.books.get("555"))
    later = ReceiptHeldLater(member_id="555", fiscal_key="9960440300000001:5:5", held_by=("till_members",))
    for _ in range(2):  # said again while the till's count stands: held once
        world.accrual.hold_later(later)
    frozen = present(world.books.get("555"))
    assert (frozen.available, frozen.pending) == (before.available - 45, before.pending + 45)
    assert world.texts(555)[-1].startswith("Чек с сайта Лепесток") and "отправлен на проверку" in world.texts(555)[-1]
    world.accrual.decide(HeldReceiptDecided(member_id="555", fiscal_key="9960440300000001:5:5", approved=True))
    released = present(world.books.get("555"))
    assert (released.available, released.pending) == (before.available, before.pending)
    assert world.texts(555)[-1].endswith("+45 баллов.")


def test_an_invitations_bonuses_go_as_the_friends_first_purchase_goes_when_it_is_held_after_they_were_paid(
        world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    """A referral ring found out after its first friends were paid: what is left of both bonuses waits with the
    friend's purchase. Rejected, all three are taken back (and counted as saved); approved, all three are released.
    Paid after the hold (the handler died between the purchase and its bonuses), the bonuses are held at once."""
    world.joins(530, "+7 916 000-05-30")
    code = world.table.invite_code("530")
    for friend in (531, 532, 533):
        world.joins(friend, f"+7 916 000-05-{friend - 500}", start=f"ref_{code}")
    world.settle_points()

    def balances(*members: str) -> list[tuple[int, int]]:
        return [(present(world.books.get(m)).available, present(world.books.get(m)).pending) for m in members]

    def held_later(member: str, fiscal_key: str) -> None:
        world.accrual.hold_later(ReceiptHeldLater(member_id=member, fiscal_key=fiscal_key, held_by=("idle_friends",)))
        world.settle_points()

    first_receipt(world, 531, "1:531:1")  # the brand's site: 45 points, and 200 + 200 for the invitation
    paid = balances("530", "531")
    held_later("531", "1:531:1")
    assert balances("530", "531") == [(paid[0][0] - 200, paid[0][1] + 200), (paid[1][0] - 245, paid[1][1] + 245)]
    world.accrual.decide(HeldReceiptDecided(member_id="531", fiscal_key="1:531:1", approved=False))
    world.settle_points()
    assert balances("530", "531") == [(paid[0][0] - 200, paid[0][1]), (paid[1][0] - 245, paid[1][1])]
    assert "многие друзья, приглашённые тем же участником" in world.texts(531)[-1]

    first_receipt(world, 532, "1:532:1")
    paid = balances("530", "532")
    held_later("532", "1:532:1")
    world.accrual.decide(HeldReceiptDecided(member_id="532", fiscal_key="1:532:1", approved=True))
    world.settle_points()
    assert balances("530", "532") == paid

    from loyalty.flows.accrual import PointAccrual as Accrual

    referral = Accrual._referral
    monkeypatch.setattr(Accrual, "_referral", lambda *args: None)  # the handler dies after the purchase
    first_receipt(world, 533, "1:533:1")
    before = balances("530", "533")
    held_later("533", "1:533:1")
    monkeypatch.setattr(Accrual, "_referral", referral)
    first_receipt(world, 533, "1:533:1")  # redelivered: the bonuses are written now, held
    assert balances("530", "533") == [(before[0][0], before[0][1] + 200), (before[1][0] - 45, before[1][1] + 245)]
    assert not any("приглаш" in text for text in world.texts(533)[-1:])  # not told of a bonus that waits
    world.accrual.decide(HeldReceiptDecided(member_id="533", fiscal_key="1:533:1", approved=True))
    world.settle_points()
    assert balances("530", "533") == [(before[0][0] + 200, before[0][1]), (before[1][0] + 200, before[1][1])]
    assert any("+200" in text for text in world.texts(533)[-2:])  # told now

    builder = FraudReportBuilder(None, None)
    builder.entries(entry for member in ("530", "531", "532", "533") for entry in world.books.entries(member))
    figures = builder.report()
    assert (figures.held, figures.approved, figures.rejected, figures.points_saved) == (3, 2, 1, 445)
    assert figures.by_rule["idle_friends"].model_dump() == {"held": 3, "approved": 2, "rejected": 1}


def test_a_command_before_joining_starts_the_joining(world: BotWorld) -> None:
    assert world.says(511, "/balance")["action"] == "welcomed" and world.books.get("511") is not None


def test_the_webhook_answers_only_its_secret_handles_an_update_once_and_parks_what_it_cannot_read(
        world: BotWorld) -> None:
    update = telegram_update(77, 512, "/start")
    body = json.dumps(update)
    assert world.webhook.receive("wrong", body) == (403, {})
    assert world.webhook.receive(None, body) == (403, {})
    assert world.webhook.receive(SECRET, body) == (200, {})
    assert world.webhook.receive(SECRET, body) == (200, {})  # Telegram's redelivery
    assert len(world.texts(512)) == 1
    assert world.webhook.receive(SECRET, "{not json") == (200, {})
    assert world.webhook.receive(SECRET, json.dumps({"update_id": 78, "message": {"chat": 5}})) == (200, {})
    reasons = [reason for _, reason, _ in world.dead_letters.parked]
    assert len(reasons) == 2 and all(reason.startswith("malformed update") for reason in reasons)
    assert world.dead_letters.parked[1][2] == {"update_id": "78"}
    tap = tapped(79, 512, "lang:en")
    assert world.webhook.receive(SECRET, json.dumps(tap)) == (200, {"method": "answerCallbackQuery",
                                                                    "callback_query_id": "cb-79"})


def test_a_receipt_is_acknowledged_in_the_webhooks_answer_and_a_redelivery_is_answered_the_same(
        world: BotWorld) -> None:
    world.joins(515, "+7 916 000-05-15")
    body = json.dumps(telegram_update(90, 515, QR))
    status, answer = world.webhook.receive(SECRET, body)
    assert (status, answer["method"], answer["chat_id"]) == (200, "sendMessage", 515)
    assert answer["text"] == render("receipt_accepted", "ru")
    assert world.webhook.receive(SECRET, body) == (200, answer)  # Telegram's redelivery: answered the same
    assert {message.submission_id for message in world.receipts.messages} == {"tg-update:90"}  # the claim takes it once
    assert render("receipt_accepted", "ru") not in world.outbox.texts(515)  # no queue, no sender


def test_an_acknowledgement_never_overtakes_a_message_queued_before_it(world: BotWorld) -> None:
    """A receipt sent before the phone is submitted when the phone comes: the thanks for the phone is queued first,
    so the acknowledgement goes behind it, through the outbox, not ahead of it in the webhook's answer."""
    world.says(516, "/start")
    assert world.says(516, QR)["action"] == "phone_needed"
    world.says(516, contact=contact_of(516, "+7 916 000-05-16"))
    texts = world.texts(516)
    assert render("receipt_accepted", "ru") == texts[-1] and texts[-2].startswith("Спасибо")


def test_receipts_raced_by_another_writer_answer_500_so_telegram_redelivers_and_nothing_is_parked(
        world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    """A write that lost its races (the submission counter, contended) wrote nothing: the update comes back."""
    world.joins(514, "+7 916 000-05-14")
    contended = Contended("member 514's submissions kept changing; not counted, try again")
    monkeypatch.setattr(world.books, "admit", lambda *args: (_ for _ in ()).throw(contended))
    assert world.webhook.receive(SECRET, json.dumps(telegram_update(81, 514, QR))) == (500, {})
    assert world.dead_letters.parked == [] and world.receipts.messages == []
    monkeypatch.undo()
    status, answer = world.webhook.receive(SECRET, json.dumps(telegram_update(81, 514, QR)))
    assert status == 200 and answer["text"] == render("receipt_accepted", "ru")
    assert len(world.receipts.messages) == 1


def test_an_update_that_breaks_the_handler_is_parked_with_its_reason_and_answered_200(
        world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("a bug of ours")

    monkeypatch.setattr(world.bot.joining, "start", broken)
    assert world.webhook.receive(SECRET, json.dumps(telegram_update(80, 513, "/start"))) == (200, {})
    ((body, reason, context),) = world.dead_letters.parked
    assert reason == "ValueError: a bug of ours" and context == {"update_id": "80"} and json.loads(body)
