"""The points schedule: activations, reminders, expiries, level reviews."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.draw_store import DrawStore
from loyalty.adapters.queues import ChatOrderedQueue
from loyalty.flows.campaigns import Touches
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.flows.schedule import PointsSchedule
from loyalty.wiring.books import reported_ledger
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.settings import PointsScheduleSettings


def points_schedule(settings: PointsScheduleSettings) -> PointsSchedule:
    program = program_of(settings)
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    letters = Letters(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME))
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), CampaignLetters(letters, program))
    return PointsSchedule(program, ledger, ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), touches, letters,
                          DrawStore(settings.BOT_TABLE), BotTable(settings.BOT_TABLE))
