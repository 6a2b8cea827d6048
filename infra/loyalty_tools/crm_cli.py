"""`loyalty crm resync`: each member's view queued for the CRM on CrmQueue, where crm_sync delivers it at the CRM's
pace, in the member's order, with the member's other events (flows/crm_resync.py says what is sent and why it
changes nothing twice)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.flows.crm_resync import CrmResync
from loyalty.wiring.books import crm_feed
from loyalty_tools.queues import CRM_QUEUE, queue_url


def resync(members_table: str, ledger_table: str, program_path: Path, crm_queue_url: str | None,
           member_id: str | None, out: TextIO = sys.stdout) -> int:
    """One member (`member_id`) or every member (None). Exit 1 when the program syncs no CRM or the member cannot
    be resynced (unknown, erased, no phone yet)."""
    feed = crm_feed(load_program(program_path), queue_url(crm_queue_url, CRM_QUEUE))
    if feed is None:
        print(json.dumps({"error": "the program syncs no CRM (crm.kind: none)"}), file=out)
        return 1
    members = MembersRepository(members_table)
    flow = CrmResync(members, members, LedgerRepository(ledger_table, members_table), feed)
    now = datetime.now(UTC)
    if member_id is not None:
        events = flow.member(member_id, now)
        print(json.dumps({"member_id": member_id, "events": events, "queued": events > 0}), file=out)
        return 0 if events else 1
    resynced = skipped = events = 0
    for _, count in flow.everyone(now):
        resynced, skipped, events = resynced + (count > 0), skipped + (count == 0), events + count
    print(json.dumps({"members": resynced, "skipped": skipped, "events": events}), file=out)
    return 0
