"""A member of the program as the members table keeps them (adapters/members.py): who they are to the bot, what
they agreed to, and the balances the ledger writes."""


from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def imported_member_id(phone: str) -> str:
    """The member an import makes of a phone without a Telegram id, until a shopper proves the phone in the bot."""
    return f"phone:{phone}"


class Member(BaseModel):
    model_config = ConfigDict(defer_build=True)

    member_id: str
    chat_id: int | None = None  # None: imported, never talked to the bot
    language: str = "ru"
    phone: str | None = None
    available: int = 0  # the balances are written by the ledger (adapters/ledger.py), in its transactions
    pending: int = 0
    held: int = 0
    debt: int = 0
    level: str | None = None
    referred_by: str | None = None
    version: int = 0
    pending_receipt: str | None = None  # a ReceiptSubmitted sent before the phone, as JSON
    phone_before: str | None = None  # save_phone only: the phone the member had before this one
    joined_at: str
    joined_via: str = "organic"  # a /start link's source (insert:wb), campaign:<name>, referral, organic, import
    subscribed: bool = True  # False once they blocked the bot: no campaign reaches them
    last_touch: dict[str, Any] | None = None  # the last campaign message delivered (attribution)
    name: str | None = None  # their first name as Telegram shows it, or an import's: a campaign may greet them by it
    merged_into: str | None = None  # an imported member whose points moved to the shopper who proved the phone
    language_choice: str | None = None  # set with /language: wins over the Telegram app's language
    time_zone: str | None = None  # set with /timezone: wins over the zone of the member's language
    consented_at: str | None = None  # when they accepted the program rules (by sharing the phone) …
    rules_url: str | None = None  # … and which rules
    awaiting: dict[str, Any] | None = None  # what the bot waits for: {kind, about, until}
    erased_at: str | None = None  # /delete: personal data erased, the anonymised ledger kept …
    anonymous_id: str | None = None  # … under this random key, which nothing else names
    username_marker: str | None = None  # the keyed marker of their @username: support finds them by it
    survey_rating: int | None = None  # their last survey answer, 1–5 (a segment may ask for it)
    survey_recommends: int | None = None  # their last "would you recommend us", 0–10
    interests: dict[str, list[str]] = Field(default_factory=dict)  # the profile's answers (domain/profile.py)
    suspect: list[str] = []  # fraud rules the member trips as a person (domain/fraud.py): their receipts are held
    wallet: str | None = None  # the wallet as the ledger keeps it (JSON): passed on as read (`seen`), never read here
    figures_past: str | None = None  # … and the figures' past of their purchases, as the ledger keeps it

    def seen(self) -> dict[str, Any]:
        """The member item as the ledger reads it (adapters/ledger.py), to pass on with what this read led to: the
        ledger writes from it first and reads the item only if it changed meanwhile (its version says)."""
        return self.model_dump(include=set(LEDGER_READS), exclude_none=True)


# What the ledger reads of a member item (adapters/ledger.py projects exactly these): the wallet, its version, its
# holder, the figures' past.
LEDGER_READS = ("member_id", "wallet", "version", "chat_id", "language", "time_zone", "referred_by", "subscribed",
                "last_touch", "figures_past")
