"""The point accrual: the receipts' check, the ledger, the triggered campaigns' letters, the erasure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.promo_codes import PromoCodes
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.flows.accrual import InProcess, PointAccrual
from loyalty.flows.campaigns import Touches
from loyalty.flows.erasure import Erasure
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.flows.replies import Replies
from loyalty.flows.submissions import SentQr, Submissions
from loyalty.wiring.books import reported_ledger
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import Live, program_of
from loyalty.wiring.receipts import receipt_check

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.console_read import ConsoleRead
    from loyalty.settings import PointAccrualSettings


def point_accrual(settings: PointAccrualSettings) -> Live[PointAccrual]:
    return Live(program_of(settings), settings.CONSOLE_TABLE,
                lambda program, read: _point_accrual(settings, program, read))


def _point_accrual(settings: PointAccrualSettings, program: Program, read: ConsoleRead | None) -> PointAccrual:
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    keyed = stack_key(settings.STACK_KEY_NAME)
    outbox = ChatOrderedQueue(settings.OUTBOX_QUEUE_URL)  # one for the check and the ledger: held together
    triggered = CampaignLetters(Letters(BotTable(settings.BOT_TABLE), keyed), program,  # a triggered campaign's letter
                                settings.LINK_BASE_URL)
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), triggered,
                      MembersRepository(settings.MEMBERS_TABLE))
    claims = ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE)
    erasure = Erasure(ledger, ledger_for(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE), claims,
                      MembersRepository(settings.MEMBERS_TABLE),
                      (BotTable(settings.BOT_TABLE), CampaignStore(settings.CAMPAIGNS_TABLE)))
    accrual = PointAccrual(program, ledger, outbox, PromoCodes(settings.PROMO_CODES_TABLE), keyed, touches,
                           BotTable(settings.BOT_TABLE), erasure, live=read.program if read else None)
    accrual.sent = SentQr(Submissions(program, MembersRepository(settings.MEMBERS_TABLE), Replies(outbox), keyed))
    accrual.receipts = receipt_check(settings, program, claims, outbox, SqsQueue(settings.ACCRUAL_QUEUE_URL),
                                     InProcess(accrual))
    return accrual
