"""What a ledger entry says about itself besides its points: every key any entry records, typed.

The wallet's operations fill in what they did (the lot, what was credited, taken or returned), the program's
postings add the level and the purchase's rate, and the flow adds the cause (the receipt, the order, the
operator's reason). One model for all kinds keeps the stored shape flat and every key named once: a key
misspelt where it is written or read is a type error, and an unknown key a validation error.
"""


from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class BoughtLine(BaseModel):
    """One of the brand's lines on a purchase, as the entry keeps it: what the CRM gets with the order."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: str
    sum_kopecks: int
    quantity: str = "1"
    gtin: str | None = None


class MovedLot(BaseModel):
    """A lot moved from one member to another (an imported member's points to the one who proved the phone)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    lot: str
    points: int
    available_at: datetime
    expires_at: datetime | None = None
    label: str = ""


class Details(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    # what the step touched
    lot: str | None = None  # the lot credited, activated or expired
    hold: str | None = None
    lots: dict[str, int] = {}  # points taken from each lot (a hold, a refund, a deduction)
    reminded: list[str] = []  # the lots an expiry reminder is about
    # what it did, in points
    credited: int = 0
    debt_paid: int = 0
    activated: int = 0
    expired: int = 0
    points: int = 0  # the points a reminder is about
    spent: int = 0
    returned: int = 0
    reversed: int = 0
    shortfall: int = 0  # what a refund could not take back: now debt
    # when
    available_at: datetime | None = None
    expires_at: datetime | None = None
    # a purchase under the program's rules
    percent: str | None = None  # the level's rate the purchase earned at
    earned: int = 0  # before the caps
    capped: int = 0  # points a cap cut off
    pending: bool = False
    first_purchase: bool = False
    level_before: str | None = None
    level: str | None = None
    level_move: str | None = None  # up, down, kept or None (nothing to say)
    # the cause, as the flow knows it
    fiscal_key: str | None = None
    reverses: str | None = None  # the purchase a refund takes back
    channel: str | None = None
    store: str | None = None
    brand_sum_kopecks: int = 0  # a purchase's brand goods; a refund's refunded share of them
    categories: list[str] = []  # of the brand's goods bought
    lines: list[BoughtLine] = []  # the brand's goods bought (the CRM's order lines)
    purchased_at: datetime | None = None  # when the receipt was issued
    whole: bool = False  # a refund that returned everything the purchase earned on
    submission_id: str | None = None
    challenges: list[str] = []  # the challenges this entry completed a round of (their rewards are in it)
    challenge_points: int = 0  # the points those rewards credited
    spins: int = 0  # spins of the prize draw a receipt earned (its challenges' are in their rewards)
    spin: int | None = None  # a spin's entry: the member's own number of it (domain/draw.py)
    prize: str | None = None  # ... and the prize it won (a draw prize's id); none: no prize
    birthday: int | None = None  # a birthday gift's year (its points are the entry's; none: below its level)
    label: str = ""  # where the points came from, in the program's words
    referral: str | None = None  # the other member of an invitation
    order_id: str | None = None
    order_kopecks: int = 0  # the whole total of an order paid with points, as the site told it
    code: str | None = None  # a promo code
    promo: bool = False
    request: str | None = None  # fingerprint of the request that placed a hold
    reason: str | None = None  # why a hold went back; an operator's adjustment
    entered: list[str] = []  # triggered campaigns whose segment this purchase brought the member into
    campaign: str | None = None  # the campaign that paid a bonus or boost, or whose boost a purchase earned at
    multiplier: str | None = None  # a campaign's boost
    boost_points: int | None = None  # what a campaign's boost added to a purchase's points (its budget's spend)
    moved: list[MovedLot] = []  # the lots a transfer took from one member and gave to another
    transfer: str | None = None  # the other member of a transfer
    reward: str | None = None  # the catalog reward a hold or commit is for
    held_by: list[str] = []  # the fraud rules a purchase tripped: pending until the staff decide
    approved: bool | None = None  # the staff's decision on a held purchase

    def __or__(self, other: "Details") -> "Details":
        """These details with what `other` sets on top (the flow's cause added to the step's outcome)."""
        return Details.model_validate({**self.stored(), **other.model_dump(exclude_unset=True)})

    def stored(self) -> dict[str, Any]:
        """As the ledger table keeps them: only what was set."""
        return self.model_dump(mode="json", exclude_unset=True, exclude_defaults=True)
