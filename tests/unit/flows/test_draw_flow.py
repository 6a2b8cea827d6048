"""The prize draw as members play it (flows/draw.py) on the fakes: spins earned by receipts and challenges, each spin
paid once however often it is asked, the budget kept across members, and a day that `verify` replays to the spin."""

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.domain.draw import Draw
from loyalty.domain.errors import NoSpins
from loyalty.flows.draw import PrizeDraw
from loyalty.flows.replies import Replies
from tests.fakes import STACK_KEY, MemoryBotTable, MemoryDraw
from tests.unit.flows.conftest import NOW, SEED, World, shopper


def drawn(prizes: list[dict[str, object]], per_day: int = 10_000,
          level_spins: dict[str, int] | None = None) -> tuple[World, PrizeDraw, MemoryDraw]:
    draw = Draw.model_validate({"budget": {"per_day_points": per_day, "per_month_points": 100_000},
                                "level_spins": level_spins or {}, "prizes": prizes})
    program = SEED.model_copy(update={"receipts": SEED.receipts.model_copy(update={"max_per_day": 10}),
                                      "challenges": [], "draw": draw})
    world, store = World(program), MemoryDraw()
    return world, PrizeDraw(program, world.books, store, STACK_KEY, Replies(world.outbox), MemoryBotTable()), store


def test_a_receipt_earns_a_spin_and_a_spin_pays_its_prize_once_however_often_it_is_asked() -> None:
    world, wheel, store = drawn([{"id": "fifty", "title": "+50 баллов", "points": 50, "chance_percent": 100}])
    anna = world.join("401")
    bought = world.buy(anna)
    assert bought.details.spins == 1 and world.books.read(anna)[0].spins == 1
    assert world.texts(anna)[-2].endswith("🎡 И +1 вращение колеса призов — оно ждёт вас в «Мои баллы» (кнопка меню).")
    before = world.member(anna).available
    outcome = wheel.spin(shopper(anna), NOW)
    assert (outcome.number, outcome.prize, outcome.title, outcome.spins) == (1, "fifty", "+50 баллов", 0)
    assert world.member(anna).available == before + 50 == outcome.available
    with pytest.raises(NoSpins):
        wheel.spin(shopper(anna), NOW)  # no spin left: nothing drawn, nothing paid
    assert world.member(anna).available == before + 50 and len(store.spins) == 1
    (entry,) = [entry for entry in world.books.entries(anna) if entry.entry_id == "draw#1"]
    assert (entry.kind, entry.points, entry.details.prize, entry.details.spin) == ("bonus", 50, "fifty", 1)


def test_a_spin_recorded_but_not_paid_is_paid_when_asked_again_not_drawn_again() -> None:
    world, wheel, store = drawn([{"id": "fifty", "title": "+50", "points": 50, "chance_percent": 50}])
    boris = world.join("402")
    world.buy(boris)
    player = wheel.player(boris)
    recorded = wheel._drawn(player, 1, NOW)  # the draw recorded it, and the function died before the ledger
    outcome = wheel.spin(shopper(boris), NOW + timedelta(seconds=5))
    assert (outcome.prize, len(store.spins)) == (recorded.prize, 1)


def test_a_level_earns_more_spins_a_receipt_and_a_multiplier_won_doubles_the_next_receipt() -> None:
    world, wheel, _ = drawn([{"id": "double", "title": "x2", "multiplier": 2, "value_points": 100,
                              "chance_percent": 100}], level_spins={"friend": 2})
    vera = world.join("403")
    first = world.buy(vera)  # the first receipt opens «Подруга», where a receipt earns two spins
    assert first.details.spins == 2 and "+2 вращения колеса призов" in world.texts(vera)[-2]
    wheel.spin(shopper(vera), NOW)
    doubled = world.buy(vera, now=NOW + timedelta(hours=1))
    assert doubled.details.credited == 2 * first.details.credited and doubled.details.campaign == "draw:1"
    third = world.buy(vera, now=NOW + timedelta(hours=2))
    assert third.details.credited == first.details.credited  # a boost pays once


