"""The Telegram Bot API, through python-telegram-bot, for the bot's logic: an update becomes an `Incoming` message in
our words (who, in which chat, what they sent), and a file a shopper sent is downloaded. Sending is the senders' own
(adapters/bot_api.py): they need no more than two JSON calls.

python-telegram-bot's errors stop here: a blocked chat (403), a rate limit (429, with Telegram's
retry_after), a rejected request (400) and an unreachable or failing Telegram become domain errors.

Lambda reuses a container for many invocations, but `asyncio.run()` closes its loop each time and a
reused Bot then fails with "Event loop is closed". So one event loop lives for the container, the Bot is
initialised once on it (one getMe per container), and every call runs to completion before we return.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from loyalty.adapters.secrets import secret
from loyalty.contracts import Incoming, TelegramFile
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable

T = TypeVar("T")
_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download

_loops = threading.local()  # Lambda runs one thread: one loop; a benchmark's concurrent senders, one each
# httpx logs every request URL at INFO, and a Bot API URL holds the bot token: never let it reach the logs.
logging.getLogger("httpx").setLevel(logging.WARNING)


class TelegramBot:
    def __init__(self, api_url: str, token_secret_name: str):
        self.api_url = api_url.rstrip("/")
        self.token_secret_name = token_secret_name
        # A Bot's HTTP client belongs to the loop it was initialised on: one Bot per loop (Lambda runs one thread,
        # so one loop, one Bot and one getMe per container; a local stack's pollers or a benchmark's threads, one each).
        self._bots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Bot] = weakref.WeakKeyDictionary()

    def download(self, file_id: str) -> bytes:
        """A file a shopper sent (getFile, then the download; the Bot API serves up to 20 MB)."""
        async def fetch() -> bytes:
            bot = await self._ready()
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return _run(fetch())

    async def _ready(self) -> Bot:
        loop = asyncio.get_running_loop()
        if loop not in self._bots:
            bot = Bot(
                token=secret(self.token_secret_name),
                base_url=f"{self.api_url}/bot",
                base_file_url=f"{self.api_url}/file/bot",
            )
            await bot.initialize()
            self._bots[loop] = bot
        return self._bots[loop]


def _run(call: Coroutine[Any, Any, T]) -> T:
    """Run one Bot API call to completion on the container's loop, its errors in the domain's words."""
    try:
        return _loop().run_until_complete(call)
    except RetryAfter as error:
        raise RateLimited("telegram rate limit", _seconds(error.retry_after)) from error
    except Forbidden as error:
        raise ChatBlocked(error.message) from error
    except BadRequest as error:  # before NetworkError, which it is a kind of
        raise MessageRejected(error.message) from error
    except TelegramError as error:
        raise TelegramUnavailable(error.message) from error


def _loop() -> asyncio.AbstractEventLoop:
    if not hasattr(_loops, "loop"):
        _loops.loop = asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = _loops.loop
    return loop


def _seconds(retry_after: Any) -> int:
    """Telegram's retry_after: a timedelta with PTB_TIMEDELTA set (as the template does), else seconds."""
    return int(retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after)


def incoming(update: dict[str, Any], staff_chat_id: int | None = None) -> Incoming | None:
    """The message or button tap in an update, or None for what the bot does not answer (a group other than the
    staff chat, a channel, another bot, an edited message, a reaction)."""
    parsed = Update.de_json(update, None)
    query, user, chat = parsed.callback_query, parsed.effective_user, parsed.effective_chat
    message = query.message if query is not None else parsed.message
    if message is None or user is None or chat is None or user.is_bot or not isinstance(message, Message):
        return None
    staff = staff_chat_id is not None and chat.id == staff_chat_id
    if chat.type != "private" and not staff:
        return None
    common: dict[str, Any] = {"update_id": parsed.update_id, "user_id": user.id, "chat_id": chat.id, "staff": staff,
              "user_name": (user.username or user.first_name or "") if staff else "",
              "username": None if staff else user.username,
              "first_name": None if staff else user.first_name[:64],
              "language_code": user.language_code}
    if query is not None:
        return Incoming(**common, callback_id=query.id, callback_data=query.data or "")
    contact, replied = message.contact, message.reply_to_message
    return Incoming(**common, text=message.text or message.caption if message.photo else message.text,
                    contact_phone=contact.phone_number if contact else None,
                    contact_user_id=contact.user_id if contact else None, file=_receipt_file(message),
                    reply_to_text=(replied.text or replied.caption) if replied else None)


def _receipt_file(message: Message) -> TelegramFile | None:
    """A photo, an image sent as a file (uncompressed), or a JSON file from the FNS app."""
    if message.photo:
        return TelegramFile(file_id=message.photo[-1].file_id, kind="photo")  # the largest size is last
    document = message.document
    if document is None or (document.file_size or 0) > _MAX_DOWNLOAD_BYTES:
        return None
    name, mime = (document.file_name or "").lower(), (document.mime_type or "").lower()
    if mime in ("image/jpeg", "image/png", "image/webp") or name.endswith((".jpg", ".jpeg", ".png", ".webp")):
        return TelegramFile(file_id=document.file_id, kind="photo", file_name=document.file_name)
    if mime in ("application/json", "text/plain") or name.endswith((".json", ".txt")):
        return TelegramFile(file_id=document.file_id, kind="document", file_name=document.file_name)
    return None
