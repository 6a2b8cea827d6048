"""The campaign sender: campaign messages to Telegram, at the campaigns' share of the bot's rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_api import BotApi
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.idempotency import OncePerKey
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.pacing import Pace
from loyalty.adapters.queues import SqsQueue
from loyalty.flows.campaign_sender import CampaignSender
from loyalty.flows.console_read import ConsoleRead
from loyalty.wiring.books import crm_feed
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.settings import CampaignSenderSettings

_MESSAGE_DEDUPE_SECONDS = 7 * 24 * 3600  # longer than any campaign message can sit in its queue and its DLQ
_BOT_PACE = "telegram"  # the campaign senders' pace, shared by their pollers (the transactional sender keeps its own)


def campaign_sender(settings: CampaignSenderSettings) -> CampaignSender:
    program = program_of(settings)
    return CampaignSender(
        BotApi(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME),
        OncePerKey("message", "touch", settings.IDEMPOTENCY_TABLE, _MESSAGE_DEDUPE_SECONDS),
        Pace(settings.PACE_TABLE, _BOT_PACE, settings.MESSAGES_PER_SECOND),
        CampaignStore(settings.CAMPAIGNS_TABLE), MembersRepository(settings.MEMBERS_TABLE),
        SqsQueue(settings.ACCRUAL_QUEUE_URL), crm_feed(program, settings.CRM_QUEUE_URL),
        stopped=ConsoleRead(program, ConsoleTable(settings.CONSOLE_TABLE)).stopped)
