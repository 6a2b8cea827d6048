"""`loyalty members backfill-facts | export | import`: the members table, in bulk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loyalty_tools.commands import Subcommands, group, program, tables


def register(commands: Subcommands) -> None:
    members = group(commands, "members", "the members table")
    backfill = members.add_parser("backfill-facts", help="rebuild the facts campaigns target from the ledger "
                                  "(idempotent)")
    program(backfill)
    tables(backfill)
    backfill.set_defaults(run=_backfill)
    export = members.add_parser("export", help="members, levels and balances for a CRM's bulk import (streamed)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    tables(export)
    export.set_defaults(run=_export)
    load = members.add_parser("import", help="members and opening balances from another loyalty system, from a CSV "
                              "(phone,telegram_id,name,points,points_expire_on,level; idempotent)")
    load.add_argument("file", type=Path)
    load.add_argument("--report", type=Path, help="where the rejected rows go (default: FILE.rejected.csv)")
    load.add_argument("--workers", type=int, default=8, help="rows written at once")
    program(load)
    tables(load)
    load.set_defaults(run=_import)


def _backfill(args: argparse.Namespace) -> int:
    from loyalty_tools import members_cli

    return members_cli.backfill_facts(args.members_table, args.ledger_table, args.program, out=sys.stdout)


def _export(args: argparse.Namespace) -> int:
    from loyalty_tools import members_cli

    return members_cli.export(args.members_table, out=sys.stdout, output_format=args.format)


def _import(args: argparse.Namespace) -> int:
    from loyalty_tools import members_cli

    return members_cli.import_members(args.file, args.members_table, args.ledger_table, args.program, args.report,
                                      args.workers, out=sys.stdout)
