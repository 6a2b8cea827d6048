"""The Telegram Bot API, through python-telegram-bot, for functions that send messages.

python-telegram-bot's errors stop here: a blocked chat (403), a rate limit (429, with Telegram's
retry_after), a rejected request (400) and an unreachable or failing Telegram become domain errors.

Lambda reuses a container for many invocations, but `asyncio.run()` closes its loop each time and a
reused Bot then fails with "Event loop is closed". So one event loop lives for the container, the Bot is
initialised once on it (one getMe per container), and every call runs to completion before we return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from loyalty.adapters.secrets import secret
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable

T = TypeVar("T")

_loop = asyncio.new_event_loop()
# httpx logs every request URL at INFO, and a Bot API URL holds the bot token: never let it reach the logs.
logging.getLogger("httpx").setLevel(logging.WARNING)


class TelegramBot:
    def __init__(self, api_url: str, token_secret_name: str):
        self.api_url = api_url.rstrip("/")
        self.token_secret_name = token_secret_name
        self._bot: Bot | None = None

    def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> int:
        async def send() -> int:
            bot = await self._ready()
            message = await bot.send_message(chat_id=chat_id, text=text, reply_markup=_markup(reply_markup))
            return message.message_id

        return _run(send())

    def download(self, file_id: str) -> bytes:
        """A file a shopper sent (getFile, then the download; the Bot API serves up to 20 MB)."""
        async def fetch() -> bytes:
            bot = await self._ready()
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return _run(fetch())

    async def _ready(self) -> Bot:
        if self._bot is None:
            bot = Bot(
                token=secret(self.token_secret_name),
                base_url=f"{self.api_url}/bot",
                base_file_url=f"{self.api_url}/file/bot",
            )
            await bot.initialize()
            self._bot = bot
        return self._bot


def _run(call: Coroutine[Any, Any, T]) -> T:
    """Run one Bot API call to completion on the container's loop, its errors in the domain's words."""
    try:
        return _loop.run_until_complete(call)
    except RetryAfter as error:
        raise RateLimited("telegram rate limit", _seconds(error.retry_after)) from error
    except Forbidden as error:
        raise ChatBlocked(error.message) from error
    except BadRequest as error:  # before NetworkError, which it is a kind of
        raise MessageRejected(error.message) from error
    except TelegramError as error:
        raise TelegramUnavailable(error.message) from error


def _seconds(retry_after: Any) -> int:
    """Telegram's retry_after: a timedelta with PTB_TIMEDELTA set (as the template does), else seconds."""
    return int(retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after)


def _markup(markup: dict[str, Any] | None) -> Any:
    if not markup:
        return None
    if "remove_keyboard" in markup:
        return ReplyKeyboardRemove.de_json(markup, None)
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, None)
    return ReplyKeyboardMarkup.de_json(markup, None)
