"""The webhook's edge: a receipt's QR code, what shoppers send most, answered before anything heavy loads.

A cold webhook that loaded python-telegram-bot, pydantic and the program first kept the shopper waiting on four
times `import boto3`. The edge needs the standard library, boto3 and Powertools: it checks the secret, reads
the update strictly, and when it is a QR code's text from a person in a private chat it forwards the message to the
point accrual (contracts.py: QrSent) and answers «Чек принят» in the webhook's own answer. The accrual counts the
receipt in the shopper's limits, reads the member with that same write, then checks and credits it
(flows/submissions.py: SentQr). Any other update, or one the edge cannot read for certain, goes to the full bot
(flows/webhook.py), which loads on the first such update and refuses what is malformed, naming the field.

A shopper over a limit, or without a shared phone, hears «Чек принят» first and then why it waits; the
acknowledgement is in Telegram's language of theirs, the rest in the one they chose in the bot.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any, Protocol

from loyalty.domain.errors import StorageUnavailable
from loyalty.domain.qr_text import is_qr
from loyalty.domain.texts import language_of, wording
from loyalty.observability import logger

MAX_UPDATE_CHARACTERS = 1_000_000  # Telegram's updates are a few KB
_MAX_ID = 2**53  # Telegram's ids have at most 52 significant bits
_MAX_TEXT = 10_000  # Telegram sends at most 4,096 characters of text
# A message with any of these is not a QR code's text alone: the full bot reads it.
_NOT_TEXT_ALONE = ("reply_to_message", "photo", "document", "contact", "caption")


class Bot(Protocol):
    """The full bot (flows/webhook.py: Webhook) as the edge hands an update on to it."""

    def receive(self, secret_token: str | None, body: str | None) -> tuple[int, dict[str, Any]]: ...


class Edge:
    def __init__(self, expected_secret: Callable[[], str], forward: Callable[[dict[str, Any]], None],
                 brand_texts: Callable[[], dict[str, dict[str, str]]], bot: Callable[[], Bot]):
        self.expected_secret = expected_secret  # read per call: a rotated secret is picked up without a deploy
        self.forward = forward  # onto AccrualQueue
        self.brand_texts = brand_texts
        self.bot = bot  # loaded on first need

    def receive(self, secret_token: str | None, body: str | None) -> tuple[int, dict[str, Any]]:
        """Handle one webhook call; returns the HTTP status and the body to answer with."""
        message = qr_message(body)
        if message is None:
            return self.bot().receive(secret_token, body)
        if not secret_matches(secret_token, self.expected_secret()):
            logger.warning("webhook call without the right secret token")
            return 403, {}
        try:
            self.forward({"kind": "qr", "message": message})
        except StorageUnavailable:  # nothing was queued: Telegram redelivers the update
            logger.exception("AWS failed; Telegram will redeliver", extra={"update_id": message["update_id"]})
            return 500, {}
        logger.info("receipt's QR code forwarded", extra={"update_id": message["update_id"],
                                                          "member_id": str(message["user_id"])})
        text = wording("receipt_accepted", language_of(message["language_code"]), self.brand_texts())
        return 200, send_in_answer(message["chat_id"], text)


def qr_message(body: str | None) -> dict[str, Any] | None:
    """The QR code's text in `body`, in the fields of contracts.Incoming, when `body` is for certain an update with a
    message of just that from a person in a private chat; None for anything else. The shopper's @username is left
    out: the bot keeps it only as a keyed marker, which the edge cannot make, and the next other update updates it."""
    if not body or len(body) > MAX_UPDATE_CHARACTERS:
        return None
    try:
        update = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(update, dict) or set(update) != {"update_id", "message"} or not _is_id(update["update_id"]):
        return None
    message, chat, user = _part(update, "message"), _part(update.get("message"), "chat"), \
        _part(update.get("message"), "from")
    if message is None or chat is None or user is None or any(key in message for key in _NOT_TEXT_ALONE):
        return None
    text: Any = message.get("text")
    first_name: Any = user.get("first_name")
    language = user.get("language_code")
    if not (chat.get("type") == "private" and user.get("is_bot") is False
            and all(_is_id(value) for value in (chat.get("id"), user.get("id"), message.get("message_id")))
            and type(message.get("date")) is int and 0 <= message["date"] < 2**32
            and _is_text(first_name) and _is_text(language, optional=True)
            and _is_text(text) and is_qr(text)):
        return None
    return {"update_id": update["update_id"], "user_id": user["id"], "chat_id": chat["id"], "text": text,
            "first_name": first_name[:64], "language_code": language}  # no @username: kept only as a keyed marker


def _part(whole: Any, name: str) -> dict[str, Any] | None:
    part = whole.get(name) if isinstance(whole, dict) else None
    return part if isinstance(part, dict) else None


def _is_id(value: Any) -> bool:
    return type(value) is int and -_MAX_ID <= value <= _MAX_ID


def _is_text(value: Any, optional: bool = False) -> bool:
    return (optional and value is None) or (isinstance(value, str) and len(value) <= _MAX_TEXT)


def secret_matches(received: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    return received is not None and hmac.compare_digest(received.encode(errors="replace"), expected.encode())


def send_in_answer(chat_id: int, text: str) -> dict[str, Any]:
    """A reply as a Bot API call in the webhook's HTTP answer: Telegram runs it as it takes the answer."""
    return {"method": "sendMessage", "chat_id": chat_id, "text": text}
