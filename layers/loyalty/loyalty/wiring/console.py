"""The staff console and everything it reads and changes."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from loyalty.adapters.audit_log import AuditLog
from loyalty.adapters.bot_table import BotTable, LastMessages
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.adapters.secrets import secret
from loyalty.domain.staff import Role
from loyalty.flows.composer import Composer
from loyalty.flows.console import Console, StaffDirectory
from loyalty.flows.conversations import Conversations
from loyalty.flows.dashboards import Dashboards
from loyalty.flows.everyday import Everyday
from loyalty.flows.queue import TicketQueue
from loyalty.flows.reach import ReachCounter
from loyalty.flows.replies import Replies
from loyalty.flows.support import MemberReach, SupportDesk
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.settings import ConsoleSettings


def console(settings: ConsoleSettings) -> tuple[Console, SupportDesk, Dashboards, TicketQueue, Composer, Everyday,
                                                Callable[[], str]]:
    """The staff console, its members desk, its dashboard, its queue of tickets, its campaigns, its everyday changes,
    and the bot's token (read when a Mini App's initData is first checked)."""
    program = program_of(settings)
    table, audit, keyed = ConsoleTable(settings.CONSOLE_TABLE), AuditLog(settings.AUDIT_TABLE), \
        stack_key(settings.STACK_KEY_NAME)
    directory = StaffDirectory(table, program, settings.CONSOLE_OWNER_TELEGRAM_ID or None)
    desk = SupportDesk(program, MembersRepository(settings.MEMBERS_TABLE),
                       LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE),
                       SqsQueue(settings.ACCRUAL_QUEUE_URL), audit, keyed)
    bot_table = BotTable(settings.BOT_TABLE)
    desk.reach = MemberReach(CampaignStore(settings.CAMPAIGNS_TABLE), bot_table, LastMessages(bot_table, keyed),
                             ChatOrderedQueue(settings.OUTBOX_QUEUE_URL))
    dashboards = Dashboards(program, FiguresTable(settings.FIGURES_TABLE), audit)
    talk = Conversations(program, MembersRepository(settings.MEMBERS_TABLE),
                         Replies(ChatOrderedQueue(settings.OUTBOX_QUEUE_URL)), SqsQueue(settings.ACCRUAL_QUEUE_URL),
                         bot_table, keyed)
    talk.staff_of, talk.audit = directory.member, audit  # the same rights and audit as in the staff chat
    return (Console(directory, table, audit, keyed), desk, dashboards, TicketQueue(bot_table, talk),
            Composer(program, table, audit, ReachCounter(program, MembersRepository(settings.MEMBERS_TABLE), bot_table),
                     ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), CampaignStore(settings.CAMPAIGNS_TABLE),
                     lambda: [one.telegram_id for one in directory.everyone() if one.role == Role.OWNER]),
            Everyday(program, table, audit, bot_table), cache(lambda: secret(settings.BOT_TOKEN_NAME)))
