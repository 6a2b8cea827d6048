"""Campaigns end to end on the local stack, over simulated time: the shipped win-back ladder and the shipped
segment example, each member reached once, through CampaignQueue and the paced sender to the Telegram emulator
(which answers 429 past Telegram's limits), with 403 and 429 handled as Telegram means them."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from loyalty.adapters.campaign_store import COUNTERS
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import buy, join, member, morning, next_run, schedule, schedule_until, seed_stack, texts

pytestmark = pytest.mark.e2e
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NICE_CREAM = ("Лепесток крем для рук 50 мл", 110_000, 1)  # 1,100 RUB: 110 points at 10%
BIG_SERUM = ("Лепесток сыворотка для лица 30 мл", 160_000, 1)  # 1,600 RUB of face care: 240 points at 10%


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def stats(stack: LocalStack, campaign: str) -> dict[str, int]:
    item = stack.aws("dynamodb").get_item(TableName="CampaignsTable", ConsistentRead=True,
                                          Key=to_item({"campaign": campaign, "key": "stats"})).get("Item", {})
    return {name: int(from_item(item).get(name, 0)) for name in COUNTERS}


def later(stack: LocalStack, delta: timedelta) -> None:
    """Move the stack's clock on by `delta` (on to noon, Moscow, if that falls outside the ladder's sending hours),
    and run every schedule (points and campaigns) then."""
    moment = (stack.now() + delta).astimezone(MOSCOW)
    if not 10 <= moment.hour < 21:
        moment = moment.replace(hour=12, minute=0) + (DAY if moment.hour >= 21 else timedelta(0))
    stack.travel(moment)
    schedule(stack, stack.now())


def winback(shopper: Shopper) -> list[str]:
    return [text for text in texts(shopper) if text.startswith(("Давно не виделись", "Дарим вам", "Мы очень скучаем"))]


def test_the_ladder_sends_at_30_60_and_90_days_once_each_and_its_bonus_expires_in_7_days(stack: LocalStack) -> None:
    anna = join(stack)
    buy(stack, anna, d2c=True)  # 100 welcome + 45 available at once, + 200 for «Первый заказ на сайте»
    later(stack, 29 * DAY)
    assert winback(anna) == []
    later(stack, DAY + 2 * HOUR)
    later(stack, HOUR)  # a second run in the same lapse: nothing twice
    assert winback(anna) == ["Давно не виделись! На вашем счёте 345 баллов — на сайте Лепесток ими можно оплатить "
                             "до 100% заказа."]
    later(stack, 30 * DAY)
    assert len(winback(anna)) == 2 and winback(anna)[1].startswith("Дарим вам 150 баллов! Они сгорят через 7 дней")
    assert member(stack, anna)["available"] == 345 + 150
    later(stack, 7 * DAY + HOUR)  # the bonus's own short life
    assert member(stack, anna)["available"] == 345
    later(stack, 23 * DAY)
    assert len(winback(anna)) == 3 and winback(anna)[2].startswith("Мы очень скучаем: +300 баллов")
    later(stack, 30 * DAY)
    assert len(winback(anna)) == 3  # the top of the ladder: climbed once per lapse
    figures = stats(stack, "winback")
    assert (figures["audience"], figures["delivered"], figures["points_given"]) == (3, 3, 450)


def test_a_purchase_stops_the_ladder_and_the_next_lapse_climbs_it_again_and_converts(stack: LocalStack) -> None:
    boris = join(stack)
    buy(stack, boris, d2c=True)
    later(stack, 30 * DAY + 2 * HOUR)
    assert len(winback(boris)) == 1
    before = stats(stack, "winback")
    later(stack, 5 * DAY)
    buy(stack, boris, d2c=True)  # within the goal's 14 days: the touch converts
    after = stats(stack, "winback")
    assert (after["converted"] - before["converted"], after["revenue_kopecks"] - before["revenue_kopecks"]) == (
        1, 45_000)
    later(stack, 25 * DAY)  # 60 days after the first purchase, 25 after the last: nothing
    assert len(winback(boris)) == 1
    later(stack, 5 * DAY + 2 * HOUR)  # 30 days after the last purchase: the new lapse's first step
    assert len(winback(boris)) == 2 and winback(boris)[1].startswith("Давно не виделись")


def test_regulars_with_a_1000_to_1200_average_get_double_points_on_one_receipt_of_1500(stack: LocalStack) -> None:
    morning(stack)
    cora = join(stack)
    for _ in range(6):  # the sixth purchase brings her into regulars_mid_basket
        buy(stack, cora, NICE_CREAM, d2c=True)
    # the offer is a letter: it follows the news of the challenges those receipts completed, the contact policy's
    # spacing after them
    schedule_until(stack, cora, "двойные баллы", next_run(stack), hours=6)
    offers = [text for text in texts(cora) if "двойные баллы" in text]
    assert offers == ["Вы наш постоянный покупатель! Купите на 1500 ₽ в ближайшие 5 дней — начислим двойные баллы."]
    buy(stack, cora, NICE_CREAM, d2c=True)  # under 1,500 RUB: the usual 10%
    assert "+110 баллов" in texts(cora)[-1]
    buy(stack, cora, BIG_SERUM, d2c=True)  # 1,600 RUB of face care: 1.5 x 10% x 2
    assert "+480 баллов" in texts(cora)[-1]
    buy(stack, cora, BIG_SERUM, d2c=True)  # the offer paid once
    assert "+240 баллов" in texts(cora)[-1]
    assert [text for text in texts(cora) if "двойные баллы" in text] == offers  # not re-sent while in the segment


def test_a_member_who_blocked_the_bot_is_unsubscribed_and_reached_no_more(stack: LocalStack) -> None:
    dina = join(stack)
    buy(stack, dina, d2c=True)
    dina.block_bot()
    later(stack, 30 * DAY + 2 * HOUR)
    assert member(stack, dina)["subscribed"] is False
    assert stats(stack, "winback")["blocked"] >= 1
    dina.unblock_bot()
    later(stack, 30 * DAY)
    assert winback(dina) == []  # unsubscribed: the ladder passes her by


def test_a_429_is_waited_out_and_the_message_arrives_once(stack: LocalStack) -> None:
    egor = join(stack)
    buy(stack, egor, d2c=True)
    egor.fail_next(status=429, retry_after=1)
    later(stack, 30 * DAY + 2 * HOUR)
    stack.wait_idle(timeout=60)
    assert len(winback(egor)) == 1
