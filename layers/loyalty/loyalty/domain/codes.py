"""The short codes a shopper reads or types: promo codes, invitation codes, the ids in a button's callback data.

No 0/O, 1/I: a shopper reads a code off a phone, aloud or from a screenshot, and types it into a checkout form.
"""


import secrets

from pydantic import BaseModel, ConfigDict

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class PromoCode(BaseModel):
    """A one-time code the bot issued, pointing at the hold that reserves its points."""

    model_config = ConfigDict(defer_build=True)

    code: str
    member_id: str
    hold_id: str
    points: int
    expires_at: str


def new_code(length: int = 8) -> str:
    """A random code (a promo code, an invitation)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """A code as typed ("abcd-2345 ") as it was issued ("ABCD2345")."""
    return "".join(text.split()).upper().replace("-", "")
