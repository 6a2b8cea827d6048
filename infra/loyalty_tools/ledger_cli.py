"""`loyalty ledger verify` and `loyalty ledger adjust`: the books, checked and corrected by an operator.

Both reach the deployed tables through the usual AWS credentials and region (AWS_ENDPOINT_URL points them
at a local stack), with the table names given as options or in MEMBERS_TABLE / LEDGER_TABLE.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain import postings
from loyalty.domain.details import Details
from loyalty.domain.errors import DomainError
from loyalty.domain.ledger import Cause, Kind, entry_id_of
from loyalty.wiring.books import reported_ledger
from loyalty_tools.queues import CRM_QUEUE, queue_url


def verify(members_table: str, ledger_table: str, out: TextIO = sys.stdout) -> int:
    """Prove every member's balances equal their ledger; name each member who is off. Exit 1 if any is."""
    ledger = LedgerRepository(ledger_table, members_table)  # reads only
    checked, wrong = 0, 0
    for member_id, problems in ledger.audit():
        checked += 1
        if problems:
            wrong += 1
            print(json.dumps({"member_id": member_id, "problems": problems}, ensure_ascii=False), file=out)
    print(json.dumps({"members": checked, "off": wrong, "ok": wrong == 0}), file=out)
    return 0 if wrong == 0 else 1


def adjust(members_table: str, ledger_table: str, program_path: Path, member_id: str, points: int, reason: str,
           reference: str, crm_queue_url: str | None = None, out: TextIO = sys.stdout) -> int:
    """Credit or take points by hand, once per `reference`, with the operator's reason in the entry (reported to
    the brand's CRM like any balance change, when the program has one)."""
    program = load_program(program_path)
    crm = queue_url(crm_queue_url, CRM_QUEUE) if program.crm.kind != "none" else ""
    ledger = reported_ledger(program, ledger_table, members_table, crm)
    now = datetime.now(UTC)
    entry_id = entry_id_of(Cause.ADJUSTMENT, reference)
    try:
        posting = ledger.apply(member_id, entry_id, Kind.ADJUSTMENT,
                               lambda wal: postings.adjustment(program, wal, entry_id, points, now),
                               details=Details(reason=reason), now=now)
    except DomainError as error:
        print(json.dumps({"error": str(error), "reason": error.reason}, ensure_ascii=False), file=out)
        return 1
    print(json.dumps({"entry_id": entry_id, "points": posting.points, "applied": posting.applied,
                      "balance": posting.balance.model_dump()}, ensure_ascii=False), file=out)
    return 0
