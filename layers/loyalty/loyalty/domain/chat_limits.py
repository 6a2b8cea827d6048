"""What one Telegram message may hold (the Bot API's documented limits), and how a text that would not fit is cut.

Real Telegram refuses a message over its limit with 400, so a message built from what a shopper wrote (a complaint,
a review's link, a goods list from a long receipt) would end in a dead-letter queue instead of the staff chat. Every
message is fitted when it is queued (contracts.py), and the local Telegram emulator refuses what real Telegram
refuses, so a test sees the difference.

Telegram counts a text's length in UTF-16 code units (an emoji outside the basic plane is two).
"""

from __future__ import annotations

import html
import re
from typing import Any

TEXT = 4096  # sendMessage: text, after entities are parsed
CAPTION = 1024  # sendPhoto: caption
CALLBACK_DATA_BYTES = 64  # an inline button's callback_data, in UTF-8 bytes
BUTTON_URL_SCHEMES = ("https://", "http://", "tg://")  # what a url button may open
_CUT = "…"
_WORD_SEARCH = 40  # a cut looks this far back for the end of a word, so it does not split one
_TAG = re.compile(r"<[^>]*>")


def length(text: str) -> int:
    """A text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int, is_html: bool = False) -> tuple[str, bool]:
    """The text cut to `limit` with "…" at the end, and whether it was HTML still. A cut HTML text could leave a tag
    open, which Telegram refuses: a text too long for its limit is sent as plain text, its markup dropped."""
    if length(text) <= limit:
        return text, is_html
    plain = html.unescape(_TAG.sub("", text)) if is_html else text
    if length(plain) <= limit:
        return plain, False
    budget = limit - length(_CUT)
    cut = plain.encode("utf-16-le")[: budget * 2].decode("utf-16-le", errors="ignore")
    word_end = cut.rfind(" ", len(cut) - _WORD_SEARCH)
    return (cut[:word_end] if word_end > 0 else cut).rstrip() + _CUT, False


def refusal(text: str, caption: bool = False, markup: Any = None) -> str | None:
    """What real Telegram answers (400) to a message over its limits, or None when it takes it: the local emulator
    and the flows' fake refuse the same way."""
    if length(text) > (CAPTION if caption else TEXT):
        return "Bad Request: message caption is too long" if caption else "Bad Request: message is too long"
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for button in (button for row in rows for button in row):
        data, url = button.get("callback_data"), button.get("url")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES:
            return "Bad Request: BUTTON_DATA_INVALID"
        if url is not None and not str(url).startswith(BUTTON_URL_SCHEMES):
            return f"Bad Request: inline keyboard button URL '{url}' is invalid: unsupported URL protocol"
    return None
