"""Redemption on in-memory adapters: the brand's site quotes a basket, holds points, commits or releases
them, redeems a promo code once, and reports a review (the HTTP edge is tests/e2e's)."""

from datetime import timedelta

import pytest

from loyalty.contracts import BonusGranted
from loyalty.domain import postings
from loyalty.domain.campaigns import Bonus, LastTouch, Touch, touch_key
from loyalty.domain.errors import Conflict, HoldNotFound, InsufficientPoints, MemberNotFound, OverQuote
from loyalty.domain.ledger import Kind
from loyalty.flows.redemption import (
    BasketLine,
    CommitRequest,
    HoldRequest,
    QuoteRequest,
    RedeemRequest,
    ReviewRequest,
)
from tests.conftest import present
from tests.unit.flows.conftest import NOW, SERUM, World

BASKET = [BasketLine(name="Крем для рук", gtin="4600000000017", price_kopecks=45_000, quantity=2),
          BasketLine(name="Сыворотка", category="face", price_kopecks=129_000)]


@pytest.fixture
def zoya(world: World) -> str:
    zoya = world.join("301", phone="+79160000301")
    world.buy(zoya, SERUM, channel="d2c")  # 100 + 193 available
    return zoya


def test_a_promo_code_spent_on_the_site_after_a_nudge_is_the_nudges_conversion_once(world: World, zoya: str) -> None:
    touch = Touch(campaign="to_site", step=0, member_id=zoya, key="to_site:0:n1")
    world.campaigns.record(touch, 0, NOW - timedelta(days=1))
    world.campaigns.settle("to_site", touch_key(touch), "delivered", NOW - timedelta(days=1))
    world.books.touched_item(zoya, LastTouch(campaign="to_site", key=touch_key(touch),
                                             delivered_at=NOW - timedelta(days=1), until=NOW + timedelta(days=13),
                                             channel="d2c").model_dump(mode="json"))()()
    code = present(present(world.promo(zoya, "tg-update:8", points=100)).details.code)
    for _ in range(2):  # the site retried
        world.redemption.redeem(code, RedeemRequest(order_id="site-88"), NOW)
    assert world.campaigns.stats("to_site")["converted"] == 1
    other = world.join("302", phone="+79160000302")  # no touch: nothing to convert
    world.buy(other, SERUM, channel="d2c")
    spent = present(present(world.promo(other, "tg-update:9", points=100)).details.code)
    world.redemption.redeem(spent, RedeemRequest(order_id="site-89"), NOW)
    assert world.campaigns.stats("to_site")["converted"] == 1


def test_a_basket_is_quoted_by_its_goods_rules_and_the_member_found_by_phone(world: World, zoya: str) -> None:
    quote = world.redemption.quote(QuoteRequest(phone="79160000301", lines=BASKET), NOW)
    # The cream pays at most 50% in points (its GTIN rule), the serum 100%; the member has 293.
    assert (quote.member_id, quote.available, quote.max_points) == (zoya, 293, 293)
    assert [line.max_points for line in quote.lines] == [450, 1290]
    # her level and its perks, so the site can add what the level promises (samples in every order)
    level = present(quote.level)
    assert level.id == world.member(zoya).level == "friend"
    assert (level.title, level.perks) == ("Подруга", ["подарок ко дню рождения", "ранний доступ к новинкам"])
    with pytest.raises(MemberNotFound):
        world.redemption.quote(QuoteRequest(phone="79160000999", lines=BASKET), NOW)


def test_a_hold_is_placed_once_per_key_and_committed_once(world: World, zoya: str) -> None:
    order = HoldRequest(order_id="site-1001", points=250, lines=BASKET)
    held = world.redemption.hold(zoya, "checkout-1001-a", order, NOW)
    assert world.redemption.hold(zoya, "checkout-1001-a", order, NOW) == held  # the site retried
    assert (held.points, held.status) == (250, "held")
    assert (world.member(zoya).available, world.member(zoya).held) == (43, 250)
    with pytest.raises(Conflict):  # the same key for another request
        world.redemption.hold(zoya, "checkout-1001-a", order.model_copy(update={"points": 40}), NOW)
    with pytest.raises(OverQuote):
        world.redemption.hold(zoya, "checkout-1001-b", order.model_copy(update={"points": 300, "lines": BASKET[:1]}),
                              NOW)
    with pytest.raises(InsufficientPoints):
        world.redemption.hold(zoya, "checkout-1001-c", HoldRequest(order_id="site-1001", points=44), NOW)

    done = world.redemption.commit(zoya, "checkout-1001-a", CommitRequest(order_id="site-1001"), NOW)
    assert world.redemption.commit(zoya, "checkout-1001-a", CommitRequest(order_id="site-1001"), NOW) == done
    assert (done.points, done.status, done.order_id) == (250, "committed", "site-1001")
    with pytest.raises(Conflict):
        world.redemption.release(zoya, "checkout-1001-a", NOW)
    assert (world.member(zoya).available, world.member(zoya).held) == (43, 0)


def test_a_released_hold_gives_its_points_back_and_cannot_be_committed(world: World, zoya: str) -> None:
    world.redemption.hold(zoya, "c-2", HoldRequest(order_id="site-2", points=40), NOW)
    released = world.redemption.release(zoya, "c-2", NOW)
    assert (released.points, released.status, world.member(zoya).available) == (40, "released", 293)
    with pytest.raises(Conflict):
        world.redemption.commit(zoya, "c-2", CommitRequest(order_id="site-2"), NOW)


def test_a_promo_code_pays_one_order_once(world: World, zoya: str) -> None:
    code = present(present(world.promo(zoya, "tg-update:7", points=100)).details.code)
    paid = world.redemption.redeem(code.lower(), RedeemRequest(order_id="site-77"), NOW)
    assert (paid.points, paid.status) == (100, "committed")
    assert world.redemption.redeem(code, RedeemRequest(order_id="site-77"), NOW) == paid  # the site retried
    with pytest.raises(Conflict):
        world.redemption.redeem(code, RedeemRequest(order_id="site-78"), NOW)
    with pytest.raises(HoldNotFound):
        world.redemption.redeem("NOSUCH99", RedeemRequest(order_id="site-79"), NOW)
    assert (world.member(zoya).available, world.member(zoya).held) == (193, 0)


def test_a_review_is_handed_to_the_accrual_queue_for_its_bonus(world: World, zoya: str) -> None:
    world.redemption.review(zoya, ReviewRequest(review_id="wb-review-1"))
    (granted,) = world.accrual_queue.messages
    assert isinstance(granted, BonusGranted)
    assert (granted.bonus, granted.reference, granted.shopper.chat_id) == ("review", "wb-review-1", 301)
    with pytest.raises(MemberNotFound):
        world.redemption.review("999", ReviewRequest(review_id="wb-review-2"))


def test_points_a_campaign_gave_are_counted_as_spent_when_an_order_commits_them(world: World, zoya: str) -> None:
    bonus = Bonus(points=150, expires_in_days=7)
    world.books.apply(zoya, "campaign#winback:1:x", Kind.BONUS,
                      lambda wal: postings.campaign_bonus(wal, "campaign#winback:1:x", "winback", bonus, NOW), now=NOW)
    world.redemption.hold(zoya, "c-9", HoldRequest(order_id="site-9", points=200), NOW)  # the soonest to expire first
    world.redemption.commit(zoya, "c-9", CommitRequest(order_id="site-9"), NOW)
    world.redemption.commit(zoya, "c-9", CommitRequest(order_id="site-9"), NOW)  # a retry counts nothing more
    assert world.campaigns.stats("winback")["points_spent"] == 150
