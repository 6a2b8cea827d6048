"""The operator's command groups (`loyalty GROUP ACTION`): each module registers its own subcommands and runs them.

Registration imports nothing heavy: a command's module (loyalty_tools.*_cli) is imported when it runs, so
`loyalty --help` and a command of one group never pay for another's imports.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Subcommands = Any  # argparse's _SubParsersAction, which it does not export

DEFAULT_PROGRAM = Path("program/program.yaml")


def aware_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def moscow_time(text: str) -> datetime:
    """A marketer's date: a day without a zone is Moscow's."""
    from loyalty.domain.receipt import MOSCOW

    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


def group(commands: Subcommands, name: str, help_text: str) -> Subcommands:
    """`loyalty NAME ACTION`: the group's parser, whose actions the caller adds."""
    return commands.add_parser(name, help=help_text).add_subparsers(dest="action", required=True)


def tables(parser: argparse.ArgumentParser, *extra: str) -> None:
    """The members and ledger tables (and `extra` ones: campaigns, claims, bot), named by the environment or the local
    stack's names."""
    names = {"members": ("MEMBERS_TABLE", "MembersTable"), "ledger": ("LEDGER_TABLE", "LedgerTable"),
             "campaigns": ("CAMPAIGNS_TABLE", "CampaignsTable"), "claims": ("CLAIMS_TABLE", "ReceiptClaimsTable"),
             "bot": ("BOT_TABLE", "BotTable")}
    for table in ("members", "ledger", *extra):
        variable, default = names[table]
        parser.add_argument(f"--{table}-table", default=os.environ.get(variable, default))


def program(parser: argparse.ArgumentParser, required: bool = False) -> None:
    if required:
        parser.add_argument("--program", type=Path, required=True, help="the program file")
    else:
        parser.add_argument("--program", type=Path, default=DEFAULT_PROGRAM)
