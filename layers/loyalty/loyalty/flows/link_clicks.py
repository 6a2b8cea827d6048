"""GET /go/<letter>: a nudge's link, or a campaign message's button (/go/<letter>-<n>), counted, then redirected to
the brand's page. A click is counted in the nudge's or the campaign's figures once per message (a second click, a
link preview, a refresh count as none), and an unknown id goes to the brand's site rather than to an error page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.conversation import FollowUp
    from loyalty.domain.program import Program
    from loyalty.flows.ports import CampaignFigures, FollowUpStore


class LinkClicks:
    def __init__(self, program: Program, table: FollowUpStore, figures: CampaignFigures, fallback: str):
        self.program = program
        self.table = table
        self.figures = figures
        self.fallback = fallback  # where an unknown or broken link leads

    def follow(self, link: str) -> str:
        """The address to redirect to, the click counted: `link` is a nudge's letter, or a campaign letter's button
        (`<letter>-<n>`)."""
        followup_id, _, button = link.partition("-")
        followup = self.table.followup(followup_id) if followup_id.isalnum() and len(followup_id) <= 16 else None
        address = self._address(followup, button) if followup is not None else None
        if followup is None or address is None:
            logger.info("unknown tracked link", extra={"followup": link[:32]})
            return self.fallback
        if self.table.clicked(followup_id):  # once per message, whichever of its buttons
            self.figures.add(followup.name, clicks=1)
            logger.info("link clicked", extra={"followup": followup.name})
            logger.info("tracked link clicked", extra={"campaign": followup.name, "member_id": followup.member_id})
        return address

    def _address(self, followup: FollowUp, button: str) -> str | None:
        """Where the letter's link leads: the nudge's page, or the campaign button's own address."""
        if followup.kind == "nudge" and not button:
            nudge = self.program.bot.nudge(followup.name)
            return nudge.link.url if nudge is not None else None
        if button.isdigit() and int(button) < len(followup.links):
            return followup.links[int(button)]
        return None
