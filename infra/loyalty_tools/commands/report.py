"""`loyalty report`: what the program earns and costs."""

from __future__ import annotations

import argparse
import sys

from loyalty_tools.commands import Subcommands, moscow_time, program, tables


def register(commands: Subcommands) -> None:
    report = commands.add_parser("report", help="what the program earns and costs: members, revenue by channel, "
                                 "points given, spent and owed")
    report.add_argument("--since", type=moscow_time, help="from this day or moment (2026-11-01 is midnight in "
                        "Moscow; default: the start)")
    report.add_argument("--until", type=moscow_time, help="up to, not including, this day or moment (default: now)")
    program(report)
    report.add_argument("--json", action="store_true", help="one JSON object")
    tables(report, "campaigns")
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    from loyalty_tools import report_cli

    return report_cli.report(args.program, args.members_table, args.ledger_table, args.campaigns_table, args.since,
                             args.until, args.json, out=sys.stdout)
