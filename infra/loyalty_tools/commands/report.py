"""`loyalty report`: the program's figures for a period beside the one before; `loyalty figures backfill|verify`:
the daily figures rebuilt from the books, or compared with them."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import TYPE_CHECKING

from loyalty_tools.commands import Subcommands, group, program, tables

if TYPE_CHECKING:
    from loyalty_tools.report_cli import Tables


def register(commands: Subcommands) -> None:
    report = commands.add_parser("report", help="the program's figures for a period beside the one before: members, "
                                 "purchases by channel, points given, spent and owed, campaigns, ratings, RFM groups")
    report.add_argument("--since", type=date.fromisoformat, help="the first day (default: 30 days before --until)")
    report.add_argument("--until", type=date.fromisoformat, help="the day after the last (default: tomorrow)")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="the figures as one JSON object")
    shape.add_argument("--csv", action="store_true", help="the tables as CSV, as the console downloads them")
    report.add_argument("--scan", action="store_true", help="compute from the books themselves (a scan of each "
                        "table) rather than the daily figures")
    _tables(report)
    report.set_defaults(run=_report)

    figures = group(commands, "figures", "the daily figures the console and the report read (FiguresTable)")
    backfill = figures.add_parser("backfill", help="rebuild them from the books: one scan of the members, ledger, "
                                  "campaigns and bot tables (the live figures are replaced: run it when nothing is "
                                  "being written, e.g. right after a deploy)")
    verify = figures.add_parser("verify", help="compare them with the books; exit 1 naming the days that differ")
    for parser in (backfill, verify):
        _tables(parser)
    backfill.set_defaults(run=_backfill)
    verify.set_defaults(run=_verify)


def _tables(parser: argparse.ArgumentParser) -> None:
    program(parser)
    tables(parser, "campaigns", "bot")
    parser.add_argument("--figures-table", default=os.environ.get("FIGURES_TABLE", "FiguresTable"))


def _named(args: argparse.Namespace) -> Tables:
    from loyalty_tools.report_cli import Tables

    return Tables(members=args.members_table, ledger=args.ledger_table, campaigns=args.campaigns_table,
                  bot=args.bot_table, figures=args.figures_table)


def _report(args: argparse.Namespace) -> int:
    from loyalty_tools import report_cli

    output = "json" if args.json else "csv" if args.csv else "text"
    return report_cli.report(args.program, _named(args), args.since, args.until, output, args.scan, out=sys.stdout)


def _backfill(args: argparse.Namespace) -> int:
    from loyalty.adapters.figures_table import FiguresTable
    from loyalty.adapters.program_file import load_program
    from loyalty_tools.report_cli import scanned_books

    books = scanned_books(load_program(args.program), _named(args))
    days = books.tallies()
    written = FiguresTable(args.figures_table).replace(days, books.pasts)
    print(f"figures rebuilt from the books: {len(days)} days, {written} items written")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from loyalty.adapters.program_file import load_program
    from loyalty_tools.report_cli import all_stored, scanned

    books = scanned(load_program(args.program), _named(args))
    kept = all_stored(args.figures_table)
    differ = sorted(day for day in set(books) | set(kept) if books.get(day) != kept.get(day))
    if differ:
        shown = ", ".join(day.isoformat() for day in differ[:10])
        print(f"figures DIFFER from the books on {len(differ)} days: {shown}{' …' if len(differ) > 10 else ''} "
              "(`loyalty figures backfill` rebuilds them)")
        return 1
    print(f"figures agree with the books: {len(books)} days")
    return 0
