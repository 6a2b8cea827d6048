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
        RU: "Спасибо, вы в программе! Пришлите QR-код чека: текст из него или ссылку.",
        EN: "Thank you, you are in! Send a receipt QR code: its text or link.",
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
        RU: "Не вижу здесь QR-кода чека. Пришлите текст из QR-кода: он начинается с t=… и содержит fn=, i=, fp=.",
        EN: "This does not look like a receipt QR code. Send the QR text: it starts with t=… and holds "
        "fn=, i=, fp=.",
    },
    "unsupported_message": {
        RU: "Пока я понимаю только QR-коды чеков. Пришлите текст из QR-кода чека.",
        EN: "For now I only understand receipt QR codes. Send the text of a receipt QR code.",
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
    return text.format(**params)


def points_word(count: int) -> str:
    """Russian plural of «балл»: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл."""
    last_two = abs(count) % 100
    last = last_two % 10
    if 11 <= last_two <= 14 or last == 0 or last >= 5:
        return "баллов"
    return "балл" if last == 1 else "балла"
