"""The redemption API: quotes and orders paid with points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.promo_codes import PromoCodes
from loyalty.adapters.queues import SqsQueue
from loyalty.flows.redemption import Redemption
from loyalty.wiring.books import reported_ledger
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.settings import RedemptionSettings


def redemption(settings: RedemptionSettings) -> Redemption:
    program = program_of(settings)
    return Redemption(program, reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE,
                                               settings.CRM_QUEUE_URL),
                      MembersRepository(settings.MEMBERS_TABLE), PromoCodes(settings.PROMO_CODES_TABLE),
                      SqsQueue(settings.ACCRUAL_QUEUE_URL), CampaignStore(settings.CAMPAIGNS_TABLE),
                      ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE))
