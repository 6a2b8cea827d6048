"""After a receipt, on the fakes: the follow-ups it schedules (onboarding, nudges, the survey), the campaigns run that
sends them in the script's order once each, and the conversation they start — a rating, a complaint or a review's
proof to the staff chat, and the staff's decision, paid once."""

import json
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest

from loyalty.contracts import BonusGranted, CampaignMessage
from loyalty.domain import audit, chat_limits
from loyalty.domain.bot_program import When
from loyalty.domain.conversation import FollowUp
from loyalty.domain.messages import render
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.staff import Role, StaffMember
from loyalty.domain.wallet import Balance, Lot, Wallet
from loyalty.flows.campaigns import Touches
from loyalty.flows.console import StaffDirectory
from loyalty.flows.followups import FollowUps
from tests.conftest import present
from tests.fakes import STACK_KEY, MemoryAuditLog, MemoryCampaigns, MemoryConsoleTable, MemoryOutbox
from tests.telegram_updates import in_staff_chat, telegram_update
from tests.unit.flows.conftest import NOW, PROGRAM, World
from tests.unit.flows.test_bot_flow import SECRET, BotWorld

STAFF = present(PROGRAM.bot.staff_chat_id)


class AfterReceipts(BotWorld):
    """The bot's world, with purchases (the accrual flow scheduling follow-ups) and the campaigns run sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.campaign_queue, self.campaigns = MemoryOutbox(), MemoryCampaigns()
        touches = Touches(PROGRAM, self.books, self.campaigns, self.campaign_queue)
        self.followups = FollowUps(PROGRAM, self.table, self.books, touches, "https://api.example")
        self.purchases = World()  # its accrual flow, pointed at these fakes
        self.purchases.books, self.purchases.accrual = self.books, self.accrual

    def member(self, user_id: int) -> str:
        self.joins(user_id, f"+7 916 000-{user_id // 100:02d}-{user_id % 100:02d}")
        self.settle_points()
        return str(user_id)

    def sent(self, user_id: int) -> list[str]:
        return [message.text for message in self.campaign_queue.messages if message.chat_id == user_id]

    def buttons(self, user_id: int) -> list[dict[str, Any] | None]:
        return [message.reply_markup for message in self.campaign_queue.messages if message.chat_id == user_id]

    def staff(self, **update: Any) -> dict[str, Any]:
        return self.handle(in_staff_chat(next(self._ids), STAFF, **update))


@pytest.fixture
def world() -> AfterReceipts:
    return AfterReceipts()


def test_a_first_marketplace_receipt_schedules_onboarding_a_nudge_and_the_survey_once(world: AfterReceipts) -> None:
    member = world.member(601)
    world.purchases.buy(member, fiscal_key="k:601:1")
    kinds = sorted((f.kind, f.name, f.step) for f in world.table.followups.values())
    assert kinds == [("nudge", PROGRAM.bot.nudges[0].name, 0), ("onboarding", "marketplace", 0),
                     ("onboarding", "marketplace", 1), ("survey", "survey", 0)]
    world.purchases.buy(member, fiscal_key="k:601:1")  # the same receipt replayed schedules nothing more
    assert len(world.table.followups) == 4


def test_the_run_sends_what_is_due_in_the_scripts_order_once_each(world: AfterReceipts) -> None:
    member = world.member(602)
    world.purchases.buy(member, fiscal_key="k:602:1")
    assert world.followups.run(NOW) == {}
    assert world.followups.run(NOW + timedelta(hours=1)) == {"sent": 1}  # the first onboarding step
    due = NOW + timedelta(hours=72)  # the second step, the survey and the nudge, all due at once
    assert world.followups.run(due) == {"sent": 1, "held": 2}  # one now, the others at their next slots
    assert world.followups.run(due) == {}  # settled or waiting: never twice
    moments = [due]
    for hour in range(1, 72):  # the campaigns run, hour by hour, as the schedule does
        at = due + timedelta(hours=hour)
        if world.followups.run(at).get("sent"):
            moments.append(at)
    kinds = [message.campaign for message in world.campaign_queue.messages]
    assert kinds == ["onboarding_marketplace", "survey", "onboarding_marketplace", PROGRAM.bot.nudges[0].name]
    assert len(moments) == 3
    assert all(later - earlier >= timedelta(hours=2) for earlier, later in pairwise(moments))
    assert all(10 <= moment.astimezone(MOSCOW).hour < 21 for moment in moments)  # never at night


def standing(when: When, holds: bool) -> Wallet:
    """A wallet in which what `when` assumes is so (`holds`), or has stopped being so."""
    pending = when.points_pending if when.points_pending is not None else False
    available = when.points_available if when.points_available is not None else True
    if not holds:
        pending = not pending if when.points_pending is not None else pending
        available = not available if when.points_available is not None else available
    level = when.level_below if when.level_below and not holds else PROGRAM.levels[0].id
    lots = {}
    if pending:
        lots["receipt#p"] = Lot(points=45, earned_at=NOW, available_at=NOW + timedelta(days=14), expires_at=None,
                                active=False)
    if available:
        lots["receipt#a"] = Lot(points=100, earned_at=NOW, available_at=NOW, expires_at=None, active=True)
    return Wallet(balance=Balance(available=100 * available, pending=45 * pending), lots=lots, level=level)


def test_every_scripted_message_of_the_shipped_program_is_not_sent_once_what_it_assumes_has_changed(
        world: AfterReceipts) -> None:
    """Each onboarding step and nudge of the shipped program that says something of the member (`when`: points
    still pending, a level not reached yet, points to spend) falls due after the member's state has moved past it,
    and does not go out; in the state it assumes, it does. Checked when sent, not when scheduled."""
    scripted = [("onboarding", branch, step, message.when) for branch, steps in PROGRAM.bot.onboarding.items()
                for step, message in enumerate(steps)] + [("nudge", nudge.name, 0, nudge.when)
                                                          for nudge in PROGRAM.bot.nudges]
    assuming = [(kind, name, step, when) for kind, name, step, when in scripted if when is not None]
    assert len(assuming) == 5  # the texts that name a state: every onboarding step, the nudge that names a balance
    outcomes = []
    for n, (kind, name, step, when) in enumerate(assuming):
        for holds in (False, True):
            member = world.member(720 + 2 * n + holds)
            world.books.accounts[member].wallet = standing(when, holds)
            letter = FollowUp(id=f"{kind}-{name}-{step}-{member}", member_id=member, kind=kind, name=name, step=step,
                              due_at=NOW)
            world.table.schedule(letter)
            outcomes.append((kind, name, step, holds, world.followups.send(letter, NOW + timedelta(hours=1))))
    assert [outcome[-1] for outcome in outcomes] == ["skipped", "sent"] * len(assuming), outcomes


def test_a_winback_letter_is_not_sent_to_a_member_who_bought_after_it_was_written(world: AfterReceipts) -> None:
    def winback_letter(member: str) -> FollowUp:
        message = CampaignMessage(campaign="winback", touch=f"winback:0:{member}", member_id=member,
                                  chat_id=int(member), text="Давно не виделись!", goal_days=14, queued_at=NOW)
        letter = FollowUp(id=f"winback-{member}", member_id=member, kind="campaign", name="winback", due_at=NOW,
                          payload=message.model_dump(mode="json"))
        world.table.schedule(letter)
        return letter

    lapsed, back = world.member(740), world.member(741)
    late = NOW + timedelta(hours=1)
    quiet_letter, bought_letter = winback_letter(lapsed), winback_letter(back)
    world.purchases.buy(back, now=NOW + timedelta(minutes=30), purchased_at=NOW + timedelta(minutes=30))
    assert (world.followups.send(quiet_letter, late), world.followups.send(bought_letter, late)) == ("sent", "skipped")
    assert [message.member_id for message in world.campaign_queue.messages] == [lapsed]


def test_a_member_who_said_stop_gets_no_followup_and_a_stopped_nudge_stays_stopped(world: AfterReceipts) -> None:
    member = world.member(603)
    world.purchases.buy(member, fiscal_key="k:603:1")
    nudge = PROGRAM.bot.nudges[0].name
    assert world.taps(603, f"nudge_off:{nudge}")["action"] == "nudge_stopped"
    assert world.followups.run(NOW + timedelta(hours=1)) == {"sent": 1}
    world.says(603, "/stop")
    assert world.followups.run(NOW + timedelta(hours=72)) == {"skipped": 3}
    assert world.campaign_queue.messages[-1].campaign == "onboarding_marketplace"


def survey_of(world: AfterReceipts, user_id: int) -> FollowUp:
    member = world.member(user_id)
    world.purchases.buy(member, fiscal_key=f"k:{user_id}:1")
    world.followups.run(NOW + timedelta(hours=72))
    (survey,) = [f for f in world.table.followups.values() if f.kind == "survey" and f.member_id == str(user_id)]
    return survey


def test_a_low_rating_asks_what_went_wrong_and_the_answer_reaches_the_staff_chat_as_a_ticket(
        world: AfterReceipts) -> None:
    survey = survey_of(world, 604)
    assert world.taps(604, f"rate:{survey.id}:2")["action"] == "survey_bad"
    assert world.taps(604, f"rate:{survey.id}:5")["action"] == "survey_rated_before"  # the first tap counts
    assert present(world.books.get("604")).survey_rating == 2  # what a segment of the unhappy reads
    outcome = world.says(604, "Крем пришёл с треснувшей крышкой")
    assert outcome["action"] == "complaint_forwarded"
    ticket = present(world.table.ticket(outcome["ticket"]))
    assert (ticket.kind, ticket.member_id, ticket.status) == ("complaint", "604", "open")
    staff = world.outbox.texts(STAFF)[-1]
    assert f"#{ticket.id}" in staff and "треснувшей крышкой" in staff and "+7916" not in staff
    assert present(world.books.get("604")).awaiting is None


def test_a_complaint_longer_than_telegram_takes_reaches_the_staff_chat_cut_with_its_ticket_and_how_to_answer(
        world: AfterReceipts) -> None:
    survey = survey_of(world, 614)
    world.taps(614, f"rate:{survey.id}:1")
    ticket = world.says(614, "Крышка треснула. " + "Очень расстроена. " * 400)["ticket"]  # 7,217 characters
    staff = world.outbox.texts(STAFF)[-1]
    assert chat_limits.refusal(staff) is None and chat_limits.length(staff) > 4000
    assert f"#{ticket}" in staff and "Крышка треснула" in staff and "расстроена.…" in staff  # cut between words
    assert staff.endswith(render("staff_complaint", "ru", ticket="", rating=1, member="", level="", store="",
                                 goods="", text="").rsplit("\n\n", 1)[-1])  # how to answer is kept whole
    answer = "Пришлём замену. " + "Извините! " * 500
    world.staff(text=answer, reply_to_text=staff)
    assert chat_limits.refusal(world.texts(614)[-1]) is None and "Пришлём замену" in world.texts(614)[-1]


def test_a_staff_reply_reaches_the_shopper_and_their_answer_goes_back_under_the_same_ticket(
        world: AfterReceipts) -> None:
    survey = survey_of(world, 605)
    world.taps(605, f"rate:{survey.id}:1")
    ticket = world.says(605, "Не подошёл запах")["ticket"]
    replied = world.staff(text="Пришлём замену завтра", reply_to_text=world.outbox.texts(STAFF)[-1])
    assert replied == {"action": "staff_replied", "ticket": ticket}
    assert "Пришлём замену завтра" in world.texts(605)[-1]
    assert world.says(605, "Спасибо, жду")["action"] == "thread_forwarded"
    assert "Спасибо, жду" in world.outbox.texts(STAFF)[-1]
    assert world.staff(text="просто болтаем")["action"] == "staff_chatter"


def test_a_reviews_proof_is_decided_once_by_the_staff_and_paid_once(world: AfterReceipts) -> None:
    survey = survey_of(world, 606)
    assert world.taps(606, f"rate:{survey.id}:5")["action"] == "survey_good"
    sent = world.says(606, "https://www.wildberries.ru/catalog/1/feedbacks#606")
    assert sent["action"] == "review_sent"
    ticket = sent["ticket"]
    assert world.staff(data=f"review:{ticket}:ok")["action"] == "review_approved"
    assert world.staff(data=f"review:{ticket}:no")["action"] == "staff_decided_before"
    (bonus,) = [command for command in world.accrual_queue.messages if isinstance(command, BonusGranted)]
    assert (bonus.bonus, bonus.reference) == ("review", f"bot:{survey.id}")
    before = present(world.books.get("606")).available
    world.settle_points()
    assert present(world.books.get("606")).available == before + PROGRAM.bonuses.review


def test_only_staff_with_the_right_decide_a_review_and_nobody_decides_their_own(world: AfterReceipts) -> None:
    """A stranger in the group, a viewer, and a support member who wrote the review themselves are refused with a
    notice on the button; nothing is decided or paid until a staff member who may taps it."""
    program = PROGRAM.model_copy(update={"bot": PROGRAM.bot.model_copy(update={"staff": [
        *PROGRAM.bot.staff, StaffMember(telegram_id=610, role=Role.SUPPORT, name="Ира"),
        StaffMember(telegram_id=7_000_077, role=Role.VIEWER)]})})
    world.bot.talk.program = program
    survey = survey_of(world, 610)  # Ира is support, and a shopper too
    world.taps(610, f"rate:{survey.id}:5")
    ticket = world.says(610, "https://ozon.ru/reviews/610")["ticket"]
    for user_id in (7_000_066, 7_000_077, 610):  # a stranger, a viewer, the author
        refused = world.staff(data=f"review:{ticket}:ok", user_id=user_id)
        assert refused["action"] == "staff_not_allowed" and refused["notice"]
    assert present(world.table.ticket(ticket)).status == "open"
    stranger = in_staff_chat(9_001, STAFF, data=f"review:{ticket}:no", user_id=7_000_066)
    status, answer = world.webhook.receive(SECRET, json.dumps(stranger))  # Telegram shows the refusal on the button
    assert status == 200 and answer == {"method": "answerCallbackQuery", "callback_query_id": "cb-9001",
                                         "text": render("staff_may_not_decide", "ru"), "show_alert": True}
    assert not [c for c in world.accrual_queue.messages if isinstance(c, BonusGranted) and c.bonus == "review"]
    assert world.staff(data=f"review:{ticket}:ok")["action"] == "review_approved"  # Мария, support
    assert world.outbox.texts(STAFF)[-1].endswith("засчитан (Мария).")


def test_the_consoles_staff_decide_in_the_staff_chat_and_each_decision_and_answer_is_audited(
        world: AfterReceipts) -> None:
    """Where the console is deployed, its staff table says who may act in the staff chat (Мария, listed in the program
    file, removed in the console, may not), and the chat's decisions go to the same audit chain as the console's."""
    table, audit_log = MemoryConsoleTable(), MemoryAuditLog()
    directory = StaffDirectory(table, PROGRAM, None)
    table.put_staff(StaffMember(telegram_id=7_000_050, role=Role.SUPPORT, name="Олег"), 1, NOW)
    table.remove_staff(5_000_001, 1, NOW)  # Мария
    world.bot.talk.staff_of, world.bot.talk.audit = directory.member, audit_log
    survey = survey_of(world, 612)
    world.taps(612, f"rate:{survey.id}:5")
    ticket = world.says(612, "https://ozon.ru/reviews/612")["ticket"]
    assert world.staff(data=f"review:{ticket}:ok")["action"] == "staff_not_allowed"  # Мария, no longer staff
    assert world.staff(data=f"review:{ticket}:ok", user_id=7_000_050)["action"] == "review_approved"
    assert world.outbox.texts(STAFF)[-1].endswith("засчитан (Олег).")
    (entry,) = audit_log.chain
    assert (entry.action, entry.actor.name, entry.session, entry.member_id, entry.subject, entry.after) == (
        "review_approved", "Олег", "staff-chat", STACK_KEY.marker("member", "612"), ticket, {"status": "approved"})
    assert audit.broken_at(audit_log.chain) is None


def test_only_support_answers_a_shopper_and_never_their_own_ticket(world: AfterReceipts) -> None:
    survey = survey_of(world, 611)
    world.taps(611, f"rate:{survey.id}:1")
    world.says(611, "Не подошёл запах")
    asked = world.outbox.texts(STAFF)[-1]
    before = world.texts(611)
    outcome = world.staff(text="Ничего не знаю", reply_to_text=asked, user_id=7_000_066)
    assert outcome["action"] == "staff_not_allowed" and world.texts(611) == before
    assert "ответ не отправлен" in world.outbox.texts(STAFF)[-1]
    assert world.staff(text="Пришлём замену", reply_to_text=asked)["action"] == "staff_replied"


def test_a_rejected_proof_asks_for_another_and_a_stale_button_is_answered_politely(world: AfterReceipts) -> None:
    survey = survey_of(world, 607)
    world.taps(607, f"rate:{survey.id}:4")
    ticket = world.says(607, "https://ozon.ru/reviews/607")["ticket"]
    assert world.staff(data=f"review:{ticket}:no")["action"] == "review_rejected"
    assert world.texts(607)[-1] == render("review_rejected", "ru")
    assert present(present(world.books.get("607")).awaiting)["kind"] == "review"
    assert world.taps(607, "rate:NOSUCHID22:5")["action"] == "button_expired"
    assert world.taps(608, f"rate:{survey.id}:5")["action"] == "welcomed"  # a stranger's tap: joining first
    world.joins(609)
    assert world.taps(609, f"rate:{survey.id}:5")["action"] == "button_expired"  # not their survey
    assert world.handle(telegram_update(99_999, 609, "/start"))["action"] == "welcomed_back"


def test_where_the_program_asks_nps_a_rating_is_followed_by_the_0_to_10_question_and_the_first_tap_counts(
        world: AfterReceipts) -> None:
    survey = survey_of(world, 621)
    assert PROGRAM.bot.survey is not None
    asked = PROGRAM.bot.model_copy(update={"survey": PROGRAM.bot.survey.model_copy(update={"nps": True})})
    world.bot.talk.program = PROGRAM.model_copy(update={"bot": asked})
    world.taps(621, f"rate:{survey.id}:4")
    question = world.outbox.messages[-1]
    assert "порекомендуете Лепесток друзьям" in question.text and question.reply_markup is not None
    assert [b["text"] for row in question.reply_markup["inline_keyboard"] for b in row] == [str(n) for n in range(11)]
    assert world.taps(621, f"nps:{survey.id}:9")["action"] == "nps_answered"
    world.taps(621, f"nps:{survey.id}:2")  # the first tap counts
    assert world.table.recommended == {survey.id: 9}
    assert present(world.books.get("621")).survey_recommends == 9
    assert world.taps(621, f"nps:{survey.id}:11")["action"] == "button_expired"
    world.bot.talk.program = PROGRAM
    before = len(world.outbox.messages)
    other = survey_of(world, 622)
    world.taps(622, f"rate:{other.id}:5")  # a program that does not ask it: no question
    assert not any("порекомендуете" in m.text for m in world.outbox.messages[before:])
