"""The campaigns run and its postman (the follow-ups that are due)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.flows.campaigns import Campaigns, Touches
from loyalty.flows.console_read import ConsoleRead
from loyalty.flows.followups import FollowUps
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.wiring.books import reported_ledger
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import Live, program_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.settings import CampaignsSettings


def campaigns(settings: CampaignsSettings, read: ConsoleRead | None = None) -> Campaigns:
    """The campaigns run, on the program file's campaigns and the console's live ones (read through `read`, the
    postman's in the same function: the console is read once a minute for both)."""
    program = program_of(settings)
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    store = CampaignStore(settings.CAMPAIGNS_TABLE)
    letters = CampaignLetters(Letters(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME)),
                              program, settings.LINK_BASE_URL)
    members = MembersRepository(settings.MEMBERS_TABLE)
    read = read or ConsoleRead(program, ConsoleTable(settings.CONSOLE_TABLE))
    return Campaigns(program, members, store, Touches(program, ledger, store, letters, members), read.program)


def followups(settings: CampaignsSettings) -> Live[FollowUps]:
    """The campaigns run's second job, the postman: the letters that are due, as the contact policy lets them go."""
    return Live(program_of(settings), settings.CONSOLE_TABLE,
                lambda program, read: _followups(settings, program, read))


def _followups(settings: CampaignsSettings, program: Program, read: ConsoleRead | None) -> FollowUps:
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), SqsQueue(settings.CAMPAIGN_QUEUE_URL))
    postman = FollowUps(program, BotTable(settings.BOT_TABLE), ledger, touches, settings.LINK_BASE_URL,
                        outbox=ChatOrderedQueue(settings.OUTBOX_QUEUE_URL),
                        accrual_queue=SqsQueue(settings.ACCRUAL_QUEUE_URL))
    postman.stopped = read.stopped if read else None
    return postman
