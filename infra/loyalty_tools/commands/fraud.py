"""`loyalty fraud report`: receipts held by the fraud rules, the staff's decisions and the points saved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loyalty_tools.commands import Subcommands, group, moscow_time, tables


def register(commands: Subcommands) -> None:
    fraud = group(commands, "fraud", "the program's defences against points taken dishonestly")
    report = fraud.add_parser("report", help="receipts held, approved and rejected, by rule; the share held; points "
                              "saved")
    report.add_argument("--since", type=moscow_time, help="from this day or moment (Moscow; default: the start)")
    report.add_argument("--until", type=moscow_time, help="up to, not including, this day or moment")
    report.add_argument("--json", action="store_true", help="one JSON object")
    tables(report, "claims")
    report.set_defaults(run=_report)
    serials = fraud.add_parser("serials", help="load the serials the brand put into circulation (an export from "
                               "Честный ЗНАК: marking codes, or `gtin;serial` lines)")
    serials.add_argument("file", type=Path)
    tables(serials, "claims")
    serials.set_defaults(run=_serials)


def _report(args: argparse.Namespace) -> int:
    from loyalty_tools import fraud_cli

    return fraud_cli.report(args.members_table, args.ledger_table, args.claims_table, args.since, args.until,
                            args.json, out=sys.stdout)


def _serials(args: argparse.Namespace) -> int:
    from loyalty_tools import fraud_cli

    return fraud_cli.load_serials(args.claims_table, args.members_table, args.file, out=sys.stdout)
