"""The seed program's journeys, end to end on the local stack: shoppers talk to the Telegram emulator, the
brand's site calls the redemption API over HTTP with its API key, and the points schedule is run at chosen
moments (schedules never fire by themselves here).

The program is program/program.yaml as shipped, with one change: a shopper may register ten receipts a
day instead of five, so that one test day holds the six purchases level 3 needs.
"""

import itertools
import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.program_file import load_program
from loyalty.domain.messages import day_month
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.wallet import Wallet
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.site import Site
from loyalty_tools.local.stack import ROOT, LocalStack

pytestmark = pytest.mark.e2e
SEED = ROOT / "program" / "program.yaml"
PROGRAM = load_program(SEED)
SUPPLIER = PROGRAM.brand.supplier_inns[0]
BRAND_INN = PROGRAM.brand.inns[0]
CREAM = ("Лепесток крем для рук 50 мл", 45_000, 1)  # 450 ₽: 45 points at 10%, 54 at 12%
SERUM = ("Лепесток сыворотка для лица 30 мл", 129_000, 1)  # face: the seed's 1.5 multiplier
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def stack():
    document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document["receipts"]["max_per_day"] = 10
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program.yaml"
        program.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        with LocalStack(receipts_dir=Path(tmp), program_file=program, retry_base_seconds=0) as stack:
            yield stack


def join(stack, start="/start"):
    shopper = Shopper(stack.telegram.url, user_id=7_000_000 + next(_ids))
    shopper.say(start)
    shopper.wait_for_bot_messages(1)
    shopper.share_phone(f"+7916{shopper.chat_id:07d}")
    stack.wait_idle()
    return shopper


def buy(stack, shopper, *lines, d2c=False, operation=1, fd=None):
    """Send the QR of a fresh receipt (Wildberries, or the brand's own site) and let everything settle."""
    seller = {"seller_inn": BRAND_INN, "seller": "ООО «Лепесток»", "retail_place": "lepestok.ru"} if d2c else {}
    raw = marketplace_receipt(SUPPLIER, list(lines or [CREAM]), fd=fd or 10_000 + next(_ids), operation=operation,
                              **seller)
    stack.receipts.add(raw)
    shopper.say(qr_of(raw))
    stack.wait_idle()
    return raw


def member(stack, shopper):
    item = stack.aws("dynamodb").get_item(TableName="MembersTable", Key=to_item({"member_id": str(shopper.chat_id)}),
                                          ConsistentRead=True)
    return from_item(item["Item"])


def wallet(stack, shopper):
    return Wallet.model_validate_json(member(stack, shopper)["wallet"])


def entries(stack, shopper):
    response = stack.aws("dynamodb").query(TableName="LedgerTable", KeyConditionExpression="member_id = :m",
                                           ExpressionAttributeValues=to_item({":m": str(shopper.chat_id)}))
    return {item["entry_id"]: item for item in map(from_item, response["Items"])}


def schedule(stack, at):
    stack.run_schedules(at=at)
    stack.wait_idle()


def api(stack, path, body=None, key="", api_key=None):
    """The brand's site calling the redemption API (with another key, or none, when `api_key` is given)."""
    return Site(stack.api.url, stack.api_key if api_key is None else api_key).post(path, body, idempotency_key=key)


def texts(shopper):
    return shopper.bot_messages()


