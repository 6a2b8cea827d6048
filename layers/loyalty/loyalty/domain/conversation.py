"""What the bot keeps of a conversation after a receipt: the follow-ups it scripted, and the tickets the brand's
staff decide on (adapters/bot_table.py stores them)."""


from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FollowUp(BaseModel):
    """A letter: a message that is not a direct answer, due at a moment, sent when the contact policy lets it
    (domain/contact.py). Scripted after a receipt (onboarding, nudge, survey: built when sent, from what is true
    then), or prepared by whoever posted it (a notice's texts, a campaign's message: `payload`)."""

    model_config = ConfigDict(defer_build=True)

    id: str
    member_id: str
    kind: str  # onboarding | nudge | survey | notice | campaign (domain/contact.py: Kind)
    name: str  # the onboarding branch, the nudge's name, "survey", the campaign's name, "notices"
    step: int = 0
    due_at: datetime
    scheduled_for: datetime | None = None  # when it was first due (its max delay counts from here): due_at if None
    fiscal_key: str = ""
    channel: str = ""
    store: str = ""
    goods: list[str] = []
    status: str = "scheduled"  # scheduled | sent | merged | skipped | dropped
    held: bool = False  # the policy moved it at least once (counted once)
    rating: int | None = None
    payload: dict[str, Any] = {}  # a notice's texts, a campaign's message: what is sent, as it was prepared
    links: list[str] = []  # a campaign letter's buttons' own addresses: each button opens its tracked link instead

    @property
    def first_due(self) -> datetime:
        return self.scheduled_for or self.due_at


class Ticket(BaseModel):
    """Something the staff chat decides on or answers: a complaint, a review proof, a reward order."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: str  # complaint | review | reward
    member_id: str
    followup_id: str = ""  # the survey it came from (a reward order has none); a held receipt's fiscal key
    status: str = "open"  # open | approved | rejected | answered | delivered (a reward order handed over)
    opened_at: str = ""  # when it came (the console's queue lists tickets by it)
