"""The tracked links' redirects: a message's button or a nudge's link, counted, then on to the brand's page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.flows.link_clicks import LinkClicks
from loyalty.wiring.live import Live, program_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.console_read import ConsoleRead
    from loyalty.settings import LinkClicksSettings


def link_clicks(settings: LinkClicksSettings) -> Live[LinkClicks]:
    def build(program: Program, _: ConsoleRead | None) -> LinkClicks:
        site = program.bot.site_url or f"https://t.me/{program.brand.bot_username or ''}"
        return LinkClicks(program, BotTable(settings.BOT_TABLE), CampaignStore(settings.CAMPAIGNS_TABLE), site)
    return Live(program_of(settings), settings.CONSOLE_TABLE, build)
