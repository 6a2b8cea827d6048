"""The shipped program's challenges as a member meets them: what completing one pays and when, that its message waits
for the member's day like any news, and that its reward goes as the purchase that earned it goes (held, approved,
rejected, refunded)."""

from datetime import UTC, datetime, timedelta

from loyalty.contracts import HeldReceiptDecided, ReceiptAccepted, ReceiptHeldLater
from loyalty.flows.campaigns import Touches
from loyalty.flows.followups import FollowUps
from tests.fakes import MemoryBotTable, MemoryCampaigns, MemoryOutbox
from tests.unit.flows.conftest import CREAM, NOW, SEED, World, shopper

SHIPPED = SEED.model_copy(update={"receipts": SEED.receipts.model_copy(update={"max_per_day": 10})})
THREE_DONE = "🏆 Задание «Три чека за месяц» выполнено! Вам: +100 баллов и 1 вращение колеса призов."


def test_three_marketplace_receipts_pay_points_that_wait_out_the_return_window_and_a_spin() -> None:
    world = World(SHIPPED)
    anna = world.join("301")
    world.buy(anna)
    world.buy(anna, now=NOW + timedelta(days=3))
    third = world.buy(anna, now=NOW + timedelta(days=9))
    assert third.details.challenges == ["three_receipts"]
    reward = world.books.read(anna)[0].lots[f"{third.entry.entry_id}~three_receipts"]
    # Wildberries' return window is 14 days: the reward waits as long as the purchase that earned it
    assert (reward.points, reward.active, reward.available_at) == (100, False, NOW + timedelta(days=23))
    assert world.books.read(anna)[0].spins == 3 + 1  # a spin for each receipt, and the challenge's
    assert world.texts(anna).count(THREE_DONE) == 1
    # the challenge repeats: a fourth receipt (still December's) starts the next round, which pays nothing yet
    fourth = world.buy(anna, now=NOW + timedelta(days=35))
    assert fourth.details.challenges == [] and world.books.read(anna)[0].challenges["three_receipts"].receipts == 1


def test_a_first_order_on_the_site_pays_at_once_and_the_message_waits_for_the_members_morning() -> None:
    table = MemoryBotTable()
    world = World(SHIPPED, bot_table=table)
    night = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    boris = world.join("302", now=night)
    bought = world.buy(boris, channel="d2c", now=night)
    assert world.member(boris).available == 100 + 45 + 200  # welcome, the purchase, «Первый заказ на сайте»
    assert not any("Первый заказ на сайте" in text for text in world.texts(boris))  # not at 23:30 …
    (letter,) = [one for one in table.followups.values() if one.member_id == boris and one.kind == "notice"]
    postman = FollowUps(SHIPPED, table, world.books, Touches(SHIPPED, world.books, MemoryCampaigns(), MemoryOutbox()),
                        outbox=world.outbox)
    postman.run(night + timedelta(minutes=1))
    assert table.followups[letter.id].due_at == datetime(2026, 12, 7, 7, tzinfo=UTC)  # … it waits for 10:00
    postman.run(datetime(2026, 12, 7, 7, tzinfo=UTC))
    assert world.texts(boris)[-1] == ("🏆 Задание «Первый заказ на сайте» выполнено! Вам: +200 баллов, значок «Свой "
                                      "человек» и 1 вращение колеса призов.")
    world.accrual.accrue(ReceiptAccepted(  # SQS delivers the receipt again: no second letter, no second reward
        submission_id="again", shopper=shopper(boris), fiscal_key=bought.details.fiscal_key or "", channel="d2c",
        channel_kind="d2c", store="lepestok.ru", brand_sum_kopecks=45_000, lines=(CREAM,)), night)
    postman.run(datetime(2026, 12, 7, 12, tzinfo=UTC))
    assert sum("Первый заказ на сайте" in text for text in world.texts(boris)) == 1
    assert world.member(boris).available == 345


def test_a_whole_refund_takes_back_the_challenge_reward_its_purchase_earned_and_says_so() -> None:
    world = World(SHIPPED)
    vera = world.join("303")
    bought = world.buy(vera, channel="d2c")
    assert world.member(vera).available == 100 + 45 + 200
    world.accrual.reverse(ReceiptAccepted(
        submission_id="tg-update:refund", shopper=shopper(vera), fiscal_key="7380440800000017:303:9", channel="d2c",
        channel_kind="d2c", store="lepestok.ru", brand_sum_kopecks=45_000, lines=(CREAM,),
        reverses=bought.details.fiscal_key, purchase_kopecks=45_000), NOW + timedelta(days=1))
    assert world.member(vera).available == 100
    assert world.texts(vera)[-1] == ("Возврат на сайте Лепесток: списано 245 баллов. На счёте 100 баллов. В том числе "
                                     "награда за задание «Первый заказ на сайте» — его выполнила эта покупка.")


def test_a_purchase_held_later_holds_its_challenge_reward_and_a_rejection_takes_both_back() -> None:
    world = World(SHIPPED)
    gleb = world.join("304")
    bought = world.buy(gleb, channel="d2c")
    fiscal_key = bought.details.fiscal_key or ""
    world.accrual.hold_later(ReceiptHeldLater(member_id=gleb, fiscal_key=fiscal_key, held_by=("till_members",)))
    held = world.member(gleb)
    assert (held.available, held.pending) == (100, 245)
    world.accrual.decide(HeldReceiptDecided(member_id=gleb, fiscal_key=fiscal_key, approved=False))
    assert (world.member(gleb).available, world.member(gleb).pending) == (100, 0)


def test_a_purchase_held_from_the_start_moves_no_challenge_until_the_staff_approve_it() -> None:
    world = World(SHIPPED)
    dina = world.join("305")
    accepted = ReceiptAccepted(submission_id="tg-update:held", shopper=shopper(dina), fiscal_key="9960:305:1",
                               channel="d2c", channel_kind="d2c", store="lepestok.ru", brand_sum_kopecks=45_000,
                               lines=(CREAM,), held_by=("till_members",))
    held = world.accrual.accrue(accepted, NOW)
    assert held.details.challenges == [] and world.books.read(dina)[0].challenges == {}
    approved = world.accrual.decide(HeldReceiptDecided(member_id=dina, fiscal_key="9960:305:1", approved=True),
                                    NOW + timedelta(hours=5))
    assert approved is not None and approved.details.challenges == ["first_site_order"]
    assert world.member(dina).available == 100 + 45 + 200
    assert sum("Первый заказ на сайте» выполнено" in text for text in world.texts(dina)) == 1
    again = world.accrual.decide(HeldReceiptDecided(member_id=dina, fiscal_key="9960:305:1", approved=True))
    assert again is not None and not again.applied and world.member(dina).available == 345
