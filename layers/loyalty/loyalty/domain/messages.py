"""Every text a shopper reads, in Russian and English, chosen by the Telegram language code.

Short and polite, and each one that reports a problem says what to do next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.domain.receipt import MOSCOW

RU = "ru"
EN = "en"
# Shoppers in these languages read Russian more easily than English.
_RUSSIAN_READERS = {"ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az"}

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        RU: "Здравствуйте! Это программа лояльности {brand}: присылайте QR-коды чеков с нашими товарами "
        "из любого магазина и копите баллы.\n\nЧтобы начать, поделитесь номером телефона кнопкой ниже.",
        EN: "Hello! This is the {brand} loyalty program: send the QR codes of receipts with our goods "
        "from any store and collect points.\n\nTo begin, share your phone number with the button below.",
    },
    "share_phone_button": {RU: "📱 Поделиться номером", EN: "📱 Share phone number"},
    "phone_saved": {
        RU: "Спасибо, вы в программе! Пришлите фото QR-кода с чека, текст из него или файл чека из приложения "
        "«Проверка чеков».\n\n{commands}",
        EN: "Thank you, you are in! Send a photo of the receipt's QR code, its text, or the receipt file from "
        "the «Проверка чеков» app.\n\n{commands}",
    },
    "commands": {
        RU: "/balance — баллы и уровень\n/history — последние операции\n/promo — промокод для сайта\n"
        "/invite — пригласить друга\n/stop — не присылать акции",
        EN: "/balance — points and level\n/history — recent activity\n/promo — a promo code for the website\n"
        "/invite — invite a friend\n/stop — no more offers",
    },
    "marketing_stopped": {
        RU: "Больше не буду присылать акции и напоминания. Баллы и уровень остаются с вами, чеки принимаю как "
        "раньше. Вернуть рассылки — /start.",
        EN: "No more offers or reminders from me. Your points and level stay with you, and I take receipts as "
        "before. To get them back, send /start.",
    },
    "phone_not_yours": {
        RU: "Это не ваш номер. Нажмите кнопку «Поделиться номером», чтобы отправить свой.",
        EN: "That is not your number. Tap “Share phone number” to send your own.",
    },
    "phone_needed": {
        RU: "Сначала поделитесь номером телефона кнопкой ниже: чек я запомнил и проверю сразу после этого.",
        EN: "Please share your phone number with the button below first: I kept the receipt and will "
        "check it right after.",
    },
    "phone_needed_first": {
        RU: "Сначала поделитесь номером телефона кнопкой ниже, чтобы стать участником программы.",
        EN: "Please share your phone number with the button below first to join the program.",
    },
    "receipt_accepted": {
        RU: "Чек принят, проверяю. Это займёт до минуты.",
        EN: "Receipt received, checking it. This takes up to a minute.",
    },
    "not_a_receipt": {
        RU: "Не вижу здесь QR-кода чека. Пришлите фото QR-кода или текст из него: он начинается с t=… "
        "и содержит fn=, i=, fp=.",
        EN: "This does not look like a receipt QR code. Send a photo of the QR code or its text: it starts "
        "with t=… and holds fn=, i=, fp=.",
    },
    "unsupported_message": {
        RU: "Пока я понимаю только чеки и команды: пришлите фото QR-кода, текст из него или JSON-файл из "
        "приложения «Проверка чеков».\n\n{commands}",
        EN: "I only understand receipts and commands: send a photo of the QR code, its text, or the JSON file "
        "from the «Проверка чеков» app.\n\n{commands}",
    },
    "points_credited": {
        RU: "+{points} {points_word} за покупку в {store}. На счёте {balance} {balance_word}.",
        EN: "+{points} points for your purchase at {store}. Balance: {balance} points.",
    },
    "receipt_duplicate": {
        RU: "Этот чек уже зарегистрирован, повторно баллы не начисляются.",
        EN: "This receipt is already registered; points are not credited twice.",
    },
    "receipt_not_found": {
        RU: "Налоговая не нашла такой чек. Проверьте, что QR-код отсканирован целиком, и пришлите его снова.",
        EN: "The tax service did not find this receipt. Check the QR code was scanned whole and send it again.",
    },
    "receipt_unavailable": {
        RU: "Не удалось получить чек от налоговой. Пришлите его ещё раз через пару часов.",
        EN: "Could not get the receipt from the tax service. Please send it again in a couple of hours.",
    },
    "receipt_not_a_sale": {
        RU: "Это чек возврата или расхода, за него баллы не начисляются.",
        EN: "This is a refund or expense receipt; it does not earn points.",
    },
    "receipt_no_brand_goods": {
        RU: "В чеке из «{store}» нет товаров {brand}, поэтому баллов за него нет.",
        EN: "The receipt from “{store}” has no {brand} goods, so it earns no points.",
    },
    "receipt_too_old": {
        RU: "Этот чек старше {days} дней, за такие чеки баллы не начисляются.",
        EN: "This receipt is older than {days} days; such receipts do not earn points.",
    },
    "receipt_in_future": {
        RU: "Дата в чеке ещё не наступила. Проверьте QR-код и пришлите его снова.",
        EN: "The receipt's date is in the future. Check the QR code and send it again.",
    },
    "receipt_daily_limit": {
        RU: "Сегодня вы уже зарегистрировали {limit} {limit_word}, это максимум на день. Пришлите этот чек завтра.",
        EN: "You have registered {limit} receipts today, the daily maximum. Please send this one tomorrow.",
    },
    "receipt_same_order": {
        RU: "Этот чек относится к заказу, за который баллы уже начислены: предоплата и получение одного "
        "заказа считаются один раз.",
        EN: "This receipt belongs to an order that has already earned points: an order's prepayment and "
        "delivery receipts count once.",
    },
    "refund_unmatched": {
        RU: "Это чек возврата, но покупки, к которой он относится, нет среди ваших чеков. Баллы не изменились.",
        EN: "This is a refund receipt, but the purchase it refunds is not among your receipts. Points unchanged.",
    },
    "points_reversed": {
        RU: "Возврат в {store}: списано {points} {points_word}. На счёте {balance} {balance_word}.",
        EN: "Refund at {store}: {points} points taken back. Balance: {balance} points.",
    },
    "points_reversed_debt": {
        RU: "Возврат в {store}: за него нужно списать {points} {points_word}, но часть уже потрачена. "
        "Списано {taken} {taken_word}, а оставшиеся {debt} {debt_word} спишутся с будущих начислений.",
        EN: "Refund at {store}: it takes back {points} points, but some are already spent. {taken} were taken "
        "back; the other {debt} will come off your next points.",
    },
    "points_pending": {
        RU: "+{points} {points_word} за покупку в {store}. Они станут доступны {date}, когда закончится срок "
        "возврата. Сейчас на счёте {balance} {balance_word}.",
        EN: "+{points} points for your purchase at {store}. They become available on {date}, when the return "
        "period ends. Balance now: {balance} points.",
    },
    "points_capped": {
        RU: "По правилам программы за день и месяц можно получить не больше баллов, чем установлено, поэтому "
        "за этот чек начислено {points} из {earned}.",
        EN: "The program caps the points earned per day and month, so this receipt earned {points} of {earned}.",
    },
    "debt_paid": {
        RU: "{paid} {paid_word} из них ушли в счёт прошлого возврата.",
        EN: "{paid} of them went to cover an earlier refund.",
    },
    "points_available": {
        RU: "{points} {points_word} за покупку в {store} стали доступны. На счёте {balance} {balance_word}.",
        EN: "{points} points for your purchase at {store} are now available. Balance: {balance} points.",
    },
    "expiry_reminder": {
        RU: "У вас сгорит {points} {points_word} через {days} {days_word} — {date}. Успейте потратить их: на "
        "сайте {brand} баллами можно оплатить до {share}% заказа.",
        EN: "{points} of your points expire in {days} days, on {date}. Spend them in time: on the {brand} "
        "website points pay up to {share}% of an order.",
    },
    "points_expired": {
        RU: "Срок действия {points} {points_word} закончился, они сгорели. На счёте {balance} {balance_word}.",
        EN: "{points} points have expired. Balance: {balance} points.",
    },
    "level_up": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Теперь баллами возвращается {percent}% от покупок. "
        "Что вам доступно: {perks}.",
        EN: "Congratulations, your new level is “{title}”! You now get {percent}% back in points. "
        "Your perks: {perks}.",
    },
    "level_up_perks": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Теперь вам доступно: {perks}.",
        EN: "Congratulations, your new level is “{title}”! You now have: {perks}.",
    },
    "level_up_same_rate": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Баллами по-прежнему возвращается {percent}% от покупок.",
        EN: "Congratulations, your new level is “{title}”! You still get {percent}% back in points.",
    },
    "level_down": {
        RU: "Ваш уровень теперь «{title}»: за последние {days} {days_word} покупок было меньше, чем нужно для "
        "прежнего. Все баллы на месте, а вернуть уровень можно новыми покупками. Сейчас начисляем {percent}%.",
        EN: "Your level is now “{title}”: there were fewer purchases in the last {days} days than the previous "
        "level needs. All your points are kept, and new purchases bring the level back. You now get {percent}%.",
    },
    "points_transferred": {
        RU: "Перенесли {points} {points_word} из прежней программы лояльности. На счёте {balance} {balance_word}.",
        EN: "{points} points moved over from your previous loyalty programme. Balance: {balance} points.",
    },
    "bonus_welcome": {
        RU: "Приветственный бонус: +{points} {points_word}. На счёте {balance} {balance_word}.",
        EN: "Welcome bonus: +{points} points. Balance: {balance} points.",
    },
    "bonus_review": {
        RU: "Спасибо за отзыв! +{points} {points_word}. На счёте {balance} {balance_word}.",
        EN: "Thank you for your review! +{points} points. Balance: {balance} points.",
    },
    "bonus_referred": {
        RU: "Вы пришли по приглашению, и это ваш первый чек: +{points} {points_word} в подарок. "
        "На счёте {balance} {balance_word}.",
        EN: "You joined by invitation and this is your first receipt: +{points} bonus points. "
        "Balance: {balance} points.",
    },
    "bonus_referrer": {
        RU: "Ваш друг зарегистрировал первый чек — вам +{points} {points_word}. На счёте {balance} {balance_word}.",
        EN: "Your friend registered their first receipt: +{points} points for you. Balance: {balance} points.",
    },
    "invite": {
        RU: "Пригласите друзей по этой ссылке: {link}\n\nКогда друг зарегистрирует первый чек, вы получите "
        "{referrer} {referrer_word}, а он — {referred} {referred_word}.",
        EN: "Invite friends with this link: {link}\n\nWhen a friend registers their first receipt, you get "
        "{referrer} points and they get {referred}.",
    },
    "promo_issued": {
        RU: "Ваш промокод: {code}\nОн на {points} {points_word} ({points} ₽) и действует до {date}. Введите его "
        "при оформлении заказа на сайте {brand}. Пока код не использован, эти баллы зарезервированы.",
        EN: "Your promo code: {code}\nIt is worth {points} points ({points} ₽) and valid until {date}. Enter it "
        "at checkout on the {brand} website. The points are reserved until the code is used.",
    },
    "promo_too_few": {
        RU: "Для промокода на {points} {points_word} не хватает баллов: доступно {balance} {balance_word}.",
        EN: "Not enough points for a {points}-point promo code: {balance} available.",
    },
    "promo_too_small": {
        RU: "Промокод выпускается от {minimum} {minimum_word}, а доступно {balance} {balance_word}.",
        EN: "A promo code is at least {minimum} points; you have {balance} available.",
    },
    "promo_usage": {
        RU: "Напишите /promo и число баллов, например: /promo 300. Просто /promo — на все доступные баллы.",
        EN: "Send /promo and the number of points, e.g. /promo 300. Just /promo uses all available points.",
    },
    "promo_returned": {
        RU: "Промокод {code} не был использован, {points} {points_word} вернулись на счёт. "
        "На счёте {balance} {balance_word}.",
        EN: "Promo code {code} was not used; {points} points are back. Balance: {balance} points.",
    },
    "balance": {
        RU: "Уровень «{title}»: баллами возвращается {percent}%.\nДоступно: {balance} {balance_word}.{pending_line}"
        "{held_line}",
        EN: "Level “{title}”: {percent}% back in points.\nAvailable: {balance} points.{pending_line}{held_line}",
    },
    "balance_pending": {
        RU: "\nОжидают окончания срока возврата: {pending} {pending_word}.",
        EN: "\nWaiting for the return period to end: {pending} points.",
    },
    "balance_held": {
        RU: "\nЗарезервировано под заказы и промокоды: {held} {held_word}.",
        EN: "\nReserved for orders and promo codes: {held} points.",
    },
    "history_empty": {
        RU: "Операций по баллам пока нет. Пришлите чек с товарами бренда — и здесь появятся начисления.",
        EN: "No points activity yet. Send a receipt with the brand's goods and it will show here.",
    },
    "history_title": {RU: "Последние операции:", EN: "Recent activity:"},
    "photo_no_qr": {
        RU: "Не нашёл QR-код на фото. Сфотографируйте чек ближе, чтобы код был целиком в кадре и резким, "
        "и пришлите снова.",
        EN: "I could not find a QR code in the photo. Take it closer, with the whole code in frame and sharp, "
        "and send it again.",
    },
    "file_unreadable": {
        RU: "Не получилось прочитать файл. Пришлите JSON-файл чека из приложения «Проверка чеков», "
        "фото QR-кода или текст из него.",
        EN: "I could not read the file. Send the receipt's JSON file from the «Проверка чеков» app, a photo "
        "of the QR code or its text.",
    },
    "file_received": {
        RU: "Файл принят, чеков в нём: {count}. Проверяю каждый.",
        EN: "File received, receipts in it: {count}. Checking each one.",
    },
    "receipt_zero_points": {
        RU: "Чек зарегистрирован, но сумма товаров {brand} слишком мала для баллов.",
        EN: "Receipt registered, but the {brand} goods total is too small to earn points.",
    },
}


def with_commands(key: str, language: str, **params: Any) -> str:
    """A text that ends with the list of the bot's commands."""
    return render(key, language, commands=render("commands", language), **params)


