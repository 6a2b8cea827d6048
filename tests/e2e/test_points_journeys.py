"""The seed program's journeys, end to end on the local stack: shoppers talk to the Telegram emulator, the
brand's site calls the redemption API over HTTP with its API key, and the points schedule is run at chosen
moments (schedules never fire by themselves here). They prove the wiring — bot, queues, functions, API,
schedule — while the rules those journeys follow (levels, pending points, expiry, referral arithmetic) are
tested on the flows themselves, in milliseconds (tests/unit/flows).

The program is program/program.yaml as shipped, with one change: a shopper may register ten receipts a
day instead of five.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pytest import MonkeyPatch

from loyalty.domain.keyed import Keyed
from loyalty.domain.ledger import referrer_bonus_entry
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.e2e.journeys import (
    CREAM,
    PROGRAM,
    SERUM,
    api,
    buy,
    entries,
    join,
    letter,
    member,
    schedule,
    seed_stack,
    texts,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def test_a_review_the_site_reports_pays_its_bonus_once(stack: LocalStack) -> None:
    """The redemption API hands the review to AccrualQueue; the bonus and its message come back through the bot
    (levels, rates, pending points and expiry are the flows' rules: tests/unit/flows)."""
    anna = join(stack)
    assert member(stack, anna)["available"] == PROGRAM.bonuses.welcome
    assert any("Приветственный бонус: +100 баллов" in text for text in texts(anna))
    for _ in range(2):  # the site reports the same review twice
        status, body = api(stack, f"/members/{anna.chat_id}/reviews", {"review_id": "wb-review-81723"})
        assert (status, body) == (202, {"status": "accepted"})
    stack.wait_idle()
    assert member(stack, anna)["available"] == PROGRAM.bonuses.welcome + PROGRAM.bonuses.review
    letter(stack, anna, "Спасибо за отзыв! +100 баллов")
    assert sum("Спасибо за отзыв! +100 баллов" in text for text in texts(anna)) == 1
    assert [key for key in entries(stack, anna) if key.startswith("bonus#review")] == ["bonus#review:wb-review-81723"]
    boris = join(stack)  # the same review reported for somebody else: paid once, to the first
    status, body = api(stack, f"/members/{boris.chat_id}/reviews", {"review_id": "wb-review-81723"})
    assert status == 409 and body["error"] == "conflict"
    stack.wait_idle()
    assert member(stack, boris)["available"] == PROGRAM.bonuses.welcome


def test_a_refund_reverses_the_purchase_points(stack: LocalStack) -> None:
    gleb = join(stack)
    raw = buy(stack, gleb, CREAM, SERUM)
    assert member(stack, gleb)["pending"] == 45 + 193
    buy(stack, gleb, SERUM, operation=2, fd=raw["fiscalDocumentNumber"] + 500_000)
    assert member(stack, gleb)["pending"] == 45 + 193 - 193
    assert texts(gleb)[-1] == "Возврат на Wildberries: списано 193 балла. На счёте 100 баллов."
    reversal = next(e for e in entries(stack, gleb).values() if e["kind"] == "refund_reversal")
    assert reversal["change"] == {"available": 0, "pending": -193, "held": 0, "debt": 0}


def test_an_invitation_link_pays_both_sides_on_the_first_purchase(stack: LocalStack) -> None:
    dina = join(stack)
    dina.say("/invite")
    stack.wait_idle()
    link = present(re.search(r"https://\S+", texts(dina)[-1])).group()
    assert re.fullmatch(r"https://t\.me/lepestok_bonus_bot\?start=ref_[A-Z2-9]{8}", link)
    egor = join(stack, "/start " + link.split("?start=")[1])
    assert member(stack, egor)["referred_by"] == str(dina.chat_id)
    buy(stack, egor, d2c=True)  # paid once, never again: tests/unit/flows/test_accrual_flow.py
    assert [k for k in entries(stack, dina) if k.startswith("bonus#ref")] == [
        referrer_bonus_entry(Keyed(lambda: stack.stack_key).marker("member", str(egor.chat_id)))]
    assert member(stack, egor)["available"] == 100 + 200 + 45 + 200  # and «Первый заказ на сайте» it completed
    assert member(stack, dina)["available"] == 100 + 200
    letter(stack, dina, "Ваш друг зарегистрировал первый чек — вам +200 баллов")  # news: a letter, in the day
    assert sum("Ваш друг зарегистрировал первый чек — вам +200 баллов" in text for text in texts(dina)) == 1


def test_a_basket_is_quoted_held_committed_and_a_replayed_hold_charges_nothing_more(stack: LocalStack) -> None:
    zoya = join(stack)
    buy(stack, zoya, SERUM, d2c=True)  # 100 + 193 available, and 200 for «Первый заказ на сайте»
    basket = [{"name": "Крем для рук", "gtin": "4600000000017", "price_kopecks": 45_000, "quantity": 2},
              {"name": "Сыворотка", "category": "face", "price_kopecks": 129_000}]
    status, quote = api(stack, "/quote", {"phone": f"+7916{zoya.chat_id:07d}", "lines": basket})
    assert status == 200
    # The cream pays at most 50% in points (its GTIN rule), the serum 100%; the member has 493.
    assert quote == {"member_id": str(zoya.chat_id), "available": 493, "max_points": 493,
                     "lines": [{"index": 0, "max_points": 450}, {"index": 1, "max_points": 1290}],
                     "level": {"id": "friend", "title": "Подруга",  # the site adds what her level promises
                               "perks": ["подарок ко дню рождения", "ранний доступ к новинкам"]}}
    order = {"order_id": "site-1001", "points": 250, "lines": basket}
    status, hold = api(stack, f"/members/{zoya.chat_id}/holds", order, key="checkout-1001-a")
    assert status == 201 and (hold["points"], hold["status"]) == (250, "held")
    assert api(stack, f"/members/{zoya.chat_id}/holds", order, key="checkout-1001-a") == (201, hold)  # a retry
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (243, 250)
    assert api(stack, f"/members/{zoya.chat_id}/holds", {**order, "points": 40},
               key="checkout-1001-a")[0] == 409  # the same key for another request
    assert api(stack, f"/members/{zoya.chat_id}/holds", {**order, "points": 300, "lines": basket[:1]},
               key="checkout-1001-b")[0] == 400  # over what this basket may take
    for loose in ("10", 2.0, True):  # points are a JSON integer, nothing that only looks like one
        status, refused = api(stack, f"/members/{zoya.chat_id}/holds", {**order, "points": loose}, key=f"loose-{loose}")
        assert status == 422 and refused["detail"][0]["loc"][-2:] == ["body", "points"], refused

    done = api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/commit", {"order_id": "site-1001"})
    assert done == (200, {"hold_id": "checkout-1001-a", "member_id": str(zoya.chat_id), "points": 250,
                          "status": "committed", "expires_at": None, "order_id": "site-1001"})
    assert api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/commit", {"order_id": "site-1001"}) == done
    assert api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/release")[0] == 409
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (243, 0)

    # A checkout abandoned: its hold goes back when the schedule finds it stale.
    status, _ = api(stack, f"/members/{zoya.chat_id}/holds", {"order_id": "site-1002", "points": 40}, key="c-1002")
    assert status == 201 and member(stack, zoya)["available"] == 203
    schedule(stack, datetime.now(UTC) + timedelta(minutes=PROGRAM.redemption.hold_minutes + 1))
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (243, 0)
    assert api(stack, f"/members/{zoya.chat_id}/holds/c-1002/commit", {"order_id": "site-1002"})[0] == 409


def test_a_promo_code_from_the_bot_pays_one_order_once(stack: LocalStack) -> None:
    yana = join(stack)
    yana.say("/promo 50")
    stack.wait_idle()
    assert texts(yana)[-1] == "Промокод выпускается от 100 баллов, а доступно 100 баллов."
    buy(stack, yana, d2c=True)
    yana.say("/promo 100")
    stack.wait_idle()
    code = texts(yana)[-1].splitlines()[0].split(": ")[1]
    assert member(stack, yana)["held"] == 100
    promo_hold = next(e["entry_id"] for e in entries(stack, yana).values() if e["kind"] == "hold").split("#", 1)[1]
    for action in ("release", "commit"):  # the bot's code is settled by its redemption only, not the site's endpoints
        refused = api(stack, f"/members/{yana.chat_id}/holds/{promo_hold}/{action}", {})
        assert refused[0] == 404, refused
    assert member(stack, yana)["held"] == 100
    paid = api(stack, f"/promo-codes/{code.lower()}/redeem", {"order_id": "site-77"})
    assert paid[0] == 200 and paid[1]["points"] == 100 and paid[1]["status"] == "committed"
    assert api(stack, f"/promo-codes/{code}/redeem", {"order_id": "site-77"}) == paid  # the site retried
    assert api(stack, f"/promo-codes/{code}/redeem", {"order_id": "site-78"})[0] == 409
    assert api(stack, "/promo-codes/NOSUCH99/redeem", {"order_id": "site-79"})[0] == 404
    assert (member(stack, yana)["available"], member(stack, yana)["held"]) == (245, 0)  # 200: the first site order
    yana.say("/promo 5000")
    stack.wait_idle()
    assert texts(yana)[-1] == "Для промокода на 5000 баллов не хватает баллов: доступно 245 баллов."


def test_the_api_wants_its_key(stack: LocalStack) -> None:
    assert api(stack, "/quote", {"member_id": "1", "lines": [{"price_kopecks": 1}]}, api_key="")[0] == 403
    assert api(stack, "/quote", {"member_id": "1", "lines": [{"price_kopecks": 1}]}, api_key="wrong")[0] == 403


def test_history_tells_the_last_entries_in_plain_russian(stack: LocalStack) -> None:
    kira = join(stack)
    buy(stack, kira)
    kira.say("/history")
    stack.wait_idle()
    lines = texts(kira)[-1].splitlines()
    today = datetime.now(MOSCOW).strftime("%d.%m")
    assert lines[0] == "Последние операции:"
    assert lines[1].startswith(f"{today}  +45  покупка на Wildberries, доступны с ")
    assert lines[2] == f"{today}  +100  приветственный бонус"


def test_a_contact_redelivered_after_a_failure_past_saving_the_phone_still_pays_the_welcome_bonus_once(
        stack: LocalStack, monkeypatch: MonkeyPatch) -> None:
    """Found by `make chaos`: the phone was saved, then queueing the bonus failed (500); Telegram's redelivery saw
    the phone already there and took the shopper for a returning member, so the bonus was lost."""
    original = BaseClient._make_api_call
    failed: list[str] = []

    def accrual_queue_down_once(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendMessage" and params["QueueUrl"].endswith("/AccrualQueue") and not failed:
            failed.append(operation)
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, operation)
        return original(client, operation, params)

    shopper = Shopper(stack.telegram.url, user_id=7_500_001)
    shopper.say("/start")
    monkeypatch.setattr(BaseClient, "_make_api_call", accrual_queue_down_once)
    sent = shopper.share_phone("+79165000001")
    assert sent["status"] == 500  # the phone saved, the bonus not queued: Telegram keeps the update
    assert shopper.redeliver(sent["update"]["update_id"])["status"] == 200
    assert shopper.share_phone("+79165000001")["status"] == 200  # and the contact shared again pays nothing more
    monkeypatch.undo()
    stack.wait_idle()
    assert [e["entry_id"] for e in entries(stack, shopper).values()] == ["bonus#welcome"]
    assert member(stack, shopper)["available"] == PROGRAM.bonuses.welcome
