"""The Telegram Bot API, through python-telegram-bot, for functions that send messages.

Lambda reuses a container for many invocations, but `asyncio.run()` closes its loop each time and a
reused Bot then fails with "Event loop is closed". So one event loop lives for the container, the Bot is
initialised once on it (one getMe per container), and every call runs to completion before we return.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from loyalty.adapters.secrets import secret

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

        return _loop.run_until_complete(send())

    def download(self, file_id: str) -> bytes:
        """A file a shopper sent (getFile, then the download; the Bot API serves up to 20 MB)."""
        async def fetch() -> bytes:
            bot = await self._ready()
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return _loop.run_until_complete(fetch())

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


def _markup(markup: dict[str, Any] | None) -> Any:
    if not markup:
        return None
    if "remove_keyboard" in markup:
        return ReplyKeyboardRemove.de_json(markup, None)
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, None)
    return ReplyKeyboardMarkup.de_json(markup, None)
