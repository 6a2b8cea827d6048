"""The staff console as a person uses it, in headless Chromium on the local stack: the bot's /console link signs the
owner in (once: the same link again is refused), the owner adds a support member, who signs in and sees neither the
staff form nor the audit log; a form posted from another origin changes nothing (no CSRF token); inside Telegram
the console opens as a Mini App, signed in by initData."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page

from loyalty.domain.init_data import sign
from loyalty_tools.local.demo import console_link
from loyalty_tools.local.shopper import Shopper
from loyalty_tools.local.stack import LocalStack
from tests.e2e.journeys import CREAM, buy, join, letter, member, seed_stack, shoot

pytestmark = pytest.mark.e2e

OWNER, SUPPORT = 6_000_001, 6_000_042


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack(parameter_overrides={"ConsoleOwnerTelegramId": str(OWNER)}) as stack:
        yield stack


def new_page(browser: Browser, width: int = 1280) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="ru-RU").new_page()
    # Each wait names what it waited for; on a machine as busy as CI's, a card's requests queue behind every
    # function the stack runs, so the bound is generous.
    page.set_default_timeout(90_000)
    page.route("https://telegram.org/**", lambda route: route.abort())  # no internet: the page works without it
    return page


def test_the_owner_signs_in_by_link_adds_support_whose_role_limits_what_they_see(
        stack: LocalStack, browser: Browser) -> None:
    link = console_link(stack, OWNER, "Анна")
    owner = new_page(browser)
    owner.goto(link)
    owner.wait_for_url("**/console/")
    owner.wait_for_selector("#app:not([hidden])")
    assert "владелец" in owner.inner_text("#who")
    owner.fill("#staff-id", str(SUPPORT))
    owner.fill("#staff-name", "Олег")
    owner.select_option("#staff-role", "support")
    owner.click("#staff-form button")
    owner.wait_for_selector("#staff-rows tr:has-text('Олег')")
    assert "поддержка" in owner.inner_text("#staff-rows tr:has-text('Олег')")
    owner.wait_for_selector("#audit-rows tr:has-text('добавлен сотрудник')")
    assert "вход" in owner.inner_text("#audit-rows")
    owner.click("#language")  # the page in English, and back
    assert owner.inner_text("#staff h2") == "Staff" and "owner" in owner.inner_text("#who")
    owner.wait_for_selector("#audit-rows tr:has-text('staff added')")
    owner.click("#language")
    assert owner.inner_text("#staff h2") == "Сотрудники"
    owner.fill("#audit-actor", str(OWNER))  # only the owner's own actions
    owner.click("#audit-form button")
    owner.wait_for_selector("#audit-rows tr:has-text('добавлен сотрудник')")
    shoot(owner, "console-audit.png")

    replayed = new_page(browser)
    replayed.goto(link)
    assert "Ссылка для входа не работает" in replayed.inner_text("h1")

    support = new_page(browser, width=360)  # a phone
    support.goto(console_link(stack, SUPPORT, "Олег"))
    support.wait_for_selector("#app:not([hidden])")
    assert "поддержка" in support.inner_text("#who")
    assert support.is_hidden("#staff-form") and support.is_hidden("#audit")
    assert support.is_hidden("#campaigns")  # support neither writes nor launches campaigns


def test_a_form_posted_from_another_origin_changes_nothing(stack: LocalStack, browser: Browser) -> None:
    page = new_page(browser)
    page.goto(console_link(stack, OWNER, "Анна"))
    page.wait_for_selector("#app:not([hidden])")
    page.goto(stack.telegram.url + "/emulator/chats/1")  # another origin, the same browser (and its cookie jar)
    page.set_content(f'<form method="post" action="{stack.api.url}/console/api/signout"></form>')
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    assert "403" in page.content() or "CSRF" in page.content()
    page.goto(f"{stack.api.url}/console/")
    page.wait_for_selector("#app:not([hidden])")  # still signed in: the forged sign-out did nothing


def test_inside_telegram_the_console_opens_as_a_mini_app_signed_in_by_init_data(
        stack: LocalStack, browser: Browser) -> None:
    init_data = sign({"id": OWNER, "first_name": "Анна", "language_code": "ru"}, stack.bot_token, stack.now())
    page = new_page(browser, width=360)
    page.goto(f"{stack.api.url}/console/#tgWebAppData={quote(init_data)}")
    page.wait_for_selector("#app:not([hidden])")
    assert "владелец" in page.inner_text("#who")
    stranger = new_page(browser, width=360)
    forged = sign({"id": OWNER, "first_name": "Анна"}, "not the bot's token", stack.now())
    stranger.goto(f"{stack.api.url}/console/#tgWebAppData={quote(forged)}")
    stranger.wait_for_selector("#signin:not([hidden])")


def test_support_finds_a_member_by_phone_corrects_their_points_and_the_member_is_told_in_the_bot(
        stack: LocalStack, browser: Browser) -> None:
    anna = join(stack)
    before = int(member(stack, anna)["available"])
    page = new_page(browser)
    page.goto(console_link(stack, 5_000_001, "Мария"))  # Мария: support, in the shipped program's staff
    page.wait_for_selector("#app:not([hidden])")
    page.fill("#find", f"8 916 {anna.chat_id:07d}")  # as a shopper dictates it
    page.click("#find-form button")
    page.wait_for_selector("#card:not([hidden])")
    assert f"Доступно {before}" in page.inner_text("#card-balance")
    page.fill("#adjust-points", "50")
    page.fill("#adjust-reason", "чек не распознался, проверили вручную")
    page.click("#adjust-form button")
    page.wait_for_selector("#adjust-result:has-text('Готово')")
    stack.wait_idle()
    assert int(member(stack, anna)["available"]) == before + 50
    shoot(page, "console-member.png")
    page.fill("#adjust-reason", "подозрение на фарм чеков")
    page.click("#block-toggle")  # stop her earning …
    page.wait_for_selector("#card-blocked:not([hidden])")
    assert "staff_blocked" in member(stack, anna)["suspect"]
    page.click("#block-toggle")  # … and resume it
    page.wait_for_selector("#card-blocked", state="hidden")
    assert "staff_blocked" not in member(stack, anna).get("suspect", set())
    told = letter(stack, anna, "Мы поправили ваш счёт")
    assert told.startswith("Мы поправили ваш счёт: +50 баллов. Причина: чек не распознался, проверили вручную.")


def test_a_marketer_reads_the_programs_figures_with_charts_and_downloads_a_table(
        stack: LocalStack, browser: Browser) -> None:
    """Shoppers buy through the bot; the figures function reads the tables' streams; a marketer picks the period
    and sees every figure beside the period before, drawn by the vendored Chart.js, and downloads a table."""
    for name in ("Вера", "Глеб"):
        buy(stack, join(stack, "/start wb", name=name), CREAM)  # 450 ₽ each, on Wildberries
    stack.wait_idle()
    page = new_page(browser)
    page.goto(console_link(stack, 5_000_003, "Ксения"))  # a marketer, in the shipped program's staff
    page.wait_for_selector("#app:not([hidden])")
    page.wait_for_selector(".figures[data-table='purchases']")
    row = page.locator(".figures[data-table='purchases'] tr", has_text="чеков").first
    receipts = int(row.locator("td").nth(1).inner_text().replace("\u00a0", "").replace(" ", ""))
    assert receipts >= 2  # theirs (and whatever else this module's shoppers bought)
    revenue = page.locator(".figures[data-table='purchases'] tr", has_text="выручка — Wildberries").first
    assert "₽" in revenue.inner_text()
    drawn = page.evaluate("""() => [...document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
        const chart = Chart.getChart(canvas);
        return [canvas.dataset.chart, chart ? chart.data.datasets.length : 0, canvas.width > 0]; })""")
    assert {name for name, datasets, sized in drawn if datasets and sized} >= {"receipts", "revenue", "points"}
    assert page.inner_text("#period-words").count("против") == 1
    shoot(page, "console-dashboard.png")
    with page.expect_download() as download:
        page.click(".figures[data-table='purchases'] h3 a")
    csv = download.value.path().read_text(encoding="utf-8-sig")
    assert csv.startswith("Раздел,Показатель,") and "Покупки,чеков," in csv
    page.click("[data-days='7']")  # another period: the figures follow
    page.wait_for_function("document.querySelector('#period-words').textContent.includes('против')")

    phone = new_page(browser, width=360)
    phone.goto(console_link(stack, 5_000_003, "Ксения"))
    phone.wait_for_selector(".figures[data-table='purchases']")
    phone.wait_for_selector("#level-rows tr")  # every section drawn, the read-only program's too
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    assert phone.evaluate("document.querySelector('canvas[data-chart=receipts]').getBoundingClientRect().width") > 250


def test_support_finds_a_member_by_username_reverses_a_receipts_credit_and_resends_the_last_message(
        stack: LocalStack, browser: Browser) -> None:
    """The card shows the receipts with their lines, the campaigns and letters that reached the member and the
    last message; support reverses a credit with a reason (the member is told, the points go) and sends the last
    message again. Each action is in the audit log."""
    dina = join(stack, name="Дина", username="Dina_Buys")
    buy(stack, dina, CREAM)
    credited = int(member(stack, dina)["pending"])
    page = new_page(browser)
    page.goto(console_link(stack, 5_000_001, "Мария"))  # support
    page.wait_for_selector("#app:not([hidden])")
    page.fill("#find", "@dina_buys")  # as the shopper spells it, in any case
    page.click("#find-form button")
    page.wait_for_selector("#card:not([hidden])")
    row = page.locator("#card-receipts tr").first
    assert "Лепесток крем для рук 50 мл × 1 — 450.00 ₽" in row.inner_text() and "Wildberries" in row.inner_text()
    assert dina.bot_messages()[-1][:300] in page.inner_text("#card-last")  # what the bot told her last
    before = len(dina.bot_messages())
    page.fill("#adjust-reason", "покупательница не видит сообщение")
    page.click("#resend")
    page.wait_for_selector("#adjust-result:has-text('ещё раз')")
    stack.wait_idle()
    assert dina.bot_messages()[before:] == [dina.bot_messages()[before - 1]]  # the same text, once more

    page.fill("#adjust-reason", "чек принадлежит другому покупателю")
    row.locator("button.reverse").click()
    page.wait_for_selector("#adjust-result:has-text('отменяется')")
    stack.wait_idle()
    assert int(member(stack, dina)["pending"]) == credited - 45
    told = letter(stack, dina, "Мы отменили начисление")
    assert "Причина: чек принадлежит другому покупателю." in told and "Wildberries" in told
    page.click("#find-form button")  # the card again: the credit is reversed, and cannot be twice
    page.wait_for_selector("#card-receipts tr:has-text('начисление отменено')")
    audit = page.goto(f"{stack.api.url}/console/api/audit")
    assert audit is not None and audit.status == 403  # support does not read the audit log …
    owner = new_page(browser)
    owner.goto(console_link(stack, OWNER, "Анна"))
    owner.wait_for_selector("#audit-rows tr:has-text('отмена начисления')")  # … the owner sees both there
    assert "сообщение отправлено повторно" in owner.inner_text("#audit-rows")


def test_a_held_receipt_is_decided_in_the_console_queue_and_the_staff_chat_sees_it_decided(
        stack: LocalStack, browser: Browser) -> None:
    """Support stops a member's earning; their next receipt is held: a ticket in the staff chat and in the
    console's queue, one state in both. Approved in the console, the points are released, the member told and the
    chat told who decided; the chat's own button then changes nothing."""
    from loyalty.adapters.dynamo import from_item
    from loyalty.adapters.program_file import load_program
    from loyalty_tools.local.shopper import StaffChat
    from tests.conftest import ROOT

    staff_chat = load_program(ROOT / "program" / "program.yaml").bot.staff_chat_id
    assert staff_chat is not None
    chat = StaffChat(stack.telegram.url, staff_chat)
    egor = join(stack, name="Егор")
    page = new_page(browser)
    page.goto(console_link(stack, 5_000_001, "Мария"))  # support
    page.wait_for_selector("#app:not([hidden])")
    page.fill("#find", str(egor.chat_id))
    page.click("#find-form button")
    page.wait_for_selector("#card:not([hidden])")
    page.fill("#adjust-reason", "проверяем его чеки")
    page.click("#block-toggle")
    page.wait_for_selector("#card-blocked:not([hidden])")
    buy(stack, egor, CREAM)
    page.click("#queue-form button")
    row = page.locator("#queue-rows tr", has_text=str(egor.chat_id)).first
    row.wait_for()
    ticket = row.get_attribute("data-ticket")
    assert "задержанный чек" in row.inner_text() and "открыт" in row.inner_text()
    assert any(f"#{ticket}" in text for text in chat.bot_messages())  # the same ticket in the staff chat
    row.locator("button[data-verb='approve']").click()
    page.wait_for_selector(f"#queue-rows tr[data-ticket='{ticket}']", state="detached")  # no longer open
    page.select_option("#queue-status", "approved")
    page.click("#queue-form button")
    page.wait_for_selector(f"#queue-rows tr[data-ticket='{ticket}']:has-text('одобрен')")
    stack.wait_idle()
    assert letter(stack, egor, "проверен").startswith("Чек с Wildberries проверен, спасибо! +45")
    assert f"#{ticket}: засчитан (Мария)." in chat.bot_messages()  # the chat hears who decided, and where
    chat.tap("❌ Отклонить", under=f"#{ticket}")  # the chat's own button, afterwards: decided before
    stack.wait_idle()
    books = [from_item(item) for item in stack.aws("dynamodb").scan(TableName="LedgerTable")["Items"]
             if from_item(item)["member_id"] == str(egor.chat_id)]
    assert [entry["details"].get("approved") for entry in books if entry["kind"] == "held_decision"] == [True]


