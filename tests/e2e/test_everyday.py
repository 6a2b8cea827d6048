"""The everyday changes, made in the console in headless Chromium on the local stack, each seen by a shopper within
a minute with no deploy: a blogger's new deep link (its QR code reads as the link, and a shopper who joins by it is
counted under it on the dashboard), a reward sold out and restocked, and a reworded welcome."""

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from loyalty.adapters.qr_image import decode_qr
from loyalty_tools.local.demo import console_link
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import join, member, seed_stack, shoot
from tests.e2e.test_console_page import new_page

pytestmark = pytest.mark.e2e

OWNER = 6_300_001
WELCOME = "Привет! Это клуб {brand}: чеки из любого магазина превращаются в баллы.{invited_line}\n\n" \
          "Нажмите «Поделиться номером» — так вы принимаете правила{rules_line}."


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(parameter_overrides={"ConsoleOwnerTelegramId": str(OWNER)}) as stack:
        yield stack


def a_minute_later(stack: LocalStack) -> None:
    """The functions read the console's changes once a minute: the stack's clock moves on by one."""
    stack.travel(stack.now() + timedelta(minutes=1, seconds=1))


def reward_buttons(stack: LocalStack, shopper: Shopper) -> list[str]:
    """The reward buttons under the bot's answer to /rewards."""
    shopper.say("/rewards")
    stack.wait_idle()
    answer: dict[str, Any] = [entry for entry in shopper.transcript() if entry["from"] == "bot"][-1]
    return [button["text"] for row in answer.get("reply_markup", {}).get("inline_keyboard", []) for button in row]


def saved(page: Page, note: str) -> None:
    page.wait_for_selector(f"#everyday-note:has-text('{note}')")


def test_a_new_link_a_restock_and_a_reworded_welcome_reach_shoppers_within_a_minute(
        stack: LocalStack, browser: Browser) -> None:
    page = new_page(browser)
    page.goto(console_link(stack, OWNER, "Анна"))
    page.wait_for_selector("#everyday:not([hidden])")

    # A blogger's link, and its QR code to print: it reads as the link.
    page.fill("#source-key", "blog_anna")
    page.select_option("#source-kind", "blogger")
    page.click("#source-form button")
    saved(page, "Ссылка добавлена")
    page.wait_for_selector("#source-rows tr[data-source='blog_anna']")
    png = page.evaluate("""async () => Array.from(new Uint8Array(await (await fetch(
        '/console/api/sources/blog_anna/qr.png')).arrayBuffer()))""")
    assert decode_qr(bytes(png)) == ["https://t.me/lepestok_bonus_bot?start=blog_anna"]
    svg = page.evaluate("async () => (await fetch('/console/api/sources/blog_anna/qr.svg')).text()")
    assert "<svg" in svg

    # The samples sold out, then restocked.
    vera = join(stack, name="Вера")
    page.fill("#reward-rows tr[data-reward='samples'] [data-field='left']", "0")
    page.click("#rewards-save")
    saved(page, "Награды сохранены")
    a_minute_later(stack)
    assert "Набор пробников — закончилось" in reward_buttons(stack, vera)
    page.fill("#reward-rows tr[data-reward='samples'] [data-field='left']", "10")
    page.click("#rewards-save")
    saved(page, "Награды сохранены")
    assert page.input_value("#reward-rows tr[data-reward='samples'] [data-field='left']") == "10"
    a_minute_later(stack)
    assert "Набор пробников — 300 баллов" in reward_buttons(stack, vera)

    # The welcome, reworded.
    page.select_option("#text-key", "welcome")
    page.fill("#text-ru", WELCOME)
    page.click("#text-form button")
    saved(page, "Текст сохранён")
    a_minute_later(stack)

    # A shopper who comes by the blogger's link reads the new welcome and is counted under the link.
    anna = join(stack, start="/start blog_anna", name="Анна")
    welcome = next(entry["text"] for entry in anna.transcript() if entry["from"] == "bot")
    assert welcome.startswith("Привет! Это клуб Лепесток: чеки из любого магазина превращаются в баллы.")
    assert member(stack, anna)["joined_via"] == "blogger:blog_anna"
    page.reload()
    deadline = time.monotonic() + 90
    while "блогер (blog_anna)" not in page.inner_text("#figure-tables"):
        assert time.monotonic() < deadline, "waited 90 s for the dashboard to count the blogger's joins"
        page.click("#period-form button") if page.is_visible("#period-form button") else page.reload()
        time.sleep(0.5)
    page.wait_for_selector("#audit-rows tr:has-text('программа изменена')")
    shoot(page, "console-everyday.png", "#everyday")
