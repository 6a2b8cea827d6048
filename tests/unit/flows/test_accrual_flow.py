"""PointAccrual on in-memory adapters: what purchases, bonuses, referrals and promo codes do to a member,
and what the member is told — the rules, without the plumbing (tests/e2e proves the plumbing)."""

from datetime import timedelta

import pytest

from loyalty.contracts import ReceiptAccepted
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.ledger import Posting
from tests.conftest import present
from tests.fakes import STACK_KEY
from tests.unit.flows.conftest import CREAM, NOW, PROGRAM, SERUM, World, shopper


def test_a_new_member_reaches_level_2_then_level_3_and_earns_at_the_new_rate(world: World) -> None:
    anna = world.join("101")
    assert world.member(anna).available == PROGRAM.bonuses.welcome
    assert world.texts(anna) == ["Приветственный бонус: +100 баллов. На счёте 100 баллов."]
    world.buy(anna)
    assert world.member(anna).level == "friend"
    # the rate stays 10%: the news is the perks, not a "new" rate
    assert world.texts(anna)[-1] == ("Поздравляем, ваш новый уровень — «Подруга»! Теперь вам доступно: подарок ко "
                                     "дню рождения, ранний доступ к новинкам.")
    for _ in range(4):
        world.buy(anna)
    assert world.member(anna).level == "friend"  # five receipts, but level 3 also wants a review

    world.review(anna, "wb-review-81723")
    assert world.member(anna).level == "connoisseur"
    assert world.texts(anna)[-2].startswith("Спасибо за отзыв! +100 баллов")
    assert world.texts(anna)[-1] == ("Поздравляем, ваш новый уровень — «Ценитель»! Теперь баллами возвращается 12% "
                                     "от покупок. Что вам доступно: 12% баллами, пробники в каждом заказе.")
    again = world.review(anna, "wb-review-81723")  # the same review, reported twice
    assert not again.applied and world.member(anna).available == 200

    last = world.buy(anna)
    assert (last.details.credited, last.details.percent) == (54, "12")
    purchases = [entry for entry in world.books.entries(anna) if entry.kind == "accrual"]
    assert sorted(entry.details.credited for entry in purchases) == [45] * 5 + [54]


def test_a_level_up_at_the_same_rate_names_what_was_gained_not_a_new_rate() -> None:
    levels = [PROGRAM.levels[0].model_copy(update={"perks": []}),
              PROGRAM.levels[1].model_copy(update={"perks": []}),
              PROGRAM.levels[1].model_copy(update={"id": "vip", "title": "Вип", "perks": ["закрытые распродажи"],
                                                   "entry": [PROGRAM.levels[1].entry[0].model_copy(
                                                       update={"receipts": 2})]})]
    world = World(PROGRAM.model_copy(update={"levels": levels}))
    world.books.join("102")
    world.buy("102")
    world.buy("102")
    assert world.texts("102")[1::2] == [
        "Поздравляем, ваш новый уровень — «Подруга»! Баллами по-прежнему возвращается 10% от покупок.",
        "Поздравляем, ваш новый уровень — «Вип»! Теперь вам доступно: закрытые распродажи."]


def test_marketplace_points_are_pending_and_the_shopper_is_told_when_they_come() -> None:
    world = World()
    boris = world.join("103")
    posting = world.buy(boris, SERUM)  # 1290 ₽ of face care: 129 × 1.5
    assert (posting.details.credited, posting.details.pending, posting.details.available_at) == (
        193, True, NOW + timedelta(days=14))
    assert (world.member(boris).pending, world.member(boris).available) == (193, 100)
    assert world.texts(boris)[1].startswith("+193 балла за покупку на Wildberries. Они станут доступны 7 декабря")


