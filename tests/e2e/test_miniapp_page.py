"""The Mini App's page in headless Chromium (Debian's, driven by Playwright), served by the local stack's HTTP API
with initData and theme parameters in the launch URL, as Telegram opens it. `make screenshots` (SCREENSHOTS=1)
writes docs/miniapp-light.png and docs/miniapp-dark.png from these runs."""

import json
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page

from loyalty.domain.init_data import sign
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, SERUM, buy, entries, join, member, schedule, seed_stack, shoot

pytestmark = pytest.mark.e2e

DARK = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499", "link_color": "#6ab3f3",
        "button_color": "#5288c1", "button_text_color": "#ffffff", "secondary_bg_color": "#232e3c"}
LIGHT = {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#999999", "link_color": "#2481cc",
         "button_color": "#2481cc", "button_text_color": "#ffffff", "secondary_bg_color": "#efeff3"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def open_app(stack: LocalStack, browser: Browser, shopper: Shopper, theme: dict[str, str]) -> Page:
    init_data = sign({"id": shopper.chat_id, "first_name": "Анна", "language_code": "ru"}, stack.bot_token,
                     stack.now())
    page = browser.new_page(viewport={"width": 360, "height": 800}, device_scale_factor=2)
    page.route("https://telegram.org/**", lambda route: route.abort())  # no internet: the page works without it
    page.goto(f"{stack.api.url}/miniapp/#tgWebAppData={quote(init_data)}"
              f"&tgWebAppThemeParams={quote(json.dumps(theme))}")
    page.wait_for_selector("#app:not([hidden])", timeout=10_000)
    return page


def test_the_app_shows_the_chats_balance_level_and_history_and_exchanges_a_reward(
        stack: LocalStack, browser: Browser) -> None:
    anna = join(stack)
    buy(stack, anna, CREAM)  # Wildberries: pending until the return window ends
    buy(stack, anna, SERUM, SERUM, d2c=True)
    anna.say("/balance")
    stack.wait_idle()
    stored = member(stack, anna)
    page = open_app(stack, browser, anna, LIGHT)
    assert page.inner_text("#available") == str(stored["available"])
    assert f"{stored['available']} баллов" in anna.bot_messages()[-1]  # the same figure the chat shows
    assert "+45 ожидают" in page.inner_text("#pending")
    assert page.inner_text("#level-title") == "Подруга"
    assert page.inner_text("#next-text") == "Ещё 3 чека и 1 отзыв — и уровень «Ценитель»"
    assert page.eval_on_selector("#progress", "bar => bar.getBoundingClientRect().width") > 0
    assert page.locator("#history > div").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    shoot(page, "miniapp-light.png")

    exchange = page.locator("button[data-reward=samples]")
    exchange.click()
    page.wait_for_function("document.querySelector('button[data-reward=samples]').textContent.startsWith('Готово')")
    stack.wait_idle()
    assert member(stack, anna)["available"] == stored["available"] - 300
    assert anna.bot_messages()[-1].startswith("Готово, награда «Набор пробников» ваша!")
    page.close()


def test_the_app_follows_telegrams_dark_theme_at_360_px(stack: LocalStack, browser: Browser) -> None:
    boris = join(stack)
    buy(stack, boris, SERUM, d2c=True)
    page = open_app(stack, browser, boris, DARK)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"  # #17212b
    card = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert card == "rgb(35, 46, 60)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("button[data-reward=tote]").is_disabled()  # 800 points: not enough yet
    shoot(page, "miniapp-dark.png")
    page.close()


def test_the_app_shows_where_the_member_stands_on_each_challenge_their_badges_and_spins_the_wheel_once_a_tap(
        stack: LocalStack, browser: Browser) -> None:
    schedule(stack, stack.now() - timedelta(days=1))  # yesterday's run published today's seed hash
    vera = join(stack)
    buy(stack, vera, SERUM, d2c=True)  # «Первый заказ на сайте»: +200, a badge and a spin; the receipt's own spin
    page = open_app(stack, browser, vera, LIGHT)
    assert page.inner_text("[data-challenge=three_receipts]").startswith("Три чека за месяц\n1 из 3 чеков, осталось")
    assert "выполнено" in page.inner_text("[data-challenge=first_site_order]")
    assert page.inner_text("#challenges .badge") == "🏅 Свой человек"
    page.wait_for_selector("#draw:not([hidden])")
    assert page.inner_text("#spins") == "Вращений: 2"
    assert (page.text_content("#hashes") or "").count("SHA-256") == 2  # today's, tomorrow's: under «Честная игра»
    page.locator("#spin").click()
    page.wait_for_function("document.getElementById('won').textContent !== ''", timeout=15_000)
    won = page.inner_text("#won")
    assert page.inner_text("#spins") == "Вращений: 1" and page.inner_text("#available") == str(
        member(stack, vera)["available"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(page, "miniapp-play.png")
    (spun,) = [entry for key, entry in entries(stack, vera).items() if key.startswith("draw#")]
    assert (spun["details"].get("prize") is not None) == won.startswith("🎉")
    page.close()


def test_the_profile_keeps_the_birthday_interests_and_marketing_switch_and_says_what_it_cannot_keep(
        stack: LocalStack, browser: Browser) -> None:
    zoya = join(stack)
    page = open_app(stack, browser, zoya, LIGHT)
    assert page.inner_text("#birthday-note") == "300 баллов в подарок за 3 дня до дня рождения"
    page.fill("#birthday", "31.02")
    page.click("#save")
    page.wait_for_function("document.getElementById('profile-status').textContent !== ''")
    assert page.inner_text("#profile-status").startswith("Не получилось понять дату.")
    page.fill("#birthday", "14.05")
    page.check("fieldset[data-interest=skin_type] input[value=sensitive]")
    page.check("fieldset[data-interest=care] input[value=spf]")
    page.check("fieldset[data-interest=care] input[value=natural]")
    page.uncheck("#marketing")
    page.click("#save")
    page.wait_for_function("document.getElementById('profile-status').textContent === 'Сохранено.'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(page, "miniapp-profile.png", "#profile")
    stack.wait_idle()
    stored = member(stack, zoya)
    assert stored["interests"] == {"skin_type": ["sensitive"], "care": ["spf", "natural"]}
    assert stored["subscribed"] is False
    assert zoya.bot_messages()[-1].startswith("🎂 Записали: 14 мая.")  # kept as /birthday keeps it, and said so
    page.close()


def test_the_app_opened_without_telegrams_signature_says_where_to_open_it(stack: LocalStack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.route("https://telegram.org/**", lambda route: route.abort())
    page.goto(f"{stack.api.url}/miniapp/")
    page.wait_for_selector("#error", state="visible")
    assert page.inner_text("#error") in ("Откройте это окно из чата с ботом.",
                                         "Open this window from the chat with the bot.")
    page.close()