def test_a_marketer_composes_the_seeds_offer_sees_it_as_the_member_will_launches_stops_and_copies_it(
        stack: LocalStack, browser: Browser) -> None:
    """The seed's example without YAML: more than 5 purchases and an average receipt of 1,000–1,200 ₽ → buy for
    1,500 ₽ within 5 days for double points. The preview reads as the member will; a running campaign cannot be
    edited; every change is in the audit log."""
    page = new_page(browser)
    page.goto(console_link(stack, OWNER, "Анна"))
    page.wait_for_selector("#campaigns:not([hidden])")
    page.fill("#campaign-title", "Двойные баллы постоянным")
    page.fill("#campaign-name", "regulars_double")
    page.fill("#segment-receipts", "0")  # everyone who bought: she bought once
    shopper = join(stack, name="Вера")
    buy(stack, shopper, CREAM)
    page.fill("#segment-from", "0")
    page.wait_for_selector("#campaign-reach:text-matches('в сегменте [1-9]')")  # she is counted, live
    page.select_option("#segment-product", label="Лепесток сыворотка для лица 30 мл")  # she bought the cream
    page.wait_for_selector("#campaign-reach:has-text('в сегменте 0 участн.')")
    page.select_option("#segment-product", label="Лепесток крем для рук 50 мл")
    page.wait_for_selector("#campaign-reach:text-matches('в сегменте [1-9]')")
    page.select_option("#segment-product", "")
    assert "версия" in page.inner_text("#program-version")  # the reviewed file's levels, read-only
    assert "Подруга" in page.inner_text("#level-rows") and page.locator("#level-rows input").count() == 0
    page.fill("#segment-receipts", "5")  # back to the seed's: more than 5, 1,000–1,200 ₽, ×2 from 1,500 ₽
    page.fill("#segment-from", "1000")
    page.wait_for_selector("#campaign-reach:has-text('в сегменте 0 участн.')")
    page.fill("#bonus-days", "5")
    assert page.inner_text("#campaign-preview") == (
        "Вы наш постоянный покупатель! Купите на 1500 ₽ за 5 дней — начислим двойные баллы.")
    page.click("#campaign-test")  # sent to her own chat first
    owner = Shopper(stack.telegram.url, user_id=OWNER)
    deadline = time.monotonic() + 90
    while "Купите на 1500 ₽ за 5 дней" not in " ".join(owner.bot_messages()):
        assert time.monotonic() < deadline, "waited 90 s for the test message in the owner's chat"
        time.sleep(0.2)
    page.click("#campaign-form button:has-text('Сохранить черновик')")
    row = "#campaign-rows tr[data-name='regulars_double']"
    page.wait_for_selector(f"{row}:has-text('черновик')")
    assert "при входе в сегмент" in page.inner_text(row)
    page.click(f"{row} button:has-text('Запустить')")
    page.wait_for_selector(f"{row}:has-text('идёт')")
    page.click("#campaign-form button:has-text('Сохранить черновик')")  # again: it runs, so it cannot be edited
    page.wait_for_selector("#campaign-error:has-text('нельзя изменить')")
    page.click(f"{row} button:has-text('Остановить')")
    page.wait_for_selector(f"{row}:has-text('остановлена')")
    page.once("dialog", lambda dialog: dialog.accept("regulars_double_2"))
    page.click(f"{row} button:has-text('Копия')")
    page.wait_for_selector("#campaign-rows tr[data-name='regulars_double_2']:has-text('черновик')")
    page.wait_for_selector("#audit-rows tr:has-text('кампания скопирована')")
    for action in ("кампания сохранена", "кампания запущена", "кампания остановлена"):
        assert action in page.inner_text("#audit-rows")

    # A broadcast at a moment, with a picture and a button: it waits for its moment once launched.
    page.select_option("#campaign-kind", "broadcast")
    page.fill("#campaign-title", "Весенняя коллекция")
    page.fill("#campaign-name", "spring")
    page.fill("#campaign-at", "2027-03-01T12:00")
    page.fill("#campaign-text", "{first_name:Друг}, весенняя коллекция уже на сайте. На счёте {balance} "
              "{balance_word}.")
    page.fill("#button-text", "На сайт")
    page.fill("#button-url", "https://lepestok.ru/spring")
    page.fill("#bonus-multiplier", "1")  # news, no bonus
    assert page.is_visible("#preview-button") and page.inner_text("#preview-button") == "На сайт"
    assert page.inner_text("#campaign-preview") == (  # the owner has no name on the staff list: the fallback
        "Друг, весенняя коллекция уже на сайте. На счёте 450 баллов.")
    page.click("#campaign-form button:has-text('Сохранить черновик')")
    spring = "#campaign-rows tr[data-name='spring']"
    page.wait_for_selector(f"{spring}:has-text('черновик')")
    page.click(f"{spring} button:has-text('Запустить')")
    page.wait_for_selector(f"{spring}:has-text('запланирована')")
    saved = page.evaluate("async () => (await (await fetch('/console/api/campaigns')).json())"
                          ".find((made) => made.name === 'spring').campaign")
    assert datetime.fromisoformat(saved["at"]) == datetime(2027, 3, 1, 9, tzinfo=UTC)  # noon in Moscow
    assert "bonus" not in saved and saved["holdout_percent"] == 10  # the composer keeps back 10% unless told
    assert saved["messages"]["ru"]["buttons"] == [
        {"text": "На сайт", "url": "https://lepestok.ru/spring"}]
    # A win-back step: 30 days without a purchase; its goal, a purchase on the brand's site within 6 days.
    page.select_option("#campaign-kind", "winback")
    page.fill("#campaign-title", "Скучаем")
    page.fill("#campaign-name", "miss_you")
    page.fill("#campaign-after-days", "30")
    page.fill("#goal-days", "6")
    page.select_option("#goal-channel", label="сайт Лепесток")
    page.fill("#campaign-text", "{first_name:Друг}, мы скучаем!")
    assert page.is_hidden("#campaign-variants") and page.is_visible("#campaign-lapse")
    page.click("#campaign-form button:has-text('Сохранить черновик')")
    page.wait_for_selector("#campaign-rows tr[data-name='miss_you']:has-text('черновик')")
    saved = page.evaluate("async () => (await (await fetch('/console/api/campaigns')).json())"
                          ".find((made) => made.name === 'miss_you').campaign")
    assert (saved["steps"][0]["after_days"], saved["goal"]) == (30, {"within_days": 6, "channel": "d2c"})
    # A gift of points to one of the program's segments, in Russian and in English.
    page.select_option("#campaign-kind", "broadcast")
    page.fill("#campaign-title", "Подарок")
    page.fill("#campaign-name", "gift_all")
    page.select_option("#segment-named", "reachable")
    page.wait_for_selector("#campaign-reach:text-matches('в сегменте [1-9]')")
    page.select_option("#bonus-kind", "points")
    page.fill("#bonus-points", "200")
    page.fill("#bonus-days", "7")
    page.fill("#campaign-text", "Дарим {points} {points_word}!")
    page.fill("#campaign-text-en", "A gift of {points} points!")
    page.click("#campaign-form button:has-text('Сохранить черновик')")
    page.wait_for_selector("#campaign-rows tr[data-name='gift_all']:has-text('черновик')")
    saved = page.evaluate("async () => (await (await fetch('/console/api/campaigns')).json())"
                          ".find((made) => made.name === 'gift_all').campaign")
    assert (saved["segment"], saved["bonus"], saved["messages"]["en"]["text"]) == (
        "reachable", {"points": 200, "expires_in_days": 7}, "A gift of {points} points!")
    page.select_option("#segment-named", "")
    page.select_option("#bonus-kind", "multiplier")
    shoot(page, "console-campaigns.png", "#campaigns")


