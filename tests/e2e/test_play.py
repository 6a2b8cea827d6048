"""The program's games and perks as a person meets them, in headless Chromium on the local stack: a spin of the wheel
won in the Mini App, and the birthday gift arriving in the web chat three days before the day. The wheel here always
lands on a prize (the shipped one gives nothing on most spins), so the win is certain and the test says what it won."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser

from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, buy, entries, join, member, schedule, schedule_until, seed_stack, shoot
from tests.e2e.test_miniapp_page import LIGHT, open_app

pytestmark = pytest.mark.e2e


def always_wins(document: dict[str, Any]) -> None:
    document["draw"]["prizes"] = [{"id": "points_50", "title": {"ru": "+50 баллов", "en": "+50 points"},
                                   "points": 50, "chance_percent": 100}]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(always_wins) as stack:
        yield stack


def test_a_receipt_earns_a_spin_and_the_spin_wins_fifty_points_paid_once(stack: LocalStack, browser: Browser) -> None:
    schedule(stack, stack.now() - timedelta(days=1))  # yesterday's run published today's seed hash
    lena = join(stack)
    buy(stack, lena, CREAM)  # Wildberries: its points wait for the return window; the spin does not
    before = member(stack, lena)["available"]
    page = open_app(stack, browser, lena, LIGHT)
    page.wait_for_selector("#draw:not([hidden])")
    page.locator("#spin").click()
    page.wait_for_function("document.getElementById('won').textContent !== ''", timeout=15_000)
    assert page.inner_text("#won") == "🎉 +50 баллов"
    assert page.inner_text("#available") == str(before + 50) == str(member(stack, lena)["available"])
    assert page.locator("#spin").is_disabled() and page.inner_text("#spins") == "Вращение даёт каждый чек"
    spun = {key: entry for key, entry in entries(stack, lena).items() if key.startswith("draw#")}
    assert list(spun) == ["draw#1"] and spun["draw#1"]["points"] == 50
    shoot(page, "miniapp-spin.png", "#draw")
    page.close()


def test_the_birthday_gift_reaches_the_web_chat_at_noon_three_days_before(stack: LocalStack, browser: Browser) -> None:
    mira = join(stack)
    buy(stack, mira, CREAM)  # a first receipt: «Подруга», whose perk the gift is
    day = (stack.now() + timedelta(days=10)).astimezone(MOSCOW)
    mira.say(f"/birthday {day:%d.%m}")
    stack.wait_idle()
    assert mira.bot_messages()[-1].startswith(f"🎂 Записали: {day.day} ")
    gift_at = day.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    before = member(stack, mira)["available"]
    came = schedule_until(stack, mira, "С наступающим днём рождения", gift_at - timedelta(hours=2), hours=6)
    assert came.astimezone(MOSCOW) >= gift_at  # not before noon, three days before
    assert member(stack, mira)["available"] == before + 300
    page = browser.new_page(viewport={"width": 420, "height": 860})
    page.goto(f"{stack.telegram.url}/chat?user={mira.chat_id}")
    page.wait_for_function("[...document.querySelectorAll('.msg.bot')].some(m => m.textContent.includes("
                           "'С наступающим днём рождения! Дарим 300 баллов'))", timeout=20_000)
    page.close()
