"""`loyalty members …`: operations on the members table: rebuilding campaign facts, and exporting members for a
CRM's bulk import."""

from __future__ import annotations

import csv
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


EXPORTED = ("phone", "telegram_id", "level", "available", "pending", "held")


def export(members_table: str, out: TextIO = sys.stdout, output_format: str = "csv") -> int:
    """Every member with their level and balances, one row each, streamed as the table is read (CSV with a
    header row, or JSON lines), with a progress bar on stderr."""
    from tqdm import tqdm

    from loyalty.adapters.aws import client
    from loyalty.adapters.dynamo import from_item

    writer = csv.DictWriter(out, fieldnames=EXPORTED, lineterminator="\n") if output_format == "csv" else None
    if writer is not None:
        writer.writeheader()
    names = {f"#{name}": name for name in ("member_id", "chat_id", "phone", "level", "available", "pending", "held")}
    with tqdm(desc="members", unit="member", file=sys.stderr) as bar:
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=members_table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names,
        ):
            for item in map(from_item, page["Items"]):
                row = {"phone": item.get("phone"), "telegram_id": item.get("chat_id"), "level": item.get("level"),
                       **{name: int(item.get(name, 0)) for name in ("available", "pending", "held")}}
                if writer is not None:
                    writer.writerow(row)
                else:
                    print(json.dumps(row, ensure_ascii=False), file=out)
                bar.update(1)
    return 0
