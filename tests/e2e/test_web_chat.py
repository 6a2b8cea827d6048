"""The local web chat (`loyalty local serve` → /chat) in headless Chromium: a person joins with the reply keyboard and
the contact button, sends a receipt photo, taps the menu, and opens the Mini App from the chat's menu button with
initData the Telegram emulator signed — and sees the balance the chat shows."""

import re

import pytest

from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.receipt_photos import receipt_photo
from tests.e2e.journeys import CREAM, SUPPLIER, member, seed_stack
from tests.e2e.test_miniapp_page import browser, shoot  # noqa: F401 - the same headless Chromium

pytestmark = pytest.mark.e2e
USER = 7_300_001


@pytest.fixture(scope="module")
def stack():
    with seed_stack() as stack:
        yield stack


def bot_said(page, starting):
    page.wait_for_function(
        "(start) => [...document.querySelectorAll('.msg.bot')].some(m => m.textContent.startsWith(start))",
        arg=starting, timeout=20_000)
    return [text for text in page.locator(".msg.bot").all_inner_texts() if text.startswith(starting)][-1]


def test_a_person_joins_sends_a_receipt_photo_and_sees_the_points_in_the_mini_app(stack, browser, tmp_path):  # noqa: F811
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
    credited = bot_said(page, "+45 баллов за покупку в Wildberries")
    balance = re.search(r"Сейчас на счёте (\d+)", credited).group(1)

    page.click("#keyboard button:has-text('Мой уровень')")
    assert "Ещё 4 чека и 1 отзыв" in bot_said(page, "Уровень «Подруга»")  # the bot's bold, shown as bold
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
    page.close()
