"""The Mini App's API on the local stack, over real HTTP: the member's own figures, and 401 for any request Telegram
did not sign for them lately."""

import gzip
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from loyalty.domain.init_data import sign
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, SERUM, buy, join, loyalty, member, schedule, seed_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def call(stack: LocalStack, path: str, init_data: str | None = None, body: dict[str, Any] | None = None,
         header: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if header is not None or init_data is not None:
        headers["Authorization"] = header if header is not None else f"tma {init_data}"
    request = urllib.request.Request(f"{stack.api.url}/miniapp/{path}", headers=headers,
                                     method="POST" if body else "GET", data=json.dumps(body).encode() if body else None)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            payload = response.read().decode()
            return response.status, json.loads(payload) if "json" in response.headers["Content-Type"] else payload
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location") or error.read().decode()


def signed(stack: LocalStack, shopper: Shopper, at: datetime | None = None, token: str | None = None) -> str:
    user = {"id": shopper.chat_id, "first_name": "Анна", "language_code": "ru"}
    return sign(user, token or stack.bot_token, at or stack.now())


def test_the_members_own_figures_match_the_bot(stack: LocalStack) -> None:
    anna = join(stack)
    buy(stack, anna, CREAM)  # Wildberries: 45 pending for the return window
    buy(stack, anna, SERUM, SERUM, d2c=True)
    status, me = call(stack, "api/me", signed(stack, anna))
    assert status == 200
    stored = member(stack, anna)
    assert (me["available"], me["pending"], me["held"]) == (stored["available"], stored["pending"], stored["held"])
    assert me["pending_lots"][0]["points"] == 45 and me["pending_lots"][0]["available_on"]
    assert me["level"]["title"] == "Подруга" and me["level"]["next"]["missing"] == "3 чека и 1 отзыв"
    assert 0 < me["level"]["next"]["done"] < 1 and me["level"]["perks"][0] == "подарок ко дню рождения"
    # the purchase on the site also completed «Первый заказ на сайте» (+200): the tote's 800 are within reach
    assert me["available"] >= 800 and [challenge["id"] for challenge in me["challenges"]][2] == "first_site_order"
    assert {reward["id"]: reward["state"] for reward in me["rewards"]} == {
        "samples": "available", "tote": "available", "masterclass": "locked", "novelty": "available",
        "premium_set": "locked", "merch": "locked"}
    assert me["invite_link"].startswith("https://t.me/lepestok_bonus_bot?start=ref_")
    assert any("покупка на Wildberries" in line for line in me["history"])

    status, queued = call(stack, "api/rewards/samples", signed(stack, anna), {"request_key": "tap-1"})
    assert status == 202 and queued["status"] == "queued"
    call(stack, "api/rewards/samples", signed(stack, anna), {"request_key": "tap-1"})  # the same tap again
    stack.wait_idle()
    assert sum(text.startswith("Готово, награда «Набор пробников» ваша!") for text in anna.bot_messages()) == 1
    assert member(stack, anna)["available"] == stored["available"] - 300


def test_only_a_request_telegram_signed_for_the_member_lately_is_answered(stack: LocalStack) -> None:
    boris, vera = join(stack), join(stack)
    assert call(stack, "api/me")[0] == 401  # no initData
    assert call(stack, "api/me", header="Bearer whatever")[0] == 401
    assert call(stack, "api/me", signed(stack, boris, token="123:not-this-bot"))[0] == 401  # forged
    assert call(stack, "api/me", signed(stack, boris, at=stack.now() - timedelta(hours=2)))[0] == 401  # stale
    tampered = signed(stack, boris).replace(str(boris.chat_id), str(vera.chat_id))
    assert call(stack, "api/me", tampered)[0] == 401  # another member's id in a signature made for boris
    assert call(stack, "api/rewards/samples", signed(stack, boris, token="1:x"), {"request_key": "k"})[0] == 401
    status, me = call(stack, f"api/me?member_id={vera.chat_id}", signed(stack, boris))
    assert status == 200 and me["available"] == member(stack, boris)["available"]  # nothing chooses another member
    stranger = type("Stranger", (), {"chat_id": 7_999_999})()
    assert call(stack, "api/me", signed(stack, stranger))[0] == 404  # signed, but not a member yet


def test_a_receipt_earns_a_spin_the_server_decides_it_once_and_the_day_replays_from_its_revealed_seed(
        stack: LocalStack) -> None:
    schedule(stack, stack.now() - timedelta(days=1))  # yesterday's run published today's seed hash
    gleb = join(stack)
    buy(stack, gleb, CREAM)  # Wildberries: a spin, and no challenge completed
    status, board = call(stack, "api/draw", signed(stack, gleb))
    assert status == 200 and (board["title"], board["spins"], board["next_number"]) == ("Колесо призов", 1, 1)
    assert board["prizes"][0]["title"] == "+50 баллов"
    today = stack.now().astimezone(MOSCOW).date()
    assert [seed["seed"] for seed in board["seeds"] if seed["day"] >= today.isoformat()] == [None, None]
    before = member(stack, gleb)["available"]
    status, won = call(stack, "api/draw/spin", signed(stack, gleb), {"number": 1})
    again = call(stack, "api/draw/spin", signed(stack, gleb), {"number": 1})  # the answer was lost: asked again
    assert status == 200 and again == (200, won) and won["spins"] == 0
    prize_points = {"points_50": 50, "points_200": 200}.get(won["prize"] or "", 0)
    assert member(stack, gleb)["available"] == before + prize_points == won["available"]
    assert call(stack, "api/draw/spin", signed(stack, gleb), {"number": 2})[0] == 400  # no spin left
    code, out, _ = loyalty(stack, "draw", "verify", today.isoformat(), "--json")
    report = json.loads(out)
    assert (code, report["problems"]) == (0, []) and report["spins"] >= 1 and report["ledger_checked"]
    stack.travel(stack.now() + timedelta(days=1))
    status, board = call(stack, "api/draw", signed(stack, gleb))
    (yesterday,) = [seed for seed in board["seeds"] if seed["day"] == today.isoformat()]
    assert hashlib.sha256(bytes.fromhex(yesterday["seed"])).hexdigest() == yesterday["hash"]  # revealed, and true


def test_the_page_is_served_from_the_same_api(stack: LocalStack) -> None:
    status, location = call(stack, "")
    # one request, no build step: the whole app (wallet, level, challenges, wheel, rewards, profile) in under 30 KB,
    # 10 KB on the wire compressed
    assert status == 200 and "<title>" in location and len(location.encode()) < 30_000
    assert len(gzip.compress(location.encode())) < 10_000
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(f"{stack.api.url}/miniapp", timeout=10)
    assert (moved.value.code, moved.value.headers["Location"]) == (301, "/miniapp/")  # its paths are relative


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
