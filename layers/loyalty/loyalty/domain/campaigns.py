"""Campaigns, as a marketer writes them in the program file: who (a segment), what (a message per language,
an optional bonus), when (a ladder of lapses, a moment, or entering a segment) and what counts as success
(a receipt within N days). Which member a run reaches, and with what, is decided here. Pure: no I/O.

Kinds:
- `winback`: a ladder of `steps`, each `after_days` without a purchase. A member climbs it once per lapse (a
  lapse is named by the purchase it follows), and a purchase ends the lapse: the ladder stops.
- `broadcast`: once, at `at`, to everyone in the segment.
- `triggered`: to a member when a purchase brings them into the segment (not while they stay in it).
- `expiring`: the reminder before points expire (when `earning.expiry.reminder_days` says), once per lot.
"""


import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from string import Formatter
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.profile import PREFIX as INTEREST
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.segments import Member, Segment
from loyalty.domain.spans import MAX_DAYS

if TYPE_CHECKING:
    from loyalty.domain.facts import Facts
    from loyalty.domain.wallet import Wallet


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Button(_Strict):
    text: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https://", description="where the button leads: the brand's site, say")


# What may be unknown of a member: each takes a fallback. So does {interest_<id>:…}, a profile answer
# (domain/profile.py), whose ids the program checks against its profile.
PERSONAL = {"first_name", "level", "last_product"}
PLACEHOLDERS = {"balance", "points", "days", "until", "brand", "min_receipt", "balance_word", "points_word",
                "days_word", *PERSONAL}


class Personal:
    """A member's own word in a text: `{first_name:друг}` says "друг" where the first name is unknown."""

    def __init__(self, value: str | None):
        self.value = value

    def __format__(self, fallback: str) -> str:
        return self.value or fallback


class Message(_Strict):
    """One language's message. `text` may use {balance}, {points}, {days}, {until}, {brand} and {min_receipt},
    and {balance_word}, {points_word}, {days_word}: the word that agrees with the number (баллов, балла). It may
    greet the member by {first_name}, and name their {level} and {last_product}, each with a fallback for a member
    of whom it is unknown: {first_name:друг}."""

    text: str = Field(min_length=1, max_length=4096)
    image: str | None = Field(default=None, pattern=r"^https://", description="a picture sent above the text")
    buttons: list[Button] = Field(default_factory=list, max_length=3)

    @model_validator(mode="after")
    def _placeholders(self) -> "Message":
        try:
            used = {name for _, name, _, _ in Formatter().parse(self.text) if name is not None}
        except ValueError as error:
            raise ValueError(f"text: {error}") from error
        unknown = {name for name in used - PLACEHOLDERS if not name.startswith(INTEREST)}
        if unknown:
            raise ValueError(f"text: unknown placeholder {{{sorted(unknown)[0]}}}; use {sorted(PLACEHOLDERS)}")
        bare = sorted(name for _, name, spec, _ in Formatter().parse(self.text)
                      if name is not None and (name in PERSONAL or name.startswith(INTEREST)) and not spec)
        if bare:
            raise ValueError(f"text: {{{bare[0]}}} needs a fallback for a member of whom it is unknown: "
                             f"{{{bare[0]}:…}}")
        return self

    def keyboard(self) -> dict[str, Any] | None:
        """Its buttons as Telegram's reply markup, one a row (None: no buttons)."""
        rows = [[{"text": button.text, "url": button.url}] for button in self.buttons]
        return {"inline_keyboard": rows} if rows else None


class Bonus(_Strict):
    """Either points credited with the message, expiring sooner than any, or a higher accrual rate for a while."""

    points: int | None = Field(default=None, ge=1)
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_DAYS, description="the bonus points' own short life")
    multiplier: Decimal | None = Field(default=None, gt=1, description="times the member's rate on receipts ...")
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS, description="... accepted within this many days ...")
    min_receipt_roubles: int | None = Field(default=None, ge=1, description="... of at least this much")

    @model_validator(mode="after")
    def _one_kind(self) -> "Bonus":
        if (self.points is None) == (self.multiplier is None):
            raise ValueError("a bonus is either points (with expires_in_days) or a multiplier (with days)")
        if self.points is not None and (self.expires_in_days is None or self.days or self.min_receipt_roubles):
            raise ValueError("a points bonus takes expires_in_days, and nothing of a multiplier's")
        if self.multiplier is not None and (self.days is None or self.expires_in_days):
            raise ValueError("a multiplier takes days (and optionally min_receipt_roubles)")
        return self


