"""The CRM sync: Mindbox or a signed webhook."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from loyalty.adapters.members import MembersRepository
from loyalty.adapters.mindbox import MindboxClient
from loyalty.adapters.pacing import LocalPace
from loyalty.adapters.queues import DeadLetterQueue
from loyalty.adapters.secrets import secret
from loyalty.adapters.signed_webhook import SignedWebhook
from loyalty.flows.crm_sync import CrmSync
from loyalty.wiring.live import program_of

if TYPE_CHECKING:
    from loyalty.flows.ports import CrmTarget
    from loyalty.settings import CrmSyncSettings


def crm_sync(settings: CrmSyncSettings) -> CrmSync:
    crm = program_of(settings).crm
    pace = LocalPace(settings.share(crm.requests_per_minute / 60)).wait

    @cache
    def crm_secret() -> str:  # read at the first event, not at cold start: a function with no CRM needs none
        return secret(settings.CRM_SECRET_NAME)

    target: CrmTarget | None = None
    if crm.kind == "mindbox" and crm.mindbox is not None:
        target = MindboxClient(settings.CRM_URL, crm_secret, crm.mindbox, pace)
    elif crm.kind == "webhook":
        target = SignedWebhook(settings.CRM_URL, crm_secret, crm.webhook, pace)
    return CrmSync(target, DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL), MembersRepository(settings.MEMBERS_TABLE))
