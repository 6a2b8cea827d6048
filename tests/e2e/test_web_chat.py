"""The local web chat (`loyalty local serve` → /chat) in headless Chromium: a person joins with the reply keyboard and
the contact button, sends a receipt photo, taps the menu, and opens the Mini App from the chat's menu button with
initData the Telegram emulator signed — and sees the balance the chat shows."""

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


def test_the_mini_app_scans_a_receipt_shares_an_invitation_card_and_offers_the_home_screen_through_telegram(
        stack: LocalStack, browser: Browser) -> None:
    """The chat hosts the Mini App with Telegram's WebApp as the emulator gives it: its scanner (the camera is a
    prompt for the code), its share sheet and its home screen, each call told to the emulator."""
    page = joined_in_chat(stack, browser, USER + 1, "+7 916 555-00-12")
    with page.expect_popup() as popup:
        page.click("#menu-button")
    app = popup.value
    app.wait_for_selector("#app:not([hidden])", timeout=10_000)

    app.once("dialog", lambda dialog: dialog.accept("https://example.com/not-a-receipt"))
    app.click("#scan")  # Telegram's scanner reads a code that is not a receipt's: the page says what to do
    app.wait_for_function("document.getElementById('scanned').textContent !== ''")
    assert app.inner_text("#scanned") == "Это не QR-код чека. Наведите камеру на QR-код внизу кассового чека."
    raw = marketplace_receipt(SUPPLIER, [CREAM], fd=77_101, issued_at=stack.now())
    stack.receipts.add(raw)
    app.once("dialog", lambda dialog: dialog.accept(qr_of(raw)))
    app.click("#scan")
    app.wait_for_function("document.getElementById('scanned').textContent.startsWith('Чек отправлен')")
    assert "+45 баллов за покупку на Wildberries" in bot_said(page, "+45 баллов")  # the chat's way, the chat's answer

    app.click("#share")
    shared = wait_for_call(stack, "shareMessage")
    assert shared["answer"]["sent"] and "?start=ref_" in shared["answer"]["message"]["input_message_content"][
        "message_text"]
    assert app.is_visible("#home")  # not on the home screen yet: offered
    app.click("#home")
    wait_for_call(stack, "addToHomeScreen")
    assert app.is_hidden("#home")
    calls = [call["method"] for call in emulator_calls(stack)]
    assert calls.index("showScanQrPopup") < calls.index("shareMessage") < calls.index("addToHomeScreen")
    page.close()


def joined_in_chat(stack: LocalStack, browser: Browser, user: int, phone: str) -> Page:
    """The web chat of a person who has just joined: /start, then the contact button with `phone`."""
    page = browser.new_page(viewport={"width": 420, "height": 860})
    page.goto(f"{stack.telegram.url}/chat?user={user}")
    page.fill("#text", "/start")
    page.press("#text", "Enter")
    bot_said(page, "Здравствуйте!")
    page.once("dialog", lambda dialog: dialog.accept(phone))
    page.click("#keyboard button:has-text('Поделиться номером')")
    bot_said(page, "Спасибо, вы в программе!")
    return page


def emulator(stack: LocalStack, path: str) -> Any:
    """What the Telegram emulator's shopper side answers at /emulator/<path>."""
    with urllib.request.urlopen(f"{stack.telegram.url}/emulator/{path}", timeout=10) as response:
        return json.loads(response.read())


def emulator_calls(stack: LocalStack) -> list[dict[str, Any]]:
    return list(emulator(stack, "webapp"))


def wait_until(condition: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    """`condition`'s first truthy answer, asked every 0.2 s for at most `seconds` (then a failure naming `what`)."""
    deadline = time.monotonic() + seconds
    while not (answer := condition()):
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)
    return answer


def wait_for_call(stack: LocalStack, method: str) -> dict[str, Any]:
    """The page's call of Telegram's `method`, with what the emulator answered it."""
    found = wait_until(lambda: [call for call in emulator_calls(stack) if call["method"] == method],
                       f"the Mini App to call {method}")
    return dict(found[-1])
