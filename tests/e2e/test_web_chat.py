"""The local web chat (`loyalty local serve` → /chat) in headless Chromium: a person joins with the reply keyboard and
the contact button, sends a receipt photo, taps the menu, and opens the Mini App from the chat's menu button with
initData the Telegram emulator signed — and sees the balance the chat shows."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.receipt_photos import receipt_photo
from tests.conftest import present
from tests.e2e.journeys import BRAND_INN, CREAM, SERUM, SUPPLIER, member, seed_stack, shoot

pytestmark = pytest.mark.e2e
USER = 7_300_001


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


def bot_said(page: Page, starting: str) -> str:
    page.wait_for_function(
        "(start) => [...document.querySelectorAll('.msg.bot')].some(m => m.textContent.startsWith(start))",
        arg=starting, timeout=20_000)
    return [text for text in page.locator(".msg.bot").all_inner_texts() if text.startswith(starting)][-1]


def test_a_person_joins_sends_a_receipt_photo_and_sees_the_points_in_the_mini_app(
        stack: LocalStack, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 860})
    page.route("https://telegram.org/**", lambda route: route.abort())
    page.goto(f"{stack.telegram.url}/chat?user={USER}")
    page.fill("#text", "/start")
    page.press("#text", "Enter")
    assert "правила программы" in bot_said(page, "Здравствуйте!")

    page.once("dialog", lambda dialog: dialog.accept("+7 916 555-00-11"))
    page.click("#keyboard button:has-text('Поделиться номером')")
    bot_said(page, "Спасибо, вы в программе!")
    assert member(stack, type("Member", (), {"chat_id": USER})())["phone"] == "+79165550011"

    raw = marketplace_receipt(SUPPLIER, [CREAM], fd=77_001, issued_at=stack.now())
    stack.receipts.add(raw)
    photo = tmp_path / "receipt.png"
    photo.write_bytes(receipt_photo(qr_of(raw)))
    page.set_input_files("#photo", str(photo))
    bot_said(page, "+45 баллов за покупку на Wildberries")

    site = marketplace_receipt(BRAND_INN, [SERUM, SERUM], fd=77_002, issued_at=stack.now(), seller_inn=BRAND_INN,
                               seller="ООО «Лепесток»", retail_place="lepestok.ru")
    stack.receipts.add(site)
    page.fill("#text", qr_of(site))  # the site's e-receipt QR, pasted as text
    page.press("#text", "Enter")
    credited = bot_said(page, "+387 баллов за покупку на сайте Лепесток")
    balance = present(re.search(r"На счёте (\d+)", credited)).group(1)

    page.click("#keyboard button:has-text('Мой уровень')")
    assert "Ещё 3 чека и 1 отзыв" in bot_said(page, "Уровень «Подруга»")  # the bot's bold, shown as bold
    page.click("#keyboard button:has-text('Зарегистрировать чек')")
    bot_said(page, "Пришлите фото QR-кода")
    page.click(".inline button:has-text('Ozon')")  # an inline button: a callback query
    bot_said(page, "Ozon")
    shoot(page, "web-chat.png")

    with page.expect_popup() as popup:
        page.click("#menu-button")
    app = popup.value
    app.route("https://telegram.org/**", lambda route: route.abort())
    app.wait_for_selector("#app:not([hidden])", timeout=10_000)
    assert app.inner_text("#available") == balance
    assert app.inner_text("#level-title") == "Подруга"
    assert app.inner_text("#next-text") == "Ещё 3 чека и 1 отзыв — и уровень «Ценитель»"
    assert "покупка на Wildberries" in app.inner_text("#history")
    app.click("button[data-reward=samples]")
    app.wait_for_function("document.querySelector('button[data-reward=samples]').textContent.startsWith('Готово')")
    stack.wait_idle()
    assert bot_said(page, "Готово, награда «Набор пробников» ваша!")  # the exchange confirmed in the chat
    assert member(stack, type("Member", (), {"chat_id": USER})())["available"] == int(balance) - 300
    page.close()