def test_a_new_member_reaches_level_2_then_level_3_and_earns_at_the_new_rate(stack):
    anna = join(stack)
    assert member(stack, anna)["available"] == PROGRAM.bonuses.welcome
    assert any("Приветственный бонус: +100 баллов" in text for text in texts(anna))
    buy(stack, anna)
    assert member(stack, anna)["level"] == "friend"
    # the rate stays 10%: the news is the perks, not a "new" rate
    assert texts(anna)[-1] == ("Поздравляем, ваш новый уровень — «Подруга»! Теперь вам доступно: подарок ко дню "
                               "рождения, ранний доступ к новинкам.")
    for _ in range(4):
        buy(stack, anna)
    assert member(stack, anna)["level"] == "friend"  # five receipts, but level 3 also wants a review

    status, body = api(stack, f"/members/{anna.chat_id}/reviews", {"review_id": "wb-review-81723"})
    assert (status, body) == (202, {"status": "accepted"})
    stack.wait_idle()
    assert member(stack, anna)["level"] == "connoisseur"
    assert "Спасибо за отзыв! +100 баллов" in texts(anna)[-2]
    assert texts(anna)[-1] == ("Поздравляем, ваш новый уровень — «Ценитель»! Теперь баллами возвращается 12% от "
                               "покупок. Что вам доступно: 12% баллами, пробники в каждом заказе.")
    api(stack, f"/members/{anna.chat_id}/reviews", {"review_id": "wb-review-81723"})  # the same review again
    stack.wait_idle()

    buy(stack, anna)
    books = entries(stack, anna)
    purchases = sorted((e for e in books.values() if e["kind"] == "accrual"), key=lambda e: e["created_at"])
    assert [e["details"]["credited"] for e in purchases] == [45] * 5 + [54]
    assert purchases[-1]["details"]["percent"] == "12"
    assert [key for key in books if key.startswith("bonus#review")] == ["bonus#review:wb-review-81723"]

    # A year without purchases: the yearly review takes level 3 away, gently, down to level 2 (never lost).
    schedule(stack, datetime.now(UTC) + timedelta(days=366))
    assert member(stack, anna)["level"] == "friend"
    assert ("Ваш уровень теперь «Подруга»: за последние 365 дней покупок было меньше, чем нужно для прежнего. "
            "Все баллы на месте, а вернуть уровень можно новыми покупками. Сейчас начисляем 10%.") in texts(anna)


def test_marketplace_points_wait_out_the_return_window_then_become_available(stack):
    boris = join(stack)
    bought = datetime.now(UTC)
    buy(stack, boris, SERUM)  # 1290 ₽ of face care: 129 × 1.5
    assert (member(stack, boris)["pending"], member(stack, boris)["available"]) == (193, 100)
    assert "+193 балла за покупку в Wildberries. Они станут доступны" in texts(boris)[-2]
    schedule(stack, bought + timedelta(days=13))
    assert member(stack, boris)["pending"] == 193
    schedule(stack, bought + timedelta(days=14, minutes=5))
    assert (member(stack, boris)["pending"], member(stack, boris)["available"]) == (0, 293)
    assert texts(boris)[-1] == "193 балла за покупку в Wildberries стали доступны. На счёте 293 балла."
    schedule(stack, bought + timedelta(days=14, minutes=10))  # a second run finds nothing more to do
    assert texts(boris)[-1].startswith("193 балла") and member(stack, boris)["available"] == 293


def test_points_expire_after_a_reminder_once(stack):
    vera = join(stack)
    buy(stack, vera, d2c=True)  # the brand's own site: available at once
    lots = wallet(stack, vera).lots
    assert {lot.points for lot in lots.values()} == {100, 45} and all(lot.active for lot in lots.values())
    expires = max(lot.expires_at for lot in lots.values())
    assert expires == min(lot.expires_at for lot in lots.values())  # both: the end of the same month next year
    reminder_day = expires - timedelta(days=7)
    schedule(stack, reminder_day - timedelta(days=1))
    assert not any("сгорит" in text for text in texts(vera))
    schedule(stack, reminder_day + timedelta(hours=13))  # noon Moscow, seven days ahead
    schedule(stack, reminder_day + timedelta(hours=14))
    reminders = [text for text in texts(vera) if "сгорит" in text]
    assert reminders == [f"У вас сгорит 145 баллов через 7 дней — {day_month(expires, 'ru')}. Успейте потратить "
                         "их: на сайте Лепесток баллами можно оплатить до 100% заказа."]
    schedule(stack, expires)
    assert member(stack, vera)["available"] == 0
    assert texts(vera)[-2:] == ["Срок действия 100 баллов закончился, они сгорели. На счёте 45 баллов.",
                                "Срок действия 45 баллов закончился, они сгорели. На счёте 0 баллов."]
    assert sorted(e["details"]["expired"] for e in entries(stack, vera).values() if e["kind"] == "expiry") == [45, 100]


