"""`loyalty crm resync MEMBER|--all`: rebuild the CRM's view of members from our own books."""

from __future__ import annotations

import argparse
import os
import sys

from loyalty_tools.commands import Subcommands, group, program, tables


def register(commands: Subcommands) -> None:
    crm = group(commands, "crm", "the brand's CRM: rebuild what it knows of members")
    resync = crm.add_parser("resync", help="send a member's profile, level, orders and points changes again "
                            "(the CRM applies what it lacks, once)")
    who = resync.add_mutually_exclusive_group(required=True)
    who.add_argument("member_id", nargs="?", help="the member (their Telegram id)")
    who.add_argument("--all", action="store_true", help="every member")
    tables(resync)
    program(resync)
    resync.add_argument("--crm-queue-url", default=os.environ.get("CRM_QUEUE_URL"),
                        help="the stack's CrmQueueUrl output (default: the local stack's)")
    resync.set_defaults(run=_resync)


def _resync(args: argparse.Namespace) -> int:
    from loyalty_tools import crm_cli

    return crm_cli.resync(args.members_table, args.ledger_table, args.program, args.crm_queue_url,
                          None if args.all else args.member_id, out=sys.stdout)
