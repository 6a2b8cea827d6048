"""`loyalty openapi`: the redemption API's document, written from its code."""

from __future__ import annotations

import argparse

from loyalty_tools.commands import Subcommands


def register(commands: Subcommands) -> None:
    commands.add_parser("openapi", help="write docs/redemption-api.json from the redemption API's code").set_defaults(
        run=_write)


def _write(args: argparse.Namespace) -> int:
    from loyalty_tools import openapi

    return openapi.write()
