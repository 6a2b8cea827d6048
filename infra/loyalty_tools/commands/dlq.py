"""`loyalty dlq list | redrive`: what the dead-letter queues hold and why, and replaying them."""

from __future__ import annotations

import argparse

from loyalty_tools.commands import Subcommands, group


def register(commands: Subcommands) -> None:
    dlq = group(commands, "dlq", "dead-letter queues: what they hold and why, and replaying them")
    listing = dlq.add_parser("list", help="every dead-letter queue and its count; with QUEUE, its messages and why")
    listing.add_argument("queue", nargs="?", help="a dead-letter queue, or the queue it takes from (AccrualQueue)")
    listing.add_argument("--limit", type=int, default=50, help="messages shown (default 50)")
    listing.set_defaults(run=_list)
    redrive = dlq.add_parser("redrive", help="send every parked message back to the queue it came from")
    redrive.add_argument("queue", help="a dead-letter queue, or the queue it takes from (AccrualQueue)")
    redrive.set_defaults(run=_redrive)


def _list(args: argparse.Namespace) -> int:
    from loyalty_tools import dlq_cli

    return dlq_cli.list_messages(args.queue, args.limit) if args.queue else dlq_cli.list_queues()


def _redrive(args: argparse.Namespace) -> int:
    from loyalty_tools import dlq_cli

    return dlq_cli.redrive(args.queue)
