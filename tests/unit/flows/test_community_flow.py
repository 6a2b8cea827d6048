"""The closed community on the fakes, fed real python-telegram-bot Updates: a join request approved at the level that
opens it and declined below it (or for a stranger) with what it takes; a level review's downgrade and an erasure show
the member out, through the outbox, and the sender removes them from the chat."""

from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pytest import MonkeyPatch

from loyalty.flows.outbox import TelegramSender
from loyalty.flows.schedule import PointsSchedule
from tests.fakes import MemorySentMessages, MemoryTelegram
from tests.telegram_updates import join_request
from tests.unit.flows.conftest import NOW, PROGRAM
from tests.unit.flows.test_bot_flow import BotWorld, first_receipt

GROUP = -1001000000077


@pytest.fixture
def world(monkeypatch: MonkeyPatch) -> BotWorld:
    from loyalty.domain.community import Community

    program = PROGRAM.model_copy(update={"community": Community.model_validate(
        {"chat_id": GROUP, "title": "Лепесток: свои", "min_level": "friend",
         "invite_link": "https://t.me/+Lepestok"})})
    monkeypatch.setattr("tests.unit.flows.test_bot_flow.PROGRAM", program)
    monkeypatch.setattr("loyalty.clock.now", lambda: NOW)
    return BotWorld()


def sent(world: BotWorld, telegram: MemoryTelegram) -> None:
    """The outbox's messages through the sender, as TelegramSenderFunction takes them."""
    sender = TelegramSender(telegram, MemorySentMessages())
    for message in world.outbox.messages:
        telegram.open(message.chat_id)
        sender.handle_record(SQSRecord({"messageId": "m", "body": message.model_dump_json()}))
    world.outbox.messages.clear()


def test_a_join_request_is_approved_at_the_level_that_opens_it_and_declined_below_it(world: BotWorld) -> None:
    world.joins(801, "+7 916 000-08-01")
    world.settle_points()
    below = world.bot.handle(join_request(9001, 801, GROUP))
    assert below["call"] == {"method": "declineChatJoinRequest", "chat_id": GROUP, "user_id": 801}
    assert world.texts(801)[-1].startswith("Сообщество «Лепесток: свои» открыто участникам с уровня «Подруга».")
    first_receipt(world, 801, "1:801:1")  # «Подруга»
    approved = world.bot.handle(join_request(9002, 801, GROUP))
    assert approved["call"] == {"method": "approveChatJoinRequest", "chat_id": GROUP, "user_id": 801}
    assert world.table.admitted("801")
    stranger = world.bot.handle(join_request(9003, 802, GROUP))
    assert stranger["call"]["method"] == "declineChatJoinRequest"
    assert world.outbox.texts(802)[-1].endswith("нажмите /start в чате с ботом.")
    assert world.bot.handle(join_request(9004, 801, -100999))["action"] == "ignored"  # another group: not ours


def test_the_webhook_answers_a_join_request_with_its_decision(world: BotWorld) -> None:
    import json

    world.joins(803, "+7 916 000-08-03")
    status, answer = world.webhook.receive("webhook-secret", json.dumps(join_request(9010, 803, GROUP)))
    assert (status, answer["method"], answer["user_id"]) == (200, "declineChatJoinRequest", 803)


def test_a_downgrade_and_an_erasure_show_the_member_out_and_the_sender_removes_them(world: BotWorld,
                                                                                    monkeypatch: MonkeyPatch) -> None:
    from loyalty.domain.wallet import Wallet

    telegram = MemoryTelegram()
    for member in (804, 805):
        world.joins(member, f"+7 916 000-08-0{member - 800}")
        first_receipt(world, member, f"1:{member}:1")
        world.bot.handle(join_request(9020 + member, member, GROUP))
        telegram.members.setdefault(GROUP, set()).add(member)  # Telegram let them in on the approval
    program = world.bot.community.program
    # «Подруга» kept for good in the shipped program: here it is re-checked yearly, and 804 bought nothing since
    levels = [level.model_copy(update={"downgrade_every_days": 30}) if level.id == "friend" else level
              for level in program.levels]
    reviewed = program.model_copy(update={"levels": levels})
    later = NOW + timedelta(days=31)
    monkeypatch.setattr("loyalty.clock.now", lambda: later)
    schedule = PointsSchedule(reviewed, world.books, world.outbox, roll=world.table)
    schedule.settle("804", later)
    assert isinstance(world.books.read("804")[0], Wallet) and world.books.read("804")[0].level == "registered"
    sent(world, telegram)
    assert GROUP in telegram.members and 804 not in telegram.members[GROUP] and not world.table.admitted("804")
    assert any(text.startswith("Сообщество «Лепесток: свои» открыто с уровня «Подруга», а ваш уровень сейчас ниже")
               for text in telegram.texts(804))
    world.says(805, "/delete")
    world.taps(805, "delete:yes")
    world.settle_points()
    sent(world, telegram)
    assert telegram.members[GROUP] == set() and not world.table.admitted("805")
