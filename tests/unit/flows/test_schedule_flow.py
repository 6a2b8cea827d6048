"""PointsSchedule on in-memory adapters: what falls due with time — pending points, reminders, expiry, stale
holds and promo codes, level reviews — happens once, in order, and the member is told once."""

from datetime import timedelta

from loyalty.domain.messages import day_month
from loyalty.flows.redemption import HoldRequest
from tests.conftest import present
from tests.unit.flows.conftest import CREAM, NOW, PROGRAM, SERUM, World


def test_marketplace_points_wait_out_the_return_window_then_become_available(world: World) -> None:
    boris = world.join("201")
    world.buy(boris, SERUM)
    assert world.schedule.run(NOW + timedelta(days=13)) == {}
    assert world.member(boris).pending == 193
    assert world.schedule.run(NOW + timedelta(days=14, minutes=5)) == {"activation": 1}
    assert (world.member(boris).pending, world.member(boris).available) == (0, 293)
    assert world.texts(boris)[-1] == "193 балла за покупку на Wildberries стали доступны. На счёте 293 балла."
    assert world.schedule.run(NOW + timedelta(days=14, minutes=10)) == {}  # nothing more to do


def test_points_expire_after_one_reminder_at_noon_moscow(world: World) -> None:
    vera = world.join("202")
    world.buy(vera, channel="d2c")  # the brand's own site: available at once
    lots = world.books.read(vera)[0].lots.values()
    expires = {lot.expires_at for lot in lots}
    assert len(expires) == 1  # both: the end of the same month next year
    (expiry,) = expires
    expiry = present(expiry)
    reminder_day = expiry - timedelta(days=7)
    world.schedule.run(reminder_day - timedelta(days=1))
    assert not any("сгорит" in text for text in world.campaign_texts(vera))
    world.schedule.run(reminder_day + timedelta(hours=13))  # past noon Moscow, seven days ahead
    world.schedule.run(reminder_day + timedelta(hours=14))
    assert [text for text in world.campaign_texts(vera) if "сгорит" in text] == [  # the expiring_points campaign
        f"У вас сгорит 145 баллов через 7 дней — {day_month(expiry, 'ru')}. Успейте потратить их: на сайте "
        "Лепесток баллами можно оплатить до 100% заказа."]
    assert world.schedule.run(expiry) == {"expiry": 2}
    assert world.member(vera).available == 0
    assert world.texts(vera)[-2:] == ["Срок действия 100 баллов закончился, они сгорели. На счёте 45 баллов.",
                                      "Срок действия 45 баллов закончился, они сгорели. На счёте 0 баллов."]


def test_a_year_without_purchases_takes_level_3_down_gently_to_level_2(world: World) -> None:
    anna = world.join("203")
    for _ in range(5):
        world.buy(anna, channel="d2c")
    world.review(anna, "wb-1")
    assert world.member(anna).level == "connoisseur"
    world.schedule.run(NOW + timedelta(days=366))
    assert world.member(anna).level == "friend"  # never below what the history still earns
    assert ("Ваш уровень теперь «Подруга»: за последние 365 дней покупок было меньше, чем нужно для прежнего. "
            "Все баллы на месте, а вернуть уровень можно новыми покупками. Сейчас начисляем 10%.") in world.texts(anna)


def test_a_stale_hold_goes_back_before_its_points_could_expire(world: World) -> None:
    zoya = world.join("204")
    world.buy(zoya, CREAM, channel="d2c")
    world.redemption.hold(zoya, "c-1", HoldRequest(order_id="site-1", points=140), NOW)
    assert world.member(zoya).held == 140
    world.schedule.run(NOW + timedelta(minutes=PROGRAM.redemption.hold_minutes + 1))
    assert (world.member(zoya).available, world.member(zoya).held) == (145, 0)


def test_an_unused_promo_code_goes_back_and_the_shopper_is_told(world: World) -> None:
    yana = world.join("205")
    world.buy(yana, SERUM, channel="d2c")
    code = present(world.promo(yana, "tg-update:1")).details.code  # all available points
    assert world.member(yana).held == 293
    world.schedule.run(NOW + timedelta(days=PROGRAM.redemption.promo_code_days, minutes=1))
    assert world.texts(yana)[-1] == (f"Промокод {code} не был использован, 293 балла вернулись на счёт. "
                                     "На счёте 293 балла.")


def test_a_run_that_is_repeated_changes_nothing_twice(world: World) -> None:
    gleb = world.join("206")
    world.buy(gleb, SERUM)
    later = NOW + timedelta(days=15)
    first = world.schedule.run(later)
    sent = len(world.outbox.messages)
    assert world.schedule.settle(gleb, later) == [] and world.schedule.run(later) == {}
    assert first == {"activation": 1} and len(world.outbox.messages) == sent