def test_a_refund_reverses_the_purchase_points(stack):
    gleb = join(stack)
    raw = buy(stack, gleb, CREAM, SERUM)
    assert member(stack, gleb)["pending"] == 45 + 193
    buy(stack, gleb, SERUM, operation=2, fd=raw["fiscalDocumentNumber"] + 500_000)
    assert member(stack, gleb)["pending"] == 45 + 193 - 193
    assert texts(gleb)[-1] == "Возврат в Wildberries: списано 193 балла. На счёте 100 баллов."
    reversal = next(e for e in entries(stack, gleb).values() if e["kind"] == "refund_reversal")
    assert reversal["change"] == {"available": 0, "pending": -193, "held": 0, "debt": 0}


def test_a_referral_pays_both_sides_exactly_once(stack):
    dina = join(stack)
    dina.say("/invite")
    stack.wait_idle()
    link = re.search(r"https://\S+", texts(dina)[-1]).group()
    assert link == f"https://t.me/lepestok_bonus_bot?start=ref_{dina.chat_id}"
    egor = join(stack, f"/start ref_{dina.chat_id}")
    assert member(stack, egor)["referred_by"] == str(dina.chat_id)
    buy(stack, egor, d2c=True)
    buy(stack, egor, d2c=True)
    # The first purchase's accrual, redelivered: the referral is not paid again.
    first = min((e for e in entries(stack, egor).values() if e["kind"] == "accrual"), key=lambda e: e["created_at"])
    stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("AccrualQueue"), MessageBody=json.dumps({
        "submission_id": first["details"]["submission_id"], "fiscal_key": first["details"]["fiscal_key"],
        "channel": "d2c", "channel_kind": "d2c", "store": "lepestok.ru", "brand_sum_kopecks": 45000,
        "shopper": {"member_id": str(egor.chat_id), "chat_id": egor.chat_id, "language": "ru"}}))
    stack.wait_idle()
    assert [k for k in entries(stack, egor) if k.startswith("bonus#ref")] == ["bonus#referred"]
    assert [k for k in entries(stack, dina) if k.startswith("bonus#ref")] == [f"bonus#referrer:{egor.chat_id}"]
    assert member(stack, egor)["available"] == 100 + 200 + 45 + 45
    assert member(stack, dina)["available"] == 100 + 200
    assert sum("Ваш друг зарегистрировал первый чек — вам +200 баллов" in text for text in texts(dina)) == 1


def test_a_basket_is_quoted_held_committed_and_a_replayed_hold_charges_nothing_more(stack):
    zoya = join(stack)
    buy(stack, zoya, SERUM, d2c=True)  # 100 + 193 available
    basket = [{"name": "Крем для рук", "gtin": "4600000000017", "price_kopecks": 45_000, "quantity": 2},
              {"name": "Сыворотка", "category": "face", "price_kopecks": 129_000}]
    status, quote = api(stack, "/quote", {"phone": f"+7916{zoya.chat_id:07d}", "lines": basket})
    assert status == 200
    # The cream pays at most 50% in points (its GTIN rule), the serum 100%; the member has 293.
    assert quote == {"member_id": str(zoya.chat_id), "available": 293, "max_points": 293,
                     "lines": [{"index": 0, "max_points": 450}, {"index": 1, "max_points": 1290}]}
    order = {"order_id": "site-1001", "points": 250, "lines": basket}
    status, hold = api(stack, f"/members/{zoya.chat_id}/holds", order, key="checkout-1001-a")
    assert status == 201 and (hold["points"], hold["status"]) == (250, "held")
    assert api(stack, f"/members/{zoya.chat_id}/holds", order, key="checkout-1001-a") == (201, hold)  # a retry
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (43, 250)
    assert api(stack, f"/members/{zoya.chat_id}/holds", {**order, "points": 40},
               key="checkout-1001-a")[0] == 409  # the same key for another request
    assert api(stack, f"/members/{zoya.chat_id}/holds", {**order, "points": 300, "lines": basket[:1]},
               key="checkout-1001-b")[0] == 400  # over what this basket may take

    done = api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/commit", {"order_id": "site-1001"})
    assert done == (200, {"hold_id": "checkout-1001-a", "member_id": str(zoya.chat_id), "points": 250,
                          "status": "committed", "expires_at": None, "order_id": "site-1001"})
    assert api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/commit", {"order_id": "site-1001"}) == done
    assert api(stack, f"/members/{zoya.chat_id}/holds/checkout-1001-a/release")[0] == 409
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (43, 0)

    # A checkout abandoned: its hold goes back when the schedule finds it stale.
    status, _ = api(stack, f"/members/{zoya.chat_id}/holds", {"order_id": "site-1002", "points": 40}, key="c-1002")
    assert status == 201 and member(stack, zoya)["available"] == 3
    schedule(stack, datetime.now(UTC) + timedelta(minutes=PROGRAM.redemption.hold_minutes + 1))
    assert (member(stack, zoya)["available"], member(stack, zoya)["held"]) == (43, 0)
    assert api(stack, f"/members/{zoya.chat_id}/holds/c-1002/commit", {"order_id": "site-1002"})[0] == 409