def test_a_referral_pays_both_sides_once_on_the_first_purchase_only(world: World) -> None:
    dina = world.join("104")
    egor = world.join("105", referred_by=dina)
    first = world.buy(egor, channel="d2c")
    world.accrual.accrue(_redelivered(egor, first), NOW)  # SQS delivers the first purchase again
    world.buy(egor, channel="d2c")
    assert [entry.entry_id for entry in world.books.entries(egor) if entry.kind == "bonus"] == [
        "bonus#referred", "bonus#welcome"]
    assert [entry.entry_id for entry in world.books.entries(dina) if entry.kind == "bonus"] == [
        f"bonus#referrer:{STACK_KEY.marker('member', egor)}", "bonus#welcome"]
    assert (world.member(egor).available, world.member(dina).available) == (100 + 200 + 45 + 45, 100 + 200)
    assert sum("Ваш друг зарегистрировал первый чек — вам +200 баллов" in text for text in world.texts(dina)) == 1


def test_an_inviter_who_is_not_a_member_costs_the_invited_member_nothing(world: World) -> None:
    egor = world.join("106", referred_by="999")
    world.buy(egor, channel="d2c")
    assert world.member(egor).available == 100 + 200 + 45  # their own side is paid


def test_a_purchase_for_somebody_who_never_joined_is_member_not_found(world: World) -> None:
    with pytest.raises(MemberNotFound):
        world.buy("107")


def test_a_promo_code_holds_its_points_once_per_request(world: World) -> None:
    yana = world.join("108")
    assert world.promo(yana, "tg-update:1", points=50) is None
    assert world.texts(yana)[-1] == "Промокод выпускается от 100 баллов, а доступно 100 баллов."
    world.buy(yana, CREAM, channel="d2c")
    issued = present(world.promo(yana, "tg-update:2", points=100))
    replayed = present(world.promo(yana, "tg-update:2", points=100))  # the update, redelivered
    assert replayed.entry == issued.entry and not replayed.applied
    code = present(issued.details.code)
    assert present(world.codes.find(code.lower())).points == 100 and len(world.codes.codes) == 1
    assert (world.member(yana).available, world.member(yana).held) == (45, 100)
    assert world.texts(yana)[-1].startswith(f"Ваш промокод: {code}")
    assert world.promo(yana, "tg-update:3", points=5000) is None
    assert world.texts(yana)[-1] == "Для промокода на 5000 баллов не хватает баллов: доступно 45 баллов."


def _redelivered(member_id: str, posting: Posting) -> ReceiptAccepted:
    """The accrual command behind `posting`, as SQS would deliver it again."""
    details = posting.details
    return ReceiptAccepted(submission_id=details.submission_id, shopper=shopper(member_id),
                           fiscal_key=details.fiscal_key, channel=details.channel, channel_kind="d2c",
                           store=details.store, brand_sum_kopecks=details.brand_sum_kopecks, lines=(CREAM,))


def test_purchases_and_refunds_keep_the_facts_campaigns_target(world: World) -> None:
    lena = world.join("109")
    bought_at = NOW - timedelta(days=2)
    world.buy(lena, CREAM, SERUM, purchased_at=bought_at)
    world.buy(lena, CREAM, channel="d2c", purchased_at=NOW - timedelta(days=5))  # sent late: not the last
    facts = world.books.read(lena)[0].facts
    assert (facts.first_purchase_at, facts.last_purchase_at, facts.last_channel) == (
        NOW - timedelta(days=5), bought_at, "wildberries")
    assert (facts.receipts, facts.spend_kopecks, facts.average_receipt_kopecks) == (2, 219_000, 109_500)
    assert {name: (c.receipts, c.spend_kopecks) for name, c in facts.by_channel.items()} == {
        "wildberries": (1, 174_000), "d2c": (1, 45_000)}
    assert facts.categories == ("face",) and facts.days_since_last_purchase(NOW) == 2
    world.review(lena, "r-1")  # a bonus is not a purchase
    assert world.books.read(lena)[0].facts == facts


