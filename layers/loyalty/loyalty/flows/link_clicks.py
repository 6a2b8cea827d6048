"""GET /go/<follow-up id>: a nudge's link, counted, then redirected to the brand's page. A click is counted in the
nudge's figures once per message (a second click, a link preview, a refresh count as none), and an unknown id goes
to the brand's site rather than to an error page."""

from __future__ import annotations

from loyalty.domain.program import Program
from loyalty.flows.ports import CampaignFigures, FollowUpStore
from loyalty.observability import logger, metrics


class LinkClicks:
    def __init__(self, program: Program, table: FollowUpStore, figures: CampaignFigures, fallback: str):
        self.program = program
        self.table = table
        self.figures = figures
        self.fallback = fallback  # where an unknown or broken link leads

    def follow(self, followup_id: str) -> str:
        """The address to redirect to, the click counted."""
        followup = self.table.followup(followup_id) if followup_id.isalnum() and len(followup_id) <= 16 else None
        nudge = self.program.bot.nudge(followup.name) if followup is not None and followup.kind == "nudge" else None
        if followup is None or nudge is None:
            logger.info("unknown tracked link", extra={"followup": followup_id[:32]})
            return self.fallback
        if self.table.clicked(followup_id):
            self.figures.add(nudge.name, clicks=1)
            metrics.add_metric(name="NudgeClicks", unit="Count", value=1)
            logger.info("nudge link clicked", extra={"nudge": nudge.name, "member_id": followup.member_id})
        return nudge.link.url
