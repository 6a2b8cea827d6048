"""What the bot keeps of a conversation after a receipt: the follow-ups it scripted, and the tickets the brand's
staff decide on (adapters/bot_table.py stores them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class FollowUp(BaseModel):
    """A scripted message after a receipt: what it is, to whom, when, and what it is about."""

    id: str
    member_id: str
    kind: str  # onboarding | nudge | survey
    name: str  # the onboarding branch, the nudge's name, "survey"
    step: int = 0
    due_at: datetime
    fiscal_key: str = ""
    channel: str = ""
    store: str = ""
    goods: list[str] = []
    status: str = "scheduled"  # scheduled | sent | skipped
    rating: int | None = None


class Ticket(BaseModel):
    """Something the staff chat decides on or answers: a complaint, a review proof, a reward order."""

    id: str
    kind: str  # complaint | review | reward
    member_id: str
    followup_id: str = ""  # the survey it came from (a reward order has none)
    status: str = "open"  # open | approved | rejected | answered
