"""`loyalty campaign dry-run | run | stats NAME`: a marketer's campaign."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from loyalty_tools.commands import Subcommands, aware_time, group, program, tables


def register(commands: Subcommands) -> None:
    campaign = group(commands, "campaign", "campaigns: who they reach, running them, what they earned")
    dry = campaign.add_parser("dry-run", help="the audience a run would reach, sending nothing")
    run_one = campaign.add_parser("run", help="run it now (or --at), with a progress bar")
    stats = campaign.add_parser("stats", help="audience, delivered, blocked, converted, revenue, points (of a "
                                "campaign or a bot nudge)")
    for sub in (dry, run_one, stats):
        sub.add_argument("name")
        program(sub)
        tables(sub, "campaigns", "bot")
        sub.add_argument("--campaign-queue-url", default=os.environ.get("CAMPAIGN_QUEUE_URL"))
        sub.add_argument("--crm-queue-url", default=os.environ.get("CRM_QUEUE_URL"))
        sub.add_argument("--stack-key-name", default=os.environ.get("STACK_KEY_NAME", "/loyalty/stack-key"),
                         help="the stack's key: its SSM parameter (the StackKeySecretName template parameter)")
    for sub in (dry, run_one):
        sub.add_argument("--at", type=aware_time, help="as of this moment (ISO 8601; default: now)")
    for sub in (dry, stats):
        sub.add_argument("--json", action="store_true", help="one JSON object")
    dry.set_defaults(run=_dry_run)
    run_one.set_defaults(run=_run)
    stats.set_defaults(run=_stats)


def _stack(args: argparse.Namespace) -> Any:
    from loyalty_tools import campaign_cli

    return campaign_cli.Stack(program=args.program, members_table=args.members_table,
                              ledger_table=args.ledger_table, campaigns_table=args.campaigns_table,
                              bot_table=args.bot_table, campaign_queue_url=args.campaign_queue_url,
                              crm_queue_url=args.crm_queue_url, stack_key_name=args.stack_key_name)


def _dry_run(args: argparse.Namespace) -> int:
    from loyalty_tools import campaign_cli

    return campaign_cli.dry_run(_stack(args), args.name, args.at, args.json, out=sys.stdout)


def _run(args: argparse.Namespace) -> int:
    from loyalty_tools import campaign_cli

    return campaign_cli.run(_stack(args), args.name, args.at, out=sys.stdout)


def _stats(args: argparse.Namespace) -> int:
    from loyalty_tools import campaign_cli

    return campaign_cli.stats(_stack(args), args.name, args.json, out=sys.stdout)
