"""Keyboards as the Bot API's JSON, built without python-telegram-bot: the functions that only queue messages (the
accrual, the campaigns run) never import it, and the senders pass the JSON on as it is (adapters/bot_api.py)."""

from __future__ import annotations

from typing import Any


def menu_keyboard(rows: list[list[str]]) -> dict[str, Any]:
    """The bot's menu under the text field: buttons that send their text."""
    return {"keyboard": [[{"text": text} for text in row] for row in rows], "resize_keyboard": True,
            "is_persistent": True}


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    """Buttons under a message: (text, "https://…") opens a link, (text, data) comes back as a callback (its data
    is at most 64 bytes, Telegram's limit)."""
    built = []
    for row in rows:
        buttons = []
        for text, target in row:
            if target.startswith(("https://", "http://")):
                buttons.append({"text": text, "url": target})
            else:
                if len(target.encode()) > 64:
                    raise ValueError(f"callback data over 64 bytes: {target!r}")
                buttons.append({"text": text, "callback_data": target})
        built.append(buttons)
    return {"inline_keyboard": built}


def phone_keyboard(button_text: str) -> dict[str, Any]:
    """One button that shares the shopper's own phone (Telegram asks them to confirm)."""
    return {"keyboard": [[{"text": button_text, "request_contact": True}]], "resize_keyboard": True,
            "one_time_keyboard": True}


def keyboard_removed() -> dict[str, Any]:
    return {"remove_keyboard": True}
