"""Every text a shopper reads, in Russian and English, chosen by the Telegram language code.

Short and polite, and each one that reports a problem says what to do next.
"""

from __future__ import annotations

from typing import Any

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
        "«Проверка чеков».",
        EN: "Thank you, you are in! Send a photo of the receipt's QR code, its text, or the receipt file from "
        "the «Проверка чеков» app.",
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
        RU: "Пока я понимаю только чеки: пришлите фото QR-кода, текст из него или JSON-файл из приложения "
        "«Проверка чеков».",
        EN: "I only understand receipts: send a photo of the QR code, its text, or the JSON file from the "
        "«Проверка чеков» app.",
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


def language_of(language_code: str | None) -> str:
    code = (language_code or RU).split("-")[0].lower()
    return RU if code in _RUSSIAN_READERS else EN


def render(key: str, language: str, **params: Any) -> str:
    texts = TEXTS[key]
    text = texts.get(language) or texts[RU]
    if language == RU:
        params = {**params, **{f"{name}_word": points_word(value) for name, value in params.items()
                               if name in ("points", "balance") and isinstance(value, int)}}
        if isinstance(params.get("limit"), int):
            params["limit_word"] = receipts_word(params["limit"])
    return text.format(**params)


def points_word(count: int) -> str:
    """Russian plural of «балл»: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл."""
    return _plural(count, "балл", "балла", "баллов")


def receipts_word(count: int) -> str:
    return _plural(count, "чек", "чека", "чеков")


def _plural(count: int, one: str, few: str, many: str) -> str:
    last_two = abs(count) % 100
    last = last_two % 10
    if 11 <= last_two <= 14 or last == 0 or last >= 5:
        return many
    return one if last == 1 else few
