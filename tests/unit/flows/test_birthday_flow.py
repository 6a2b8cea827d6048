"""The birthday perk as a member meets it, on the fakes with real Telegram updates: the bot asks once and reads the
date as typed, a correction waits a year, and the gift comes three days before, at noon, once a year, to the levels
that have the perk, and lasts 14 days."""

from datetime import UTC, datetime, timedelta

import pytest
from pytest import MonkeyPatch

from loyalty.domain import postings
from loyalty.flows.letters import Letters
from loyalty.flows.schedule import PointsSchedule
from tests.fakes import STACK_KEY
from tests.unit.flows.test_bot_flow import QR, BotWorld

DECEMBER = datetime(2026, 12, 7, 9, tzinfo=UTC)  # noon in Moscow


@pytest.fixture
def world(monkeypatch: MonkeyPatch) -> BotWorld:
    monkeypatch.setattr("loyalty.clock.now", lambda: DECEMBER)
    return BotWorld()


def schedule_at(world: BotWorld, moment: datetime, monkeypatch: MonkeyPatch) -> None:
    """The points schedule's run at `moment`, and the postman's letters after it."""
    monkeypatch.setattr("loyalty.clock.now", lambda: moment)
    PointsSchedule(world.accrual.program, world.books, world.outbox, None, Letters(world.table, STACK_KEY)).run(moment)
    world.deliver_letters()


def test_the_bot_asks_the_birthday_reads_it_as_typed_and_says_when_the_gift_comes(world: BotWorld) -> None:
    world.joins(701, "+7 916 000-07-01")
    world.settle_points()
    world.says(701, "/level")
    assert world.texts(701)[-1].endswith("🎂 Укажите день рождения — /birthday — и получите подарок: 300 баллов.")
    world.says(701, "/birthday")
    assert world.texts(701)[-1] == ("🎂 Когда у вас день рождения? Напишите день и месяц, например: 14.05 — год не "
                                    "нужен.")
    world.says(701, "тридцать второе")
    assert world.texts(701)[-1].startswith("Не получилось понять дату.")
    world.says(701, "14 мая")
    world.settle_points()
    assert world.texts(701)[-1] == ("🎂 Записали: 14 мая. За 3 дня до него пришлём подарок — 300 баллов на 14 дней "
                                    "(с уровня «Подруга»).")
    assert world.books.read("701")[0].birthday is not None
    world.says(701, QR)  # the question is answered: a receipt's QR is a receipt again
    assert world.receipts.messages[-1].shopper.member_id == "701"


def test_a_correction_waits_a_year_and_a_redelivered_date_is_kept_once(world: BotWorld,
                                                                      monkeypatch: MonkeyPatch) -> None:
    world.joins(702, "+7 916 000-07-02")
    world.says(702, "/birthday 14.05.1990")
    world.settle_points()
    given = world.books.read("702")[0].birthday
    world.says(702, "/birthday 15.05")
    world.settle_points()
    assert world.texts(702)[-1] == "Дату рождения можно изменить раз в год — после 7 декабря."
    assert world.books.read("702")[0].birthday == given
    monkeypatch.setattr("loyalty.clock.now", lambda: DECEMBER + timedelta(days=366))
    world.says(702, "/birthday 15.05")
    world.settle_points()
    birthday = world.books.read("702")[0].birthday
    assert birthday is not None and (birthday.month, birthday.day, birthday.changes) == (5, 15, 2)


def test_the_gift_comes_three_days_before_at_noon_once_a_year_lasts_14_days_and_only_at_its_level(
        world: BotWorld, monkeypatch: MonkeyPatch) -> None:
    world.joins(703, "+7 916 000-07-03")
    world.joins(704, "+7 916 000-07-04")
    for member in (703, 704):
        world.says(member, "/birthday 20.12")
    world.settle_points()
    world.accrual.accrue(_purchase("703"), DECEMBER)  # a first receipt: «Подруга», whose perk the gift is
    before = world.books.read("703")[0].balance.available
    schedule_at(world, datetime(2026, 12, 17, 8, 59, tzinfo=UTC), monkeypatch)  # 11:59 on the 17th: not yet
    assert world.books.read("703")[0].balance.available == before
    schedule_at(world, datetime(2026, 12, 17, 9, 0, tzinfo=UTC), monkeypatch)  # noon, three days before
    assert world.books.read("703")[0].balance.available == before + 300
    assert world.texts(703)[-1] == ("🎂 С наступающим днём рождения! Дарим 300 баллов — они действуют до 31 декабря. "
                                    f"На счёте {before + 300} баллов.")
    schedule_at(world, datetime(2026, 12, 18, 9, 0, tzinfo=UTC), monkeypatch)  # the schedule runs again: nothing
    gifts = [entry for entry in world.books.entries("703") if entry.entry_id.startswith("birthday#gift")]
    assert [entry.entry_id for entry in gifts] == ["birthday#gift:2026"]
    assert world.books.read("704")[0].balance.available == 100  # «Знакомство» has no birthday gift
    passed = world.books.read("704")[0].birthday
    assert passed is not None and passed.gifted == 2026  # … and the year is passed over, not due again
    schedule_at(world, datetime(2026, 12, 31, 22, 0, tzinfo=UTC), monkeypatch)  # 14 days on: the gift expired
    assert world.books.read("703")[0].balance.available == before
    # next year's is due at its own noon
    schedule_at(world, datetime(2027, 12, 17, 9, 0, tzinfo=UTC), monkeypatch)
    assert "birthday#gift:2027" in [entry.entry_id for entry in world.books.entries("703")]


def test_an_erased_member_has_no_birthday_left_and_no_gift_falls_due(world: BotWorld,
                                                                    monkeypatch: MonkeyPatch) -> None:
    world.joins(705, "+7 916 000-07-05")
    world.says(705, "/birthday 20.12")
    world.settle_points()
    world.says(705, "/delete")
    world.taps(705, "delete:yes")
    world.settle_points()
    assert world.books.get("705") is None
    (pseudonym,) = [member_id for member_id in world.books.accounts if member_id.startswith("erased-")]
    wallet = world.books.read(pseudonym)[0]  # the books moved to the pseudonym, without the date
    assert wallet.birthday is None and postings.next_due(world.accrual.program, wallet) is None


def _purchase(member_id: str):  # type: ignore[no-untyped-def]
    from loyalty.contracts import ReceiptAccepted, Shopper

    return ReceiptAccepted(submission_id=f"tg-update:b{member_id}", shopper=Shopper(
        member_id=member_id, chat_id=int(member_id), language="ru"), fiscal_key=f"1:{member_id}:1", channel="d2c",
        channel_kind="d2c", store="lepestok.ru", brand_sum_kopecks=45_000)
