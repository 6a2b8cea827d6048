"""`loyalty campaign dry-run | run | stats NAME`: a marketer's campaign, against a deployed stack (the AWS
configuration) or the local one (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from loyalty import clock
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.program_file import load_program
from loyalty.domain.campaigns import Campaign
from loyalty.flows.campaigns import Campaigns
from loyalty.flows.followups import SURVEY
from loyalty.flows.letters import NOTICES
from loyalty.settings import CampaignsSettings
from loyalty.wiring.campaigns import campaigns
from loyalty_tools.queues import CRM_QUEUE, queue_url

_SAMPLE = 10


@dataclass(frozen=True, kw_only=True)
class Stack:
    program: Path
    members_table: str = "MembersTable"
    ledger_table: str = "LedgerTable"
    campaigns_table: str = "CampaignsTable"
    bot_table: str = "BotTable"
    console_table: str = "ConsoleTable"  # the campaigns made in the console
    campaign_queue_url: str | None = None  # None: the queue named CampaignQueue (the local stack's)
    crm_queue_url: str | None = None  # None: the local stack's CrmQueue
    stack_key_name: str = "/loyalty/stack-key"  # the SSM parameter the campaign's letters' ids are keyed with

    def campaigns(self) -> Campaigns:
        """The campaigns run as the stack's function has it: a reached member's message is a letter, which the
        postman sends as the contact policy lets it."""
        return campaigns(CampaignsSettings(
            MEMBERS_TABLE=self.members_table, LEDGER_TABLE=self.ledger_table, CAMPAIGNS_TABLE=self.campaigns_table,
            CAMPAIGN_QUEUE_URL=queue_url(self.campaign_queue_url, "CampaignQueue"),
            CRM_QUEUE_URL=queue_url(self.crm_queue_url, CRM_QUEUE), PROGRAM_FILE=str(self.program),
            BOT_TABLE=self.bot_table, CONSOLE_TABLE=self.console_table, STACK_KEY_NAME=self.stack_key_name,
            OUTBOX_QUEUE_URL="", ACCRUAL_QUEUE_URL=""))  # the postman's: not this run's


def dry_run(stack: Stack, name: str, at: datetime | None, as_json: bool, out: TextIO = sys.stdout) -> int:
    """Who a run at `at` would reach, sending nothing and writing nothing."""
    campaign = _campaign(stack, name, out)
    if campaign is None:
        return 2
    at = at or clock.now()
    members = [touch.member_id for touch, _ in stack.campaigns().select(campaign, at)]
    report = {"campaign": name, "at": at.isoformat(), "audience": len(members), "sample": members[:_SAMPLE]}
    if as_json:
        print(json.dumps(report, ensure_ascii=False), file=out)
    else:
        print(f"{name} at {report['at']}: {len(members)} members; for example {', '.join(members[:_SAMPLE]) or '—'}",
              file=out)
    return 0


def run(stack: Stack, name: str, at: datetime | None, out: TextIO = sys.stdout) -> int:
    """Run the campaign now (or as of `at`), with a progress bar while it reaches its members."""
    from tqdm import tqdm

    campaign = _campaign(stack, name, out)
    if campaign is None:
        return 2
    at = at or clock.now()
    flow = stack.campaigns()
    selected = list(flow.select(campaign, at))
    with tqdm(total=len(selected), desc=name, unit="member", file=sys.stderr) as bar:
        reached = flow.reach(campaign, selected, at, progress=lambda: bar.update(1))
    print(json.dumps({"campaign": name, "selected": len(selected), "reached": reached}), file=out)
    return 0


def stats(stack: Stack, name: str, as_json: bool, out: TextIO = sys.stdout) -> int:
    """A campaign's counters, or a nudge's (the bot's nudges keep the same ones, and their link clicks)."""
    scripted = name in (NOTICES, SURVEY) or name.startswith("onboarding_")  # letters the contact policy counts
    if not scripted and load_program(stack.program).bot.nudge(name) is None and _campaign(stack, name, out) is None:
        return 2
    figures = CampaignStore(stack.campaigns_table).stats(name)
    delivered = figures["delivered"]
    conversion = round(100 * figures["converted"] / delivered, 1) if delivered else 0
    figures_out = {**figures, "sent": delivered + figures["blocked"], "conversion_percent": conversion}
    if as_json:
        print(json.dumps({"campaign": name, **figures_out}), file=out)
        return 0
    labels = {"audience": "reached (queued)", "sent": "sent to Telegram", "delivered": "delivered",
              "blocked": "blocked the bot",
              "converted": "converted", "conversion_percent": "conversion, % of delivered",
              "revenue_kopecks": "revenue, RUB", "points_given": "points given", "points_spent": "points spent",
              "clicks": "link clicks", "held": "held (quiet hours, caps)", "merged": "merged into one",
              "dropped": "dropped (waited too long)", "stopped": "dropped (campaign stopped)"}
    print(f"campaign {name}", file=out)
    for key, label in labels.items():
        value = figures_out[key]
        shown = f"{value / 100:,.2f}" if key == "revenue_kopecks" else f"{value:,}"
        print(f"  {label:<28}{shown:>14}", file=out)
    return 0


def _campaign(stack: Stack, name: str, out: TextIO) -> Campaign | None:
    campaign = load_program(stack.program).campaign(name)
    if campaign is None:
        print(json.dumps({"error": f"no campaign {name!r} in {stack.program}"}, ensure_ascii=False), file=out)
    return campaign
