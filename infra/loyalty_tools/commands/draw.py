"""`loyalty draw verify DAY`: replay a day of the prize draw from its revealed seed, and check the ledger paid it."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from loyalty_tools.commands import Subcommands, group, program, tables


def register(commands: Subcommands) -> None:
    draw = group(commands, "draw", "the prize draw")
    verify = draw.add_parser("verify", help="recompute every outcome of DAY (Moscow) from its seed and the published "
                             "hash, and check each prize was paid once in the ledger")
    verify.add_argument("day", type=date.fromisoformat, help="YYYY-MM-DD")
    verify.add_argument("--json", action="store_true", help="one JSON object")
    verify.add_argument("--no-ledger", dest="ledger", action="store_false",
                        help="the draw's own records only: skip the scan of the ledger")
    verify.add_argument("--stack-key-name", default=os.environ.get("STACK_KEY_NAME", "/loyalty/stack-key"),
                        help="the SSM parameter members' keyed markers are made with")
    tables(verify, "bot")
    program(verify)
    verify.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    from loyalty_tools import draw_cli

    return draw_cli.verify(args.program, args.day, args.bot_table, args.members_table, args.ledger_table,
                           args.stack_key_name if args.ledger else None, args.json, out=sys.stdout)
