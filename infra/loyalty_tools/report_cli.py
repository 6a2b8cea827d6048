"""`loyalty report [--since DAY] [--until DAY] [--json | --csv] [--scan]`: the program's figures for a period beside
the one before it, as the console's dashboard shows them (domain/dashboard.py computes both).

It reads the daily figures (FiguresTable, kept by FiguresFunction from the tables' streams) and writes nothing.
`--scan` computes the same figures from the books themselves instead (the members, ledger, campaigns and bot
tables, one scan each): what `loyalty figures backfill` writes, and what `loyalty figures verify` compares with.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import from_item
from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain.console import Refused
from loyalty.domain.daily import EPOCH, Books, Tally
from loyalty.domain.dashboard import Dashboard, csv_text, dashboard
from loyalty.domain.figures import figures, previous, with_earlier
from loyalty.domain.program import Program
from loyalty.flows.dashboards import period

# What the figures read of a member: no phone, no name, no chat.
MEMBER_ATTRIBUTES = ("member_id", "joined_at", "joined_via", "referred_by", "erased_at")


@dataclass(frozen=True)
class Tables:
    members: str
    ledger: str
    campaigns: str
    bot: str
    figures: str


def report(program_path: Path, tables: Tables, since: date | None, until: date | None, output: str, scan: bool,
           out: TextIO = sys.stdout) -> int:
    program = load_program(program_path)
    try:
        since, until = period(since, until, clock.now())
    except Refused as refused:
        print(refused, file=sys.stderr)
        return 2
    days = scanned(program, tables) if scan else stored(tables.figures, previous(since, until)[0])
    if output == "json":
        print(json.dumps({"since": since.isoformat(), "until": until.isoformat(),
                          "figures": figures(days, since, until).model_dump(mode="json"),
                          "previous": figures(days, *previous(since, until)).model_dump(mode="json")},
                         ensure_ascii=False), file=out)
    elif output == "csv":
        print(csv_text(dashboard(program, days, since, until)), file=out, end="")
    else:
        print(render(program, dashboard(program, days, since, until)), file=out)
    return 0


def stored(figures_table: str, since: date) -> dict[date, Tally]:
    """The daily figures from `since` on, and everything before folded into the day before."""
    return with_earlier(*FiguresTable(figures_table).read(since), since)


def scanned(program: Program, tables: Tables) -> dict[date, Tally]:
    """The daily figures computed from the books, one scan of each table."""
    return scanned_books(program, tables).tallies()


def scanned_books(program: Program, tables: Tables) -> Books:
    """The books read, one scan of each table: their tallies, and each member's past, are the Books' to give."""
    books = Books(program)
    for item in MembersRepository(tables.members).everyone(MEMBER_ATTRIBUTES):
        books.member(item)
    for page in LedgerRepository(tables.ledger, tables.members).every_entry():
        books.entries(page)
    for item in _scan(tables.campaigns, "begins_with(#key, :touch)", {"#key": "key"}, {":touch": {"S": "touch#"}}):
        books.touch(item)
    for item in _scan(tables.bot, "attribute_exists(rating) AND attribute_exists(rated_at)"):
        books.letter(item)
    return books


def all_stored(figures_table: str) -> dict[date, Tally]:
    days, _ = FiguresTable(figures_table).read(EPOCH)
    return days


def _scan(table: str, condition: str, names: dict[str, str] | None = None,
          values: dict[str, object] | None = None) -> Iterator[dict[str, Any]]:
    for page in client("dynamodb").get_paginator("scan").paginate(
        TableName=table, FilterExpression=condition, **({"ExpressionAttributeNames": names} if names else {}),
        **({"ExpressionAttributeValues": values} if values else {}),
    ):
        yield from map(from_item, page["Items"])


def render(program: Program, board: Dashboard) -> str:
    """The dashboard's tables as a marketer reads them: each figure, then the period before and the change."""
    lines = [f"Программа «{program.brand.name}»: {board.period}"]
    for table in board.tables:
        if not table.rows:
            continue
        lines += ["", table.title + (f": {table.columns[0]} (в скобках — {table.columns[1]})" if table.columns else "")]
        for row in table.rows:
            change = "" if row.delta is None or row.before is None else \
                f" ({_number(row.before, row.unit)}; {_signed(row.delta, row.unit)}" + \
                (f", {_signed(row.change_percent, 'percent')}" if row.change_percent is not None else "") + ")"
            lines.append(f"  {row.label}: {_number(row.now, row.unit)}{change}")
    return "\n".join(lines)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}".replace(".", ",").removesuffix(",0") + "\u00a0%"
    text = f"{round(value):,}".replace(",", "\u202f")  # a narrow no-break space between thousands, as Russian writes
    return f"{text} ₽" if unit == "rub" else text


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + _number(abs(value), unit)