def test_the_days_budget_holds_across_members_and_verify_replays_the_day_to_the_spin() -> None:
    world, wheel, store = drawn([{"id": "big", "title": "+200", "points": 200, "chance_percent": 60}], per_day=1000)
    members = [world.join(str(500 + n)) for n in range(30)]
    wheel.publish(NOW - timedelta(days=1))  # the schedule made the day's seed the day before
    for member in members:
        world.buy(member)
        wheel.spin(shopper(member), NOW)
    day = NOW.date()
    spins = store.day(day)
    assert len(spins) == 30 and [one.seq for one in spins] == list(range(1, 31))
    given = sum(entry.points for member in members for entry in world.books.entries(member)
                if entry.entry_id.startswith("draw#"))
    assert given == sum(one.value_points for one in spins) <= 1000 and given == 1000  # 60% of 30 wins would be 3600
    assert any(one.withheld == "day_budget" for one in spins)
    assert wheel.verify(day) == []
    winner = next(one for one in spins if one.prize)  # recorded as withheld: a prize the roll gave, kept back
    store.spins[(day.isoformat(), winner.seq)] = winner.model_copy(update={"prize": None, "withheld": "stock",
                                                                         "value_points": 0})
    assert winner.seq in [mismatch.seq for mismatch in wheel.verify(day)]


def test_a_day_whose_seed_was_made_on_the_day_itself_is_named_by_verify() -> None:
    world, wheel, _ = drawn([{"id": "fifty", "title": "+50", "points": 50, "chance_percent": 50}])
    egor = world.join("405")
    world.buy(egor)
    wheel.spin(shopper(egor), NOW)  # nobody opened the wheel the day before: its hash was not out in advance
    (problem,) = wheel.verify(NOW.date())
    assert "made on the day itself" in problem.problem


def test_the_board_publishes_todays_and_tomorrows_hash_and_reveals_only_a_day_that_is_over() -> None:
    world, wheel, _ = drawn([{"id": "fifty", "title": "+50", "points": 50, "chance_percent": 10}])
    dina = world.join("404")
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    first = wheel.board(shopper(dina), monday)
    assert [(seed.day, seed.seed) for seed in first.seeds] == [("2026-12-07", None), ("2026-12-08", None)]
    tuesday = wheel.board(shopper(dina), monday + timedelta(days=1))
    assert [seed.day for seed in tuesday.seeds] == ["2026-12-07", "2026-12-08", "2026-12-09"]
    assert tuesday.seeds[0].seed is not None and tuesday.seeds[1].seed is None
    assert tuesday.seeds[1].hash == first.seeds[1].hash  # the hash published on Monday is Tuesday's
    assert (first.spins, first.prizes[0].title, first.prizes[0].chance_percent) == (0, "+50", "10")


PROGRAM_STAFF = SEED.bot.staff_chat_id or 0


def test_a_reward_won_is_told_to_the_member_and_ordered_in_the_staff_chat_once_and_its_stock_holds() -> None:
    world, wheel, _ = drawn([{"id": "samples", "title": "Набор пробников", "reward": "samples",
                              "chance_percent": 100, "stock": 1}])
    anna, boris = world.join("406"), world.join("407")
    for member in (anna, boris):
        world.buy(member)
    won = wheel.spin(shopper(anna), NOW)
    assert (won.prize, won.withheld) == ("samples", None)
    assert wheel.spin(shopper(anna), NOW, number=1) == won  # the page asked again: the same spin, ordered once
    staff = world.outbox.texts(PROGRAM_STAFF)
    assert world.texts(anna)[-1] == "🎡 Ваш приз — «Набор пробников»! Мы напишем вам, как его получить."
    assert len([text for text in staff if text.startswith("🎡 Приз колеса #")]) == 1 and "Набор пробников" in staff[-1]
    assert (world.member(anna).available, world.member(anna).pending) == (100, 45)  # a reward won costs no points
    lost = wheel.spin(shopper(boris), NOW)  # the only one is gone: the roll lands on it, the stock withholds it
    assert (lost.prize, lost.withheld, lost.title) == (None, "stock", "В этот раз без приза")