def test_a_promo_code_from_the_bot_pays_one_order_once(stack):
    yana = join(stack)
    yana.say("/promo 50")
    stack.wait_idle()
    assert texts(yana)[-1] == "Промокод выпускается от 100 баллов, а доступно 100 баллов."
    buy(stack, yana, d2c=True)
    yana.say("/promo 100")
    stack.wait_idle()
    code = texts(yana)[-1].splitlines()[0].split(": ")[1]
    assert member(stack, yana)["held"] == 100
    paid = api(stack, f"/promo-codes/{code.lower()}/redeem", {"order_id": "site-77"})
    assert paid[0] == 200 and paid[1]["points"] == 100 and paid[1]["status"] == "committed"
    assert api(stack, f"/promo-codes/{code}/redeem", {"order_id": "site-77"}) == paid  # the site retried
    assert api(stack, f"/promo-codes/{code}/redeem", {"order_id": "site-78"})[0] == 409
    assert api(stack, "/promo-codes/NOSUCH99/redeem", {"order_id": "site-79"})[0] == 404
    assert (member(stack, yana)["available"], member(stack, yana)["held"]) == (45, 0)
    yana.say("/promo 5000")
    stack.wait_idle()
    assert texts(yana)[-1] == "Для промокода на 5000 баллов не хватает баллов: доступно 45 баллов."

    # A code nobody uses goes back when it expires, and the shopper is told.
    buy(stack, yana, SERUM, d2c=True)
    yana.say("/promo")  # all available points
    stack.wait_idle()
    unused = texts(yana)[-1].splitlines()[0].split(": ")[1]
    assert (member(stack, yana)["available"], member(stack, yana)["held"]) == (0, 45 + 193)
    schedule(stack, datetime.now(UTC) + timedelta(days=PROGRAM.redemption.promo_code_days, minutes=1))
    assert texts(yana)[-1] == (f"Промокод {unused} не был использован, 238 баллов вернулись на счёт. "
                               "На счёте 238 баллов.")
    assert api(stack, f"/promo-codes/{unused}/redeem", {"order_id": "site-80"})[0] == 409


def test_the_api_wants_its_key(stack):
    assert api(stack, "/quote", {"member_id": "1", "lines": [{"price_kopecks": 1}]}, api_key="")[0] == 403
    assert api(stack, "/quote", {"member_id": "1", "lines": [{"price_kopecks": 1}]}, api_key="wrong")[0] == 403


def test_history_tells_the_last_entries_in_plain_russian(stack):
    kira = join(stack)
    buy(stack, kira)
    kira.say("/history")
    stack.wait_idle()
    lines = texts(kira)[-1].splitlines()
    today = datetime.now(MOSCOW).strftime("%d.%m")
    assert lines[0] == "Последние операции:"
    assert lines[1].startswith(f"{today}  +45  покупка в Wildberries, доступны с ")
    assert lines[2] == f"{today}  +100  приветственный бонус"