MARKETER = 6_000_077


def test_a_marketers_launch_over_the_owners_threshold_waits_for_the_owner_who_is_asked_and_launches_it(
        stack: LocalStack, browser: Browser) -> None:
    for name in ("Галя", "Дима"):  # two buyers: over a threshold of one member
        buy(stack, join(stack, name=name), CREAM)
    owner = new_page(browser)
    owner.goto(console_link(stack, OWNER, "Анна"))
    owner.wait_for_selector("#approval-form:not([hidden])")
    owner.fill("#staff-id", str(MARKETER))
    owner.fill("#staff-name", "Ольга")
    owner.select_option("#staff-role", "marketer")
    owner.click("#staff-form button")
    owner.wait_for_selector("#staff-rows tr:has-text('Ольга')")
    owner.fill("#approval-members", "1")
    owner.click("#approval-form button")
    owner.wait_for_selector("#campaign-note:has-text('Порог сохранён')")

    marketer = new_page(browser)
    marketer.goto(console_link(stack, MARKETER, "Ольга"))
    marketer.wait_for_selector("#campaigns:not([hidden])")
    assert marketer.is_hidden("#approval-form")  # the threshold is the owner's
    marketer.select_option("#campaign-kind", "broadcast")
    marketer.fill("#campaign-title", "Новости для всех")
    marketer.fill("#campaign-name", "news_for_all")
    marketer.fill("#segment-receipts", "0")
    marketer.fill("#segment-from", "0")
    marketer.fill("#bonus-multiplier", "1")
    marketer.fill("#campaign-text", "Новости бренда")
    marketer.click("#campaign-form button:has-text('Сохранить черновик')")
    row = "#campaign-rows tr[data-name='news_for_all']"
    marketer.click(f"{row} button:has-text('Запустить')")
    marketer.wait_for_selector(f"{row}:has-text('ждёт одобрения владельца')")
    assert "владельцу отправлен запрос" in marketer.inner_text("#campaign-note")
    deadline = time.monotonic() + 90
    while not any("просит одобрить кампанию «Новости для всех»" in text
                  for text in Shopper(stack.telegram.url, user_id=OWNER).bot_messages()):
        assert time.monotonic() < deadline, "waited 90 s for the request in the owner's chat"
        time.sleep(0.2)

    owner.reload()
    owner.click(f"{row} button:has-text('Одобрить и запустить')")
    owner.wait_for_selector(f"{row}:has-text('идёт')")
    owner.wait_for_selector("#audit-rows tr:has-text('запрошено одобрение')")
