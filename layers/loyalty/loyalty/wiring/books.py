"""The ledger a flow writes through, and the CRM feed every entry is reported to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.queues import FifoQueue
from loyalty.flows.crm_feed import CrmFeed, Reported

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.ports import Ledger


def crm_feed(program: Program, queue_url: str) -> CrmFeed | None:
    """Where changes are reported to the CRM; None when the program syncs none (nothing is queued)."""
    return CrmFeed(FifoQueue(queue_url)) if program.crm.kind != "none" else None


def reported_ledger(program: Program, ledger_table: str, members_table: str, crm_queue_url: str) -> Ledger:
    """The ledger a flow writes through: every entry reported to the CRM in the same step, when there is one."""
    ledger = ledger_for(program, ledger_table, members_table)
    feed = crm_feed(program, crm_queue_url)
    return Reported(ledger, feed) if feed is not None else ledger