def language_of(language_code: str | None) -> str:
    code = (language_code or RU).split("-")[0].lower()
    return RU if code in _RUSSIAN_READERS else EN


def render(key: str, language: str, **params: Any) -> str:
    texts = TEXTS[key]
    return (texts.get(language) or texts[RU]).format(**with_words(language, **params))


def with_words(language: str, **params: Any) -> dict[str, Any]:
    """`params`, every count with its Russian plural beside it ({points} {points_word}); in English, "points"."""
    counts = {name: value for name, value in params.items() if isinstance(value, int) and not isinstance(value, bool)}
    if language == RU:
        return {**params, **{f"{name}_word": _WORDS.get(name, points_word)(value) for name, value in counts.items()}}
    return {**params, **{f"{name}_word": "days" if name == "days" else "points" for name in counts}}


def points_word(count: int) -> str:
    """Russian plural of «балл»: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл."""
    return _plural(count, "балл", "балла", "баллов")


def receipts_word(count: int) -> str:
    return _plural(count, "чек", "чека", "чеков")


def days_word(count: int) -> str:
    return _plural(count, "день", "дня", "дней")


_WORDS = {"limit": receipts_word, "days": days_word}
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")


def day_month(moment: datetime, language: str) -> str:
    """«7 декабря» / "7 December", Moscow time."""
    local = moment.astimezone(MOSCOW)
    return f"{local.day} {_MONTHS[local.month - 1]}" if language == RU else local.strftime("%-d %B")


def _plural(count: int, one: str, few: str, many: str) -> str:
    last_two = abs(count) % 100
    last = last_two % 10
    if 11 <= last_two <= 14 or last == 0 or last >= 5:
        return many
    return one if last == 1 else few
