"""The transactional sender: the outbox's messages to Telegram, each chat's in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_api import BotApi
from loyalty.adapters.bot_table import BotTable, LastMessages
from loyalty.adapters.pacing import LocalPace
from loyalty.flows.outbox import TelegramSender
from loyalty.wiring.keys import stack_key

if TYPE_CHECKING:
    from loyalty.settings import TelegramSenderSettings


def telegram_sender(settings: TelegramSenderSettings) -> TelegramSender:
    return TelegramSender(BotApi(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME),
                          LastMessages(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME)),
                          LocalPace(settings.share(settings.MESSAGES_PER_SECOND)))