class Variant(_Strict):
    """One of a campaign's variants: its own text, its own bonus, or both; what it does not say, the campaign says
    (a variant that says nothing of its own is the campaign as written: the one the others are compared with)."""

    label: str = Field(min_length=1, max_length=32, description="what the results call it: А, Б, «скидка»...")
    messages: dict[str, Message] | None = Field(default=None, description="by language, with ru")
    bonus: Bonus | None = None

    @model_validator(mode="after")
    def _something(self) -> "Variant":
        if self.messages is not None and "ru" not in self.messages:
            raise ValueError("a variant's messages need ru")
        return self


class Budget(_Strict):
    """The most points a campaign's bonuses may give: in all, and to one member. A points bonus takes its points from
    it when it is given; a multiplier, the extra points each boosted receipt earns. When the rest cannot pay a
    member's bonus, the campaign stops there: a message that promises a bonus is not sent without it."""

    total_points: int | None = Field(default=None, ge=1)
    per_member_points: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _something(self) -> "Budget":
        if self.total_points is None and self.per_member_points is None:
            raise ValueError("a budget caps the points in total, per member, or both")
        return self


class Goal(_Strict):
    """A delivery converts when the member's next accepted receipt comes within `within_days` (in `channel`)."""

    within_days: int = Field(default=7, ge=1, le=MAX_DAYS)
    channel: str | None = None


class Step(_Strict):
    after_days: int = Field(ge=1, le=MAX_DAYS, description="days since the last purchase")
    messages: dict[str, Message] = Field(description="by language; ru is required")
    bonus: Bonus | None = None


