"""Posting letters: a message that is not a direct answer is kept in the bot table, due at a moment, and the postman
(flows/followups.py) sends it when the contact policy lets it (domain/contact.py). Ids are keyed: a repeated cause
posts nothing twice, and no id names the member.

- A notice (points available, expiring, expired; a promo code back; a level reviewed) keeps its texts and their
  values, so notices due together are merged into one message, the balance told once, as it is when sent.
- A campaign's message keeps the message itself (its bonus was paid when the member was reached). The brand's
  expiry reminder (a campaign of kind expiring) is a reminder: points news, not counted toward the caps.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import CampaignMessage
from loyalty.domain.contact import Kind
from loyalty.domain.conversation import FollowUp
from loyalty.domain.messages import render

if TYPE_CHECKING:
    from pydantic import BaseModel

    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program
    from loyalty.flows.ports import FollowUpStore

NOTICES = "notices"  # the campaign name notices are counted under (`loyalty campaign stats notices`)
BALANCE = "balance_now"  # the text that tells the balance: once, at the end of a merged message


class Letters:
    def __init__(self, store: FollowUpStore, keyed: Keyed):
        self.store = store
        self.keyed = keyed

    def notice(self, member_id: str, chat_id: int, language: str, dedupe_key: str,
               parts: list[tuple[str, dict[str, Any]]], due_at: datetime) -> bool:
        """A notice's texts (catalog keys and their values), due at `due_at`."""
        return self.store.schedule(FollowUp(
            id=self.keyed.id("letter", dedupe_key), member_id=member_id, kind=Kind.NOTICE, name=NOTICES,
            due_at=due_at, payload={"chat_id": chat_id, "language": language,
                                    "parts": [[key, params] for key, params in parts]}))


class CampaignLetters:
    """Touches' queue where a campaign's message becomes a letter, due now."""

    def __init__(self, letters: Letters, program: Program, link_base: str = ""):
        self.letters = letters
        reminder = program.expiry_reminder
        self.reminders = {reminder.name} if reminder else set()
        self.link_base = link_base  # the HTTP API's address: a button opens /go/<letter>-<n>, which counts the click

    def put(self, message: BaseModel) -> None:
        assert isinstance(message, CampaignMessage), "only a campaign's message is a letter"
        letter_id = self.letters.keyed.id("letter", message.touch)
        links: list[str] = []
        if self.link_base and message.reply_markup:
            message, links = _tracked(message, self.link_base, letter_id)
        self.letters.store.schedule(FollowUp(
            id=letter_id, member_id=message.member_id,
            kind=Kind.REMINDER if message.campaign in self.reminders else Kind.CAMPAIGN, name=message.campaign,
            due_at=message.queued_at or clock.now(), payload=message.model_dump(mode="json"), links=links))


def tracked_link(link_base: str, letter_id: str, button: int | None = None) -> str:
    """The address a letter's button opens: it counts the click, then redirects to the brand's page. A nudge's one
    button is the letter's own; a campaign's buttons are numbered."""
    return f"{link_base.rstrip('/')}/go/{letter_id}" + (f"-{button}" if button is not None else "")


def _tracked(message: CampaignMessage, link_base: str, letter_id: str) -> tuple[CampaignMessage, list[str]]:
    """The message with each URL button opening its tracked link, and the buttons' own addresses, in order."""
    links: list[str] = []
    rows = []
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        buttons = []
        for button in row:
            if "url" in button:
                links.append(button["url"])
                button = {**button, "url": tracked_link(link_base, letter_id, len(links) - 1)}
            buttons.append(button)
        rows.append(buttons)
    return message.model_copy(update={"reply_markup": {"inline_keyboard": rows}}), links


def merged_text(notices: list[FollowUp], language: str, balance: int) -> str:
    """Notices due together as one message: each one's texts in the order they fell due, the balance once, as it is
    now."""
    lines, told_balance = [], False
    for notice in sorted(notices, key=lambda letter: (letter.first_due, letter.id)):
        texts = [render(key, language, **params) for key, params in notice.payload.get("parts", []) if key != BALANCE]
        told_balance = told_balance or any(key == BALANCE for key, _ in notice.payload.get("parts", []))
        lines.append(" ".join(texts))
    if told_balance:
        lines[-1] = f"{lines[-1]} {render(BALANCE, language, balance=balance)}"
    return "\n\n".join(lines)
