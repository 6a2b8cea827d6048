"""`loyalty members …`: operations on the members table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.program_file import load_program


def backfill_facts(members_table: str, ledger_table: str, program_path: Path, out: TextIO = sys.stdout) -> int:
    """Rebuild every member's campaign facts from their ledger entries. Idempotent: a member whose facts are
    already right is not written, so a second run changes nothing."""
    ledger = ledger_for(load_program(program_path), ledger_table, members_table)
    members = rebuilt = 0
    for member_id in ledger.members():
        members += 1
        rebuilt += ledger.rewrite_facts(member_id)
    print(json.dumps({"members": members, "rebuilt": rebuilt, "unchanged": members - rebuilt}), file=out)
    return 0
