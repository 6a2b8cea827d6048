"""Every text a shopper reads, rendered: the catalog's (domain/texts.py) or the brand's wording, its placeholders
filled, each count with its Russian plural."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from loyalty.domain import chat_limits
from loyalty.domain.places import Place
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.texts import RU, wording


def with_commands(key: str, language: str, **params: Any) -> str:
    """A text that ends with the list of the bot's commands."""
    return render(key, language, commands=render("commands", language), **params)


_brand_texts: dict[str, dict[str, str]] = {}  # the program file's `bot.texts`: the brand's wording wins


def use_brand_texts(texts: dict[str, dict[str, str]]) -> None:
    """Make the program's rewordings the texts shoppers read (once, where a function loads its program)."""
    _brand_texts.clear()
    _brand_texts.update(texts)


def render(key: str, language: str, html: bool = False, **params: Any) -> str:
    """The catalog's text `key` in `language` (the brand's wording first), its placeholders filled. `html`: the
    text is Telegram HTML, so every value put into it is escaped."""
    values = with_words(language, **params)
    if html:
        values = {name: escape(value) if isinstance(value, str) else value for name, value in values.items()}
    return wording(key, language, _brand_texts).format(**values)


def render_fitted(key: str, language: str, spill: str, limit: int = chat_limits.TEXT, **params: Any) -> str:
    """`render`, with the free text in `spill` (what a shopper or a staff member wrote) cut so the whole message fits
    Telegram's limit and the template's own words (the ticket's number, how to answer) stay whole."""
    room = limit - chat_limits.length(render(key, language, **{**params, spill: ""}))
    text, _ = chat_limits.fit(str(params[spill]), max(room, 1))
    return render(key, language, **{**params, spill: text})


def with_words(language: str, **params: Any) -> dict[str, Any]:
    """`params`, every count with its Russian plural beside it ({points} {points_word}); in English, "points"."""
    places = {name: value for name, value in params.items() if isinstance(value, Place)}
    for name, place in places.items():  # a store: {store}, {store_at}, {store_from}
        params = {**params, **place.params(name, language)}
    counts = {name: value for name, value in params.items() if isinstance(value, int) and not isinstance(value, bool)}
    if language == RU:
        return {**params, **{f"{name}_word": _WORDS.get(name, points_word)(value) for name, value in counts.items()}}
    return {**params, **{f"{name}_word": _english_word(name, value) for name, value in counts.items()}}


def _english_word(name: str, count: int) -> str:
    if name == "spins":
        return "spin" if count == 1 else "spins"
    return "days" if name == "days" else "points"


def points_word(count: int) -> str:
    """Russian plural of «балл»: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл."""
    return plural(count, "балл", "балла", "баллов")


def receipts_word(count: int) -> str:
    return plural(count, "чек", "чека", "чеков")


def days_word(count: int) -> str:
    return plural(count, "день", "дня", "дней")


def reviews_word(count: int) -> str:
    return plural(count, "отзыв", "отзыва", "отзывов")


def spins_word(count: int) -> str:
    """«1 вращение», «2 вращения», «5 вращений» (of the prize wheel)."""
    return plural(count, "вращение", "вращения", "вращений")


def how_many(count: int, what: str, language: str) -> str:
    """«2 чека», "1 review": a count of receipts, reviews or roubles, in words that agree with it."""
    if what == "roubles":
        return f"{count} ₽"
    if language == RU:
        return f"{count} {_WORDS[what](count)}"
    singular = {"receipts": "receipt", "reviews": "review"}[what]
    return f"{count} {singular if count == 1 else singular + 's'}"


def joined(parts: list[str], language: str) -> str:
    """«2 чека, 1 отзыв и 3000 ₽» / "2 receipts, 1 review and 3000 ₽"."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + (" и " if language == RU else " and ") + parts[-1]


_WORDS = {"limit": receipts_word, "days": days_word, "receipts": receipts_word, "reviews": reviews_word,
          "spins": spins_word, "valid_days": days_word}
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")


def day_month(moment: datetime, language: str) -> str:
    """«7 декабря» / "7 December", Moscow time."""
    local = moment.astimezone(MOSCOW)
    return f"{local.day} {_MONTHS[local.month - 1]}" if language == RU else local.strftime("%-d %B")


def plural(count: int, one: str, few: str, many: str) -> str:
    last_two = abs(count) % 100
    last = last_two % 10
    if 11 <= last_two <= 14 or last == 0 or last >= 5:
        return many
    return one if last == 1 else few
