"""The Mini App's API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from loyalty.adapters.bot_api import BotApi
from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.draw_store import DrawStore
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.adapters.secrets import secret
from loyalty.flows.draw import PrizeDraw
from loyalty.flows.miniapp import MiniApp
from loyalty.flows.replies import Replies
from loyalty.wiring.books import crm_feed, reported_ledger
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import Live, program_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.console_read import ConsoleRead
    from loyalty.settings import WebAppSettings


def draw(settings: WebAppSettings) -> Live[PrizeDraw | None]:
    """The prize draw (None: the program has none)."""
    def build(program: Program, _: ConsoleRead | None) -> PrizeDraw | None:
        if program.draw is None:
            return None
        ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
        return PrizeDraw(program, ledger, DrawStore(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME),
                         Replies(ChatOrderedQueue(settings.OUTBOX_QUEUE_URL)), BotTable(settings.BOT_TABLE))
    return Live(program_of(settings), settings.CONSOLE_TABLE, build)


def miniapp(settings: WebAppSettings) -> tuple[Live[MiniApp], Callable[[], str]]:
    """The Mini App's flow, and the bot token its requests are checked against (read at the first request)."""
    def build(program: Program, _: ConsoleRead | None) -> MiniApp:
        return MiniApp(program, MembersRepository(settings.MEMBERS_TABLE),
                       LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE), BotTable(settings.BOT_TABLE),
                       SqsQueue(settings.ACCRUAL_QUEUE_URL), stack_key(settings.STACK_KEY_NAME),
                       Replies(ChatOrderedQueue(settings.OUTBOX_QUEUE_URL)),
                       BotApi(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME),
                       crm_feed(program, settings.CRM_QUEUE_URL))
    return Live(program_of(settings), settings.CONSOLE_TABLE, build), cache(lambda: secret(settings.BOT_TOKEN_NAME))
