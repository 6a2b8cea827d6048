"""`loyalty audit verify`: the staff's audit log, its chain proved unbroken (domain/audit.py)."""

from __future__ import annotations

import argparse
import os
import sys

from loyalty_tools.commands import Subcommands, group


def register(commands: Subcommands) -> None:
    audit = group(commands, "audit", "the staff's audit log")
    verify = audit.add_parser("verify", help="every entry numbered without a gap and hashing the one before it; "
                              "exit 1 naming the first that does not")
    verify.add_argument("--audit-table", default=os.environ.get("AUDIT_TABLE", "AuditTable"))
    verify.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    from loyalty.adapters.audit_log import AuditLog
    from loyalty.domain.audit import broken_at

    entries = list(AuditLog(args.audit_table).entries())
    broken = broken_at(entries)
    if broken is not None:
        print(f"audit log BROKEN at entry {broken} of {len(entries)}: changed, removed or put in between "
              "(compare with the table's point-in-time backup)", file=sys.stdout)
        return 1
    print(f"audit log intact: {len(entries)} entries, the last hash {entries[-1].hash if entries else '—'}")
    return 0
