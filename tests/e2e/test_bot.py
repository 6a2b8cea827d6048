"""The bot as a shopper and the brand's staff live it, on the local stack: real python-telegram-bot updates through
the Telegram emulator, every message through the outbox, time moved by the stack's clock. Each dialog's transcript
is kept for docs/bot.md (tests/e2e/dialogs.py)."""

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.adapters.dynamo import from_item, to_item
from loyalty_tools.local.shopper import Shopper, StaffChat
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.e2e.dialogs import record
from tests.e2e.journeys import (
    CREAM,
    PROGRAM,
    SERUM,
    buy,
    entries,
    join,
    letter,
    loyalty,
    member,
    morning,
    schedule,
    seed_stack,
)

pytestmark = pytest.mark.e2e

STAFF = present(PROGRAM.bot.staff_chat_id)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with seed_stack() as stack:
        yield stack


@pytest.fixture(autouse=True)
def fixed_clock(stack: LocalStack) -> None:
    """Each dialog starts at the same moment, so docs/bot.md shows the same dates on every run; and no chat meets
    Telegram's per-chat limit, whose 429 would reorder a dialog's follow-ups by how fast this machine runs (the limit
    has tests of its own: tests/integration/test_telegram_sender.py, tests/e2e/test_campaigns.py)."""
    stack.travel(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    stack.telegram.limit(chat_burst=100)


def shopper(stack: LocalStack, user_id: int, language: str = "ru", name: str = "Анна") -> Shopper:
    return Shopper(stack.telegram.url, user_id=user_id, first_name=name, language_code=language)


def reply(stack: LocalStack, chat: Shopper | StaffChat, starting: str, after: int = 0) -> dict[str, Any]:
    """The bot's newest message in `chat` (of those after the first `after`) that starts with `starting`."""
    stack.wait_idle()
    found = [entry for entry in chat.transcript() if entry["from"] == "bot"][after:]
    matching = [entry for entry in found if entry["text"].startswith(starting)]
    assert matching, f"no message starting {starting!r} in {[entry['text'][:60] for entry in found]}"
    return matching[-1]


def verify(stack: LocalStack) -> tuple[int, str]:
    code, out, err = loyalty(stack, "ledger", "verify")
    return code, out + err


def test_joining_from_a_marketplace_insert_with_an_invitation_refuses_a_foreign_contact(stack: LocalStack) -> None:
    dina = join(stack, name="Дина")
    dina.say("👥 Пригласить друга")  # the menu's button: its text is the command
    link = present(re.search(r"https://t\.me/\S+", reply(stack, dina, "Пригласите друзей")["text"])).group()
    code = link.split("start=ref_")[1]
    assert str(dina.chat_id) not in link and re.fullmatch(r"[A-Z2-9]{8}", code)

    egor = shopper(stack, 7_100_001, name="Егор")
    egor.say(f"/start wb-ref_{code}")  # the Wildberries insert card's QR, with Dina's code
    welcome = reply(stack, egor, "Здравствуйте!")["text"]
    assert "https://lepestok.ru/loyalty/rules" in welcome and "вы получите 200 баллов в подарок" in welcome
    assert egor.transcript()[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    egor.share_phone("+79160000001", owner_id=dina.chat_id)  # a friend's card from the address book
    reply(stack, egor, "Это не ваш номер")
    assert "phone" not in member(stack, egor)
    egor.share_phone("+79161000001")
    keyboard = reply(stack, egor, "Спасибо, вы в программе!")["reply_markup"]["keyboard"]
    assert [button["text"] for button in keyboard[0]] == ["📷 Зарегистрировать чек", "💰 Баланс"]
    joined = member(stack, egor)
    assert (joined["joined_via"], joined["referred_by"]) == ("insert:wb", str(dina.chat_id))
    assert joined["consented_at"] and joined["rules_url"] == "https://lepestok.ru/loyalty/rules"
    egor.block_bot()
    egor.unblock_bot()
    egor.say("/start")
    reply(stack, egor, "С возвращением! На счёте 100 баллов")
    assert member(stack, egor)["referred_by"] == str(dina.chat_id)  # the same member
    record("join", "Joining from a Wildberries insert card with an invitation", egor)


def test_the_menu_guides_a_receipt_and_shows_the_way_to_the_next_level(stack: LocalStack) -> None:
    anna = join(stack, name="Анна")
    anna.say("📷 Зарегистрировать чек")
    reply(stack, anna, "Пришлите фото QR-кода с чека")
    anna.tap("Wildberries")
    assert "Электронные чеки" in reply(stack, anna, "<b>Wildberries</b>")["text"]
    answered = [call for call in stack.bot_api_calls() if call["method"] == "answerCallbackQuery"]
    assert answered, "the tap is acknowledged in the webhook's answer"
    anna.say("🏆 Мой уровень")
    assert "Ещё 1 чек — и уровень «Подруга»" in reply(stack, anna, "<b>Уровень «Знакомство»</b>")["text"]
    buy(stack, anna, CREAM)
    anna.say("/level")
    assert "Ещё 4 чека и 1 отзыв — и уровень «Ценитель»" in reply(stack, anna, "<b>Уровень «Подруга»</b>")["text"]
    anna.say("/rewards")
    catalog = reply(stack, anna, "<b>Награды за баллы</b>")
    buttons = [row[0]["text"] for row in catalog["reply_markup"]["inline_keyboard"]]
    assert buttons == ["Набор пробников — 300 баллов", "Шопер «Лепесток» — 800 баллов",
                       "🔒 Мастер-класс по уходу — с уровня «Ценитель»",
                       "Новинка месяца — раньше всех — 400 баллов",  # «Подруга»'s early access
                       "🔒 Лимитированный набор Premium — с уровня «Инсайдер»",  # the top level's exclusive goods
                       "🔒 Худи «Лепесток» — с уровня «Инсайдер»"]  # … and its merch
    record("menu", "The menu: a store's guide, the level and the rewards", anna)


def test_a_marketplace_receipt_starts_its_branch_and_a_nudge_that_not_interested_silences(stack: LocalStack) -> None:
    start = morning(stack)
    boris = join(stack, name="Борис")
    buy(stack, boris, CREAM)  # Wildberries: the marketplace branch
    before = len(boris.bot_messages())
    schedule(stack, start + timedelta(hours=2))
    assert boris.wait_for_bot_messages(before + 1)[-1].startswith("Первый чек — есть!")
    schedule(stack, start + timedelta(hours=49))
    tip = boris.wait_for_bot_messages(before + 2)[-1]
    assert tip.startswith("Совет: баллы Лепесток")
    schedule(stack, start + timedelta(hours=73))  # the nudge and the survey fall due: the survey goes first …
    assert boris.wait_for_bot_messages(before + 3)[-1].startswith("Как вам")
    schedule(stack, start + timedelta(hours=74))
    assert len(boris.bot_messages()) == before + 3  # … the nudge two hours after it, not at once
    schedule(stack, start + timedelta(hours=75))
    nudge = next(t for t in boris.wait_for_bot_messages(before + 4) if t.startswith("На сайте Лепесток баллами"))
    assert "у вас 100 баллов" in nudge
    nudge_message = next(e for e in boris.transcript() if e.get("text") == nudge)
    link = nudge_message["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link.startswith(stack.api.url + "/go/")
    for _ in range(2):  # one message, one click counted
        request = urllib.request.Request(link, method="GET")
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(request, timeout=10)
        assert redirect.value.code == 302
        assert redirect.value.headers["Location"] == "https://lepestok.ru/?utm_source=bot&utm_campaign=to_site"
    assert campaign_stats(stack, "to_site")["clicks"] == 1
    boris.tap("Не интересно")
    reply(stack, boris, "Поняли, больше не будем об этом писать.")
    later = start + timedelta(days=40)
    stack.travel(later)
    buy(stack, boris, CREAM)
    count = len(boris.bot_messages())
    schedule(stack, later + timedelta(hours=80))
    stack.wait_idle()
    assert not any(t.startswith("На сайте Лепесток") for t in boris.bot_messages()[count:])
    record("nudge", "A marketplace receipt: its onboarding branch, a nudge to the site, «Не интересно»", boris)


def surveyed(stack: LocalStack, name: str, *lines: tuple[str, int, int]) -> tuple[StaffChat, Shopper, dict[str, Any]]:
    """A new member, a Wildberries receipt, and the survey three days later: (the staff chat, the member, the
    question)."""
    staff = StaffChat(stack.telegram.url, STAFF)
    start = morning(stack)
    member_ = join(stack, name=name)
    buy(stack, member_, *lines)
    stack.travel(start + timedelta(hours=73))  # the days pass for everyone: what follows happens then
    schedule(stack, stack.now())
    return staff, member_, reply(stack, member_, "Как вам")["text"]


def test_a_bad_rating_reaches_the_staff_chat_and_the_staff_reply_reaches_the_shopper(stack: LocalStack) -> None:
    staff, vera, question = surveyed(stack, "Вера", SERUM)
    assert "Лепесток сыворотка для лица 30 мл с Wildberries" in question
    vera.tap("2")
    reply(stack, vera, "Нам очень жаль")
    vera.say("Сыворотка пришла с протёкшей крышкой")
    stack.wait_idle()
    assert vera.bot_messages()[-1].startswith("Спасибо, передали команде Лепесток")
    ticket = staff.bot_messages()[-1]
    assert "оценка 2 из 5" in ticket and "уровень «Подруга»" in ticket and "Wildberries" in ticket
    assert "Лепесток сыворотка для лица 30 мл" in ticket and "протёкшей крышкой" in ticket
    number = present(re.search(r"#([A-Z2-9]{10})", ticket)).group(1)
    staff.reply(number, "Вера, простите! Отправим новую сыворотку, напишите адрес.")
    stack.wait_idle()
    assert vera.bot_messages()[-1].startswith("💬 Ответ команды Лепесток:\nВера, простите! Отправим новую "
                                             "сыворотку, напишите адрес.\n\nЕсли нужно, напишите ответ здесь же")
    assert staff.bot_messages()[-1] == f"Ответ на #{number} отправлен покупателю."
    staff.say("коллеги, кто сегодня дежурит?")  # the staff's own talk: the bot keeps quiet
    stack.wait_idle()
    assert staff.bot_messages()[-1] == f"Ответ на #{number} отправлен покупателю."
    vera.say("Москва, ул. Цветочная, 5, кв. 12")  # the thread goes on: her answer reaches the staff, same ticket
    stack.wait_idle()
    assert vera.bot_messages()[-1].startswith("Спасибо, передали команде Лепесток")
    back = staff.bot_messages()[-1]
    assert back.startswith(f"💬 #{number}: покупатель пишет.") and "ул. Цветочная" in back
    staff.reply(f"#{number}: покупатель пишет", "Отправили, трек придёт завтра.")
    stack.wait_idle()
    assert vera.bot_messages()[-1].startswith("💬 Ответ команды Лепесток:\nОтправили, трек придёт завтра.")
    told = len(vera.bot_messages())
    buy(stack, vera, CREAM)  # a receipt's QR is still a receipt while the thread is open
    assert any(t.startswith("Чек принят, проверяю") for t in vera.bot_messages()[told:])
    assert staff.bot_messages()[-1] == f"Ответ на #{number} отправлен покупателю."
    stack.travel(stack.now() + timedelta(hours=73))  # the thread has closed: text is read as the bot reads text
    vera.say("а ещё вопрос")
    reply(stack, vera, "Не вижу здесь QR-кода чека")
    assert staff.bot_messages()[-1] == f"Ответ на #{number} отправлен покупателю."
    record("complaint", "A bad rating: the staff chat, and the staff's reply", vera, staff)


def test_a_good_rating_leads_to_an_approved_review_and_its_bonus_once(stack: LocalStack) -> None:
    staff, gala, _ = surveyed(stack, "Гала", CREAM)
    gala.tap("5")
    ask = reply(stack, gala, "Спасибо, мы рады!")
    assert "начислим 100 баллов" in ask["text"]
    assert ask["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://www.wildberries.ru/brands/lepestok"
    gala.send_photo(b"\x89PNG screenshot of the review")
    stack.wait_idle()
    assert gala.bot_messages()[-1].startswith("Спасибо! Отзыв на проверке")
    review = staff.transcript()[-1]
    assert review["photo"] and "Отзыв #" in review["text"]
    balance = member(stack, gala)["available"]
    staff.tap("✅ Засчитать")
    reply(stack, staff, "#")  # the staff chat sees the decision …
    staff.tap("✅ Засчитать")  # … and a double tap pays once
    staff.tap("❌ Отклонить")  # and the first decision stands
    stack.wait_idle()
    assert member(stack, gala)["available"] == balance + 100
    bonuses = [key for key in entries(stack, gala) if key.startswith("bonus#review:")]
    assert len(bonuses) == 1
    assert letter(stack, gala, "Спасибо за отзыв! +100 баллов").startswith("Спасибо за отзыв! +100 баллов")
    assert sum("засчитан (Мария)" in t for t in staff.bot_messages()) == 1
    assert member(stack, gala)["wallet"] and '"reviews":1' in member(stack, gala)["wallet"].replace(" ", "")
    record("review", "A good rating: a review, approved in the staff chat, its bonus once", gala, staff)


def test_a_review_link_rejected_then_sent_again_and_approved(stack: LocalStack) -> None:
    staff, ira, _ = surveyed(stack, "Ира", CREAM)
    ira.tap("4")
    reply(stack, ira, "Спасибо, мы рады!")
    ira.say("https://www.wildberries.ru/catalog/17/feedbacks")  # not the review itself
    stack.wait_idle()
    first = staff.bot_messages()[-1]
    assert first.startswith("⭐ Отзыв #") and "wildberries.ru/catalog/17/feedbacks" in first
    balance = member(stack, ira)["available"]
    staff.tap("❌ Отклонить")
    reply(stack, ira, "Мы не нашли ваш отзыв")
    ira.say("https://www.wildberries.ru/catalog/17/feedbacks?review=81723")  # the proof again, now right
    stack.wait_idle()
    second = staff.bot_messages()[-1]
    assert "review=81723" in second and second.split("#")[1][:10] != first.split("#")[1][:10]  # a ticket of its own
    staff.tap("✅ Засчитать")
    stack.wait_idle()
    assert member(stack, ira)["available"] == balance + 100
    assert letter(stack, ira, "Спасибо за отзыв! +100 баллов").startswith("Спасибо за отзыв! +100 баллов")
    record("review_link", "A review sent as a link: rejected, sent again, approved", ira, staff)


def test_a_reward_exchange_and_the_last_item_raced_by_two_members(stack: LocalStack) -> None:
    staff = StaffChat(stack.telegram.url, STAFF)
    stack.aws("dynamodb").put_item(TableName="BotTable", Item=to_item(
        {"pk": "reward#samples", "sk": "stock", "taken": 99}))  # one set of samples left of 100
    rich = [join(stack) for _ in range(2)]
    for person in rich:
        buy(stack, person, SERUM, SERUM, d2c=True)  # 100 + 387 available at once on the site, + 200 for the first order
    for person in rich:
        person.say("/rewards")
        stack.wait_idle()
        person.tap("Набор пробников")
        stack.wait_idle()
    racers = [threading.Thread(target=person.tap, args=("✅ Обменять",)) for person in rich]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    stack.wait_idle()
    outcomes = sorted(person.bot_messages()[-1].split(":")[0].split(",")[0] for person in rich)
    assert outcomes == ["Готово", "Увы"], [person.bot_messages()[-1] for person in rich]
    winner = next(person for person in rich if person.bot_messages()[-1].startswith("Готово"))
    loser = next(person for person in rich if person is not winner)
    assert member(stack, winner)["available"] == 687 - 300 and member(stack, winner)["held"] == 0
    assert member(stack, loser)["available"] == 687 and member(stack, loser)["held"] == 0
    stock = from_item(stack.aws("dynamodb").get_item(TableName="BotTable", Key=to_item(
        {"pk": "reward#samples", "sk": "stock"}))["Item"])
    assert stock["taken"] == 100
    assert sum("Заказ награды" in t and "Набор пробников" in t for t in staff.bot_messages()) == 1
    order = present(re.search(r"Заказ награды #([A-Z2-9]{10})", staff.bot_messages()[-1])).group(1)
    staff.reply(f"Заказ награды #{order}", "Куда отправить набор? Напишите адрес.")  # the order is a ticket
    stack.wait_idle()
    assert winner.bot_messages()[-1].startswith("💬 Ответ команды Лепесток:\nКуда отправить набор?")
    winner.tap("✅ Обменять")  # the same confirmation again: nothing more is bought
    stack.wait_idle()
    assert member(stack, winner)["available"] == 687 - 300
    loser.say("/rewards")
    stack.wait_idle()
    assert loser.transcript()[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Набор пробников — закончилось"
    assert verify(stack)[0] == 0
    record("reward", "Exchanging points for a reward; the last one raced", winner)
    winner.say("/delete")
    stack.wait_idle()
    winner.tap("Удалить навсегда")
    stack.wait_idle()
    staff.reply(f"Заказ награды #{order}", "Отправили!")  # too late: the staff are told, nothing is sent
    stack.wait_idle()
    assert staff.bot_messages()[-1] == f"#{order}: покупатель удалил аккаунт, ответ не доставить."


def test_stop_start_and_delete_keep_the_books_right(stack: LocalStack) -> None:
    lena = join(stack, name="Лена")
    start = stack.now()
    raw = buy(stack, lena, CREAM)
    lena.say("/stop")
    reply(stack, lena, "Больше не буду присылать акции")
    assert member(stack, lena)["subscribed"] is False
    told = len(lena.bot_messages())
    schedule(stack, start + timedelta(hours=80))  # onboarding, nudge and survey all due: none is sent
    assert lena.bot_messages()[told:] == []
    lena.say("/start")
    stack.wait_idle()
    assert member(stack, lena)["subscribed"] is True
    lena.say("/delete")
    assert "(145 баллов)" in reply(stack, lena, "Удалить ваш аккаунт?")["text"]
    lena.tap("Отмена")
    reply(stack, lena, "Хорошо, всё остаётся как было.")
    lena.say("/delete")
    stack.wait_idle()
    erased_before = erased_members(stack)  # the module's other dialogs may have deleted accounts too
    lena.tap("Удалить навсегда")
    reply(stack, lena, "Аккаунт удалён")
    stack.wait_idle()
    dynamodb = stack.aws("dynamodb")
    gone = dynamodb.get_item(TableName="MembersTable", Key=to_item({"member_id": str(lena.chat_id)}))
    assert "Item" not in gone and entries(stack, lena) == {}  # nothing is kept under the Telegram account
    (pseudonym,) = [item for key, item in erased_members(stack).items() if key not in erased_before]
    for personal in ("phone", "chat_id", "name", "language", "referred_by", "consented_at", "joined_via"):
        assert personal not in pseudonym
    assert pseudonym["available"] == 0 and pseudonym["pending"] == 0 and pseudonym["erased_at"]
    books = dynamodb.query(TableName="LedgerTable", KeyConditionExpression="member_id = :m",
                           ExpressionAttributeValues=to_item({":m": pseudonym["member_id"]}))["Items"]
    kept = {item["entry_id"]: item for item in map(from_item, books)}
    assert kept["erase#account"]["kind"] == "forfeit" and kept["erase#account"]["points"] == -145
    assert {"bonus#welcome", "erase#account"} < set(kept)  # the anonymised history, whole
    code, report = verify(stack)
    assert code == 0, report
    stack.wait_idle()
    customers = [str(found["ids"].get("tgID")) for found in stack.mindbox.state()["customers"]]
    assert str(lena.chat_id) not in customers  # the CRM erased them too
    other = join(stack)  # the deleted member's receipt stays claimed: nobody can register it again
    from loyalty_tools.local.receipts import qr_of

    other.say(qr_of(raw))
    stack.wait_idle()
    assert other.bot_messages()[-1].startswith("Этот чек уже зарегистрирован")
    claim = from_item(dynamodb.get_item(TableName="ReceiptClaimsTable", Key=to_item(
        {"fiscal_key": next(k for k in kept if k.startswith("receipt#")).split("#", 1)[1]}))["Item"])
    assert claim["member_id"] == pseudonym["member_id"]
    lena.say("/start")  # the same Telegram account again: a new member, from zero …
    reply(stack, lena, "Здравствуйте!")
    lena.share_phone(f"+7916{lena.chat_id:07d}")
    reply(stack, lena, "Спасибо, вы в программе!")
    assert member(stack, lena).get("available", 0) == 0  # … with no second welcome bonus
    record("delete", "/stop, /start and /delete", lena)


def test_the_whole_journey_in_english(stack: LocalStack) -> None:
    john = shopper(stack, 7_100_777, language="en", name="John")
    john.say("/start blog")
    reply(stack, john, "Hello! This is the Лепесток loyalty program")
    john.share_phone("+447700900123")
    menu = reply(stack, john, "Thank you, you are in!")
    assert menu["reply_markup"]["keyboard"][0][0]["text"] == "📷 Register a receipt"
    buy(stack, john, CREAM)
    texts = john.bot_messages()
    assert any(t.startswith("Receipt received, checking it.") for t in texts)
    assert any(t.startswith("+45 points for your purchase at Wildberries") for t in texts)
    john.say("🏆 My level")
    assert "4 receipts and 1 review to go until “Connoisseur”" in reply(stack, john, "<b>Level “Friend”</b>")["text"]
    john.say("/language")
    stack.wait_idle()
    john.tap("Русский")
    reply(stack, john, "Готово, теперь я пишу по-русски.")
    john.say("/balance")
    reply(stack, john, "Уровень «Подруга»")
    assert member(stack, john)["joined_via"] == "blogger:blog"
    record("english", "The whole journey in English (then /language)", john)


def erased_members(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """The pseudonyms deleted accounts' books live under, by id."""
    items = map(from_item, stack.aws("dynamodb").scan(TableName="MembersTable")["Items"])
    return {item["member_id"]: item for item in items if item["member_id"].startswith("erased-")}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def campaign_stats(stack: LocalStack, campaign: str) -> dict[str, Any]:
    item = stack.aws("dynamodb").get_item(TableName="CampaignsTable", Key=to_item({"campaign": campaign,
                                                                                    "key": "stats"}))
    return from_item(item.get("Item", {}))
