"""The Mini App's API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import SqsQueue
from loyalty.adapters.secrets import secret
from loyalty.flows.miniapp import MiniApp
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import Live, program_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.console_read import ConsoleRead
    from loyalty.settings import WebAppSettings


def miniapp(settings: WebAppSettings) -> tuple[Live[MiniApp], Callable[[], str]]:
    """The Mini App's flow, and the bot token its requests are checked against (read at the first request)."""
    def build(program: Program, _: ConsoleRead | None) -> MiniApp:
        return MiniApp(program, MembersRepository(settings.MEMBERS_TABLE),
                       LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE), BotTable(settings.BOT_TABLE),
                       SqsQueue(settings.ACCRUAL_QUEUE_URL), stack_key(settings.STACK_KEY_NAME))
    return Live(program_of(settings), settings.CONSOLE_TABLE, build), cache(lambda: secret(settings.BOT_TOKEN_NAME))
