"""`loyalty receipt explain | decode`: why a receipt earns what it earns, and what a photo's QR code says."""

from __future__ import annotations

import argparse
import sys

from loyalty_tools.commands import Subcommands, aware_time, group, program, tables


def register(commands: Subcommands) -> None:
    receipt = group(commands, "receipt", "explain and decode receipts")
    explain = receipt.add_parser("explain", help="why a receipt earns what it earns (JSON)")
    explain.add_argument("source", help="a receipt file (any shape), a photo, or a QR string")
    program(explain, required=True)
    explain.add_argument("--now", type=aware_time, help="judge as of this moment (ISO 8601; default: now)")
    explain.add_argument("--member", help="explain for this member, read (only) from the stack AWS_ENDPOINT_URL or "
                         "the AWS configuration points to; default: a new member at the entry level")
    tables(explain, "claims")
    explain.set_defaults(run=_explain)
    decode = receipt.add_parser("decode", help="print the QR string found in each image")
    decode.add_argument("images", nargs="+")
    decode.set_defaults(run=_decode)


def _explain(args: argparse.Namespace) -> int:
    from loyalty_tools import receipt_cli

    found = receipt_cli.Tables(args.members_table, args.ledger_table, args.claims_table)
    return receipt_cli.explain(args.source, args.program, args.now, member_id=args.member, tables=found,
                               out=sys.stdout)


def _decode(args: argparse.Namespace) -> int:
    from loyalty_tools import receipt_cli

    return receipt_cli.decode(args.images, out=sys.stdout)