class Campaign(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str | None = Field(default=None, description="what the report calls it, in Russian (its name if none)")
    kind: Literal["winback", "broadcast", "triggered", "expiring"]
    segment: str | None = Field(default=None, description="a name from `segments`; none: every member")
    steps: list[Step] = Field(default_factory=list, description="winback: the ladder, shortest lapse first")
    messages: dict[str, Message] = Field(default_factory=dict, description="broadcast, triggered: by language")
    bonus: Bonus | None = None
    at: datetime | None = Field(default=None, description="broadcast: when it goes out")
    send_hours: tuple[int, int] = Field(default=(10, 21), description="winback: the Moscow hours its runs reach "
                                        "members in (from, until); a lapse found at night waits for the morning")
    goal: Goal = Field(default_factory=Goal)
    budget: Budget | None = None
    variants: list[Variant] = Field(default_factory=list, max_length=3, description="broadcast, triggered: up to 3 "
                                    "texts or bonuses, each member kept in one by their id; the results compare them")
    holdout_percent: int = Field(default=0, ge=0, le=50, description="the share of its audience kept back, sent "
                                 "nothing: their purchases within the goal are what the campaign's would have been "
                                 "without it (its uplift)")

    @model_validator(mode="after")
    def _shape(self) -> "Campaign":
        if self.budget is not None and self.bonus is None and not any(step.bonus for step in self.steps):
            raise ValueError("budget: the campaign gives no bonus to cap")
        if self.variants and (self.kind not in ("broadcast", "triggered") or len(self.variants) < 2):
            raise ValueError("variants: a broadcast or a triggered campaign may have 2 or 3")
        if self.kind == "expiring" and self.holdout_percent:
            raise ValueError("holdout_percent: the expiry reminder is owed to everyone; nobody is kept back from it")
        if self.kind == "winback":
            if not self.steps or self.messages or self.bonus or self.at:
                raise ValueError("a winback campaign has steps (each with its messages and bonus), and no more")
            days = [step.after_days for step in self.steps]
            if not 0 <= self.send_hours[0] < self.send_hours[1] <= 24:
                raise ValueError("send_hours: from and until are hours of the day, from first")
            if days != sorted(set(days)):
                raise ValueError("steps: after_days must grow from step to step")
            if any("ru" not in step.messages for step in self.steps):
                raise ValueError("steps: every step needs a message in ru")
        else:
            if self.steps or "ru" not in self.messages:
                raise ValueError(f"a {self.kind} campaign has messages (with ru), not steps")
            if (self.kind == "broadcast") != (self.at is not None):
                raise ValueError("`at` is when a broadcast goes out, and only a broadcast has it")
            if self.kind == "triggered" and self.segment is None:
                raise ValueError("a triggered campaign fires on entering its segment: name one")
        return self

    def sends_at(self, now: datetime) -> bool:
        start, end = self.send_hours
        return start <= now.astimezone(MOSCOW).hour < end

    def step(self, index: int) -> Step:
        """The ladder's step; or, for a campaign with variants, the variant; or the campaign itself as its only step."""
        if self.steps:
            return self.steps[index]
        if self.variants:
            variant = self.variants[index]
            return Step(after_days=1, messages=variant.messages or self.messages,
                        bonus=variant.bonus if variant.bonus is not None else self.bonus)
        return Step(after_days=1, messages=self.messages, bonus=self.bonus)

    def variant_of(self, member_id: str) -> int:
        """The member's variant: the same in every run and process, drawn apart from the holdout's draw."""
        return _draw(f"variant:{self.name}:{member_id}") % len(self.variants) if self.variants else 0

    def touch(self, member_id: str, occasion: str) -> "Touch":
        """The member's touch for a broadcast's or a triggered campaign's occasion, in their variant (its step)."""
        step = self.variant_of(member_id)
        return Touch(campaign=self.name, step=step, member_id=member_id, key=f"{self.name}:{step}:{occasion}")


class LastTouch(_Strict):
    """The last campaign message delivered to a member: a purchase after it, within its goal, converts it
    (the last touch wins)."""

    campaign: str
    key: str  # the touch's key in the campaigns table
    delivered_at: datetime
    until: datetime
    channel: str | None = None
    held_out: bool = False  # kept back by the campaign's holdout: its purchase counts against the campaign's

    def converted_by(self, purchased_at: datetime, channel: str) -> bool:
        return self.delivered_at < purchased_at <= self.until and self.channel in (None, channel)


class Touch(_Strict):
    """One member to reach in one run: which campaign step, and the key that makes it happen once."""

    campaign: str
    step: int
    member_id: str
    key: str  # campaign:step:occasion — the lapse (its purchase), the broadcast, the entry into the segment


HELD_OUT = "held_out"  # a touch's status: kept back by the holdout, sent nothing


def held_out(campaign: Campaign, member_id: str) -> bool:
    """Whether the member is in the campaign's holdout: a stable draw from their id and the campaign's name, so a
    member stays on one side of one campaign and the sides of two campaigns are drawn apart."""
    return campaign.holdout_percent > 0 and _draw(f"holdout:{campaign.name}:{member_id}") < campaign.holdout_percent


def _draw(seed: str) -> int:
    """A number in 0..99, the same for the same seed in every process (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % 100


def winback_touch(campaign: Campaign, member_id: str, facts: "Facts", now: datetime) -> Touch | None:
    """The ladder step a member is on now: the highest one their lapse has reached (a member found late is
    not sent the steps they passed), once per lapse."""
    lapse = facts.days_since_last_purchase(now)
    if lapse is None or facts.last_purchase_at is None:
        return None
    reached = [index for index, step in enumerate(campaign.steps) if lapse >= step.after_days]
    if not reached:
        return None
    occasion = facts.last_purchase_at.isoformat()
    return Touch(campaign=campaign.name, step=reached[-1], member_id=member_id,
                 key=f"{campaign.name}:{reached[-1]}:{occasion}")


def lapse_window(campaign: Campaign, step: int, since: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The last purchases whose lapse reached step `step` between two runs: (since - days, now - days]."""
    days = timedelta(days=campaign.steps[step].after_days)
    return since - days, now - days


def member_of(wallet: "Wallet", now: datetime, source: str = "organic", subscribed: bool = True,
              rating: int | None = None, recommends: int | None = None,
              interests: dict[str, list[str]] | None = None) -> Member:
    """What a segment reads about the member whose wallet this is (and whose survey and profile answers these are)."""
    expiring = tuple((lot.expires_at, lot.points) for _, lot in wallet.spendable(now) if lot.expires_at is not None)
    return Member(facts=wallet.facts, level=wallet.level, balance=wallet.spendable_points(now), expiring=expiring,
                  source=source, subscribed=subscribed, rating=rating, recommends=recommends,
                  interests=interests or {})


def entered(segment: Segment, before: Member, after: Member, now: datetime) -> bool:
    """A member entered the segment with this change (a triggered campaign fires once per entry)."""
    return segment.matches(after, now) and not segment.matches(before, now)


def touch_key(touch: Touch) -> str:
    """Where a touch is recorded: one per member and moment, so a rerun touches nobody twice."""
    return f"touch#{touch.member_id}#{touch.key}"


def touch_of(recorded: str) -> str:
    """A touch's own key (which its bonus's ledger entry is keyed on) from where it is recorded (`touch_key`)."""
    return recorded.split("#", 2)[2] if recorded.startswith("touch#") and recorded.count("#") >= 2 else recorded


class TouchRecord(BaseModel):
    """A touch as the campaigns table records it: delivered or not, converted or not."""

    model_config = ConfigDict(defer_build=True)

    campaign: str
    key: str
    member_id: str
    step: int
    status: str  # queued | delivered | blocked | stopped | dropped | held_out
    queued_at: str
    delivered_at: str | None = None
    converted_at: str | None = None
    revenue_kopecks: int = 0
    points_given: int = 0