def test_a_whole_refund_takes_its_receipt_and_spend_off_the_facts(world: World) -> None:
    mila = world.join("110")
    bought = world.buy(mila, CREAM, SERUM)
    world.buy(mila, CREAM)
    world.accrual.reverse(ReceiptAccepted(
        submission_id="tg-update:r", shopper=shopper(mila), fiscal_key="7380440800000017:99:1", channel="wildberries",
        store="Wildberries", brand_sum_kopecks=174_000, lines=(CREAM, SERUM), reverses=bought.details.fiscal_key,
        purchase_kopecks=174_000), NOW)
    facts = world.books.read(mila)[0].facts
    assert (facts.receipts, facts.spend_kopecks, facts.by_channel["wildberries"].receipts) == (1, 45_000, 1)


def test_a_challenge_completed_is_told_once_and_paid_once_however_often_its_receipt_comes() -> None:
    from loyalty.domain.challenges import Challenge

    three = Challenge(id="three", title="3 чека за месяц", goal="receipts", target=3, window_days=30,
                      reward={"points": 100, "badge": "Три чека", "spins": 1})
    world = World(PROGRAM.model_copy(update={"challenges": [three]}))
    olga = world.join("120")
    world.buy(olga)
    world.buy(olga, now=NOW + timedelta(days=2))
    third = world.buy(olga, now=NOW + timedelta(days=20))
    done = "🏆 Задание «3 чека за месяц» выполнено! Вам: +100 баллов, значок «Три чека» и 1 вращение колеса призов."
    assert world.texts(olga).count(done) == 1
    balance = world.member(olga).available
    world.accrual.accrue(_redelivered(olga, third), NOW + timedelta(days=20))  # SQS delivers it again
    assert world.texts(olga).count(done) == 1 and world.member(olga).available == balance
    assert third.details.challenges == ["three"] and third.details.challenge_points == 100


def test_the_level_card_and_the_mini_app_show_each_open_challenge_where_the_member_stands_and_their_badges(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from loyalty import clock
    from loyalty.domain.challenges import Challenge
    from loyalty.flows.menu import Menu
    from loyalty.flows.miniapp import MiniApp
    from loyalty.flows.replies import Replies
    from tests.fakes import MemoryBotTable

    three = Challenge(id="three", title="3 чека & месяц", goal="receipts", target=3, window_days=30,
                      reward={"points": 100, "badge": "Три чека"}, repeats=True)
    site = Challenge(id="site", title="Покупка на сайте", goal="site_purchase", reward={"points": 50})
    gone = Challenge(id="gone", title="Прошлогоднее", goal="review", reward={"points": 5}, ends=date(2025, 1, 1))
    world = World(PROGRAM.model_copy(update={"challenges": [three, site, gone]}))
    pavel = world.join("121", phone="+79160000121")
    for days in (0, 1, 2, 3):
        world.buy(pavel, now=NOW + timedelta(days=days))
    menu = Menu(world.accrual.program, world.books, Replies(world.outbox), MemoryBotTable(), STACK_KEY)
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(days=10))
    menu.level(shopper(pavel), "tg-update:level", world.member(pavel))
    card = world.texts(pavel)[-1]
    # the third receipt completed a round; the fourth, three days in, began the next: 23 of its 30 days are left
    assert ("Задания:\n• 3 чека &amp; месяц — 1 из 3 чеков, осталось 23 дня (+100 баллов и значок «Три чека»)\n"
            "• Покупка на сайте — ещё не выполнено (+50 баллов)") in card
    assert "\nВаши значки: Три чека.\n\n🎂 Укажите день рождения" in card and "Прошлогоднее" not in card
    me = MiniApp(world.accrual.program, world.books, world.books, MemoryBotTable(), world.accrual_queue,
                 STACK_KEY).me(pavel, NOW + timedelta(days=10))
    assert [(view.title, view.standing, view.reward) for view in me.challenges] == [
        ("3 чека & месяц", "1 из 3 чеков, осталось 23 дня", "+100 баллов и значок «Три чека»"),
        ("Покупка на сайте", "ещё не выполнено", "+50 баллов")]
    assert me.badges == ["Три чека"]
