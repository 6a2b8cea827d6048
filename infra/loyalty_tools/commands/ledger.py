"""`loyalty ledger verify | adjust`: prove the balances, and correct one by hand."""

from __future__ import annotations

import argparse
import os
import sys

from loyalty_tools.commands import Subcommands, group, program, tables


def register(commands: Subcommands) -> None:
    ledger = group(commands, "ledger", "check and correct the points ledger")
    verify = ledger.add_parser("verify", help="prove every balance equals its ledger entries")
    tables(verify)
    verify.set_defaults(run=_verify)
    adjust = ledger.add_parser("adjust", help="credit (or, negative, take) points by hand, with a reason")
    tables(adjust)
    adjust.add_argument("member_id")
    adjust.add_argument("points", type=int)
    adjust.add_argument("--reason", required=True, help="why: it is kept in the entry and shown to the member")
    adjust.add_argument("--reference", required=True, help="a ticket number: the same reference adjusts once")
    program(adjust)
    adjust.add_argument("--crm-queue-url", default=os.environ.get("CRM_QUEUE_URL"),
                        help="the stack's CrmQueueUrl output (default: the local stack's)")
    adjust.set_defaults(run=_adjust)


def _verify(args: argparse.Namespace) -> int:
    from loyalty_tools import ledger_cli

    return ledger_cli.verify(args.members_table, args.ledger_table, out=sys.stdout)


def _adjust(args: argparse.Namespace) -> int:
    from loyalty_tools import ledger_cli

    return ledger_cli.adjust(args.members_table, args.ledger_table, args.program, args.member_id, args.points,
                             args.reason, args.reference, args.crm_queue_url, out=sys.stdout)
