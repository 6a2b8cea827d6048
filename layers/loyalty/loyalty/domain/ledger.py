"""Ledger entries: what one change to a member's wallet records, and the outcome of writing it. Pure: the
ledger repository (adapters/ledger.py) writes them."""


from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain.campaigns import LastTouch
from loyalty.domain.details import Details
from loyalty.domain.wallet import Balance, Step


class Holder(BaseModel):
    """Who owns a wallet, as the member item says: what a flow needs to answer them."""

    model_config = ConfigDict(defer_build=True)

    member_id: str
    chat_id: int | None = None
    language: str = "ru"
    time_zone: str | None = None  # the one they chose (/timezone); letters keep to its daytime
    referred_by: str | None = None
    subscribed: bool = True
    last_touch: LastTouch | None = None
    name: str | None = None  # their first name as Telegram shows it (or an import's): a campaign may greet them by it
    interests: dict[str, list[str]] = Field(default_factory=dict)  # their profile's answers: a text may name them


class Kind(StrEnum):
    """What sort of change an entry is (/history words it by this)."""

    ACCRUAL = "accrual"
    REFUND = "refund_reversal"
    BONUS = "bonus"
    HOLD = "hold"
    COMMIT = "commit"
    RELEASE = "release"
    ACTIVATION = "activation"
    EXPIRY = "expiry"
    REMINDER = "expiry_reminder"
    LEVEL_REVIEW = "level_review"
    ADJUSTMENT = "adjustment"
    BOOST = "campaign_boost"
    OPENING = "opening_balance"  # points and level brought over from another loyalty system
    TRANSFER = "transfer"  # an imported member's points moved to the Telegram member who proved the phone
    FORFEIT = "forfeit"  # the member deleted their account: the points left are written off
    WITHDRAWAL = "campaign_withdrawal"  # a campaign's bonus taken back: its message never reached the member
    HELD_DECISION = "held_decision"  # the staff approved or rejected a purchase a fraud rule held
    HELD_LATER = "held_later"  # a purchase credited before its till was found farmed: its points wait for the staff
    PROFILE = "profile"  # the member gave a detail the program keeps in the wallet (the birthday): no points move


class Entry(BaseModel):
    """One change to a member's wallet: what it did to each balance, the balances after it, and why."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    member_id: str
    entry_id: str
    kind: Kind
    points: int  # the change to available plus pending: what a member calls "my points"
    change: Balance
    balance_after: Balance
    created_at: datetime
    details: Details = Field(default_factory=Details)


class Posting(BaseModel):
    """The outcome of writing one entry. `applied` is False when the entry was already there (a replay):
    `entry` is then the one written the first time, so follow-up effects repeat exactly."""

    model_config = ConfigDict(defer_build=True)

    entry: Entry
    applied: bool
    holder: Holder

    @property
    def points(self) -> int:
        return self.entry.points

    @property
    def details(self) -> Details:
        return self.entry.details

    @property
    def balance(self) -> Balance:
        return self.entry.balance_after


def entry_of(member_id: str, entry_id: str, kind: Kind, step: Step, created_at: datetime,
             details: Details | None = None) -> Entry:
    """The ledger entry a step makes: the flow's `details` (its cause) with the step's own on top."""
    return Entry(member_id=member_id, entry_id=entry_id, kind=kind, points=step.change.points, change=step.change,
                 balance_after=step.wallet.balance, created_at=created_at,
                 details=(details or Details()) | step.details)


class Cause(StrEnum):
    """What an entry records. Its id is the cause and the cause's own key (`receipt#<fiscal key>`), so the cause
    redelivered finds its entry written. Ids are built by `entry_id_of` and nowhere else."""

    RECEIPT = "receipt"  # a purchase's accrual; also the id of the lot it credits
    REFUND = "refund"
    HOLD = "hold"
    COMMIT = "commit"
    RELEASE = "release"
    ACTIVATION = "activate"
    EXPIRY = "expire"
    REMINDER = "remind"
    LEVEL_REVIEW = "review"
    ADJUSTMENT = "adjustment"
    CAMPAIGN = "campaign"  # a campaign's bonus or boost, keyed by the touch (campaign, step, occasion)
    IMPORT = "import"  # an import's opening balance (one per member)
    TRANSFER = "transfer"  # keyed by the other member: `to:<member>` on the source, `from:<member>` on the target
    ERASURE = "erase"  # /delete's write-off (one per member)
    HELD = "held"  # the staff's decision on a held purchase, keyed by its fiscal key
    DRAW = "draw"  # a spin of the prize draw, keyed by the member's own count of spins (a bonus entry)
    BIRTHDAY = "birthday"  # the date given (`set:<request>`), and the year's gift (`gift:<year>`, a bonus entry)


def entry_id_of(cause: Cause, key: str) -> str:
    return f"{cause}#{key}"


WELCOME_BONUS_ENTRY = "bonus#welcome"
OPENING_ENTRY = "import#opening"
REFERRED_BONUS_ENTRY = "bonus#referred"


def review_bonus_entry(review_id: str) -> str:
    return f"bonus#review:{review_id}"


def referrer_bonus_entry(invited_member_id: str) -> str:
    return f"bonus#referrer:{invited_member_id}"


def reversal_entry(fiscal_key: str) -> str:
    """The entry support's reversal of a purchase's credit writes: one per purchase, however often it is asked."""
    return entry_id_of(Cause.REFUND, f"console:{fiscal_key}")


def withdrawal_entry(touch_key: str) -> str:
    """The entry that takes back the bonus of touch `touch_key` (a campaign entry too, so reports count it there)."""
    return entry_id_of(Cause.CAMPAIGN, f"{touch_key}:withdrawn")


def campaign_of(entry_id: str) -> str | None:
    """The campaign a campaign entry (or the lot it credited) belongs to: `campaign#<name>:<step>:<occasion>`."""
    prefix = entry_id_of(Cause.CAMPAIGN, "")
    return entry_id[len(prefix):].split(":", 1)[0] if entry_id.startswith(prefix) else None


def bonus_of(entry_id: str) -> str | None:
    """Which bonus a bonus entry pays: welcome, review, referral or a spin's prize (None: not one of those)."""
    if entry_id == WELCOME_BONUS_ENTRY:
        return "welcome"
    if entry_id.startswith(review_bonus_entry("")):
        return "review"
    if entry_id == REFERRED_BONUS_ENTRY or entry_id.startswith(referrer_bonus_entry("")):
        return "referral"
    if entry_id.startswith(entry_id_of(Cause.DRAW, "")):
        return "draw"
    if entry_id.startswith(entry_id_of(Cause.BIRTHDAY, "gift:")):
        return "birthday"
    return None
