"""The program's defences against points taken dishonestly (the program file's `fraud:`), as pure rules.

- **Submissions**: how many receipts (a QR code, a photo, a file) one member may send a minute and a day. Checked
  in the webhook before anything is queued, so nobody makes the bot pay the receipt service for invented codes.
- **Suspicion rules**, each with a threshold: a receipt that trips one is *held*. Its points stay pending until the
  brand's staff approve it (credited once) or reject it (the shopper is told why, kindly). An invited member's
  first purchase pays the invitation's bonuses: held, they wait with it; held later, what is left of them does.
"""


from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.receipt import MOSCOW


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Submissions(_Strict):
    per_minute: int = Field(default=5, ge=1, description="receipts one member may send in a minute")
    per_day: int = Field(default=30, ge=1, description="receipts one member may send in a Moscow day")


class RuleName(StrEnum):
    TILL_MEMBERS = "till_members"  # one fiscal drive of a seller the program does not list: many members a day
    SELLER_MEMBERS = "seller_members"  # one seller the program does not list (its INN): many members a day
    MEMBER_TILL = "member_till"  # one member: many receipts from one fiscal drive within `days`
    PHONE_ACCOUNTS = "phone_accounts"  # one phone behind many accounts over time: the newer ones are held
    IDLE_FRIENDS = "idle_friends"  # one inviter: many invited friends who bought once (the bonus) and never again


class Rule(_Strict):
    rule: RuleName
    threshold: int = Field(ge=1, description="held when the count is over it")
    days: int = Field(default=30, ge=1, le=366, description="member_till, idle_friends: the window counted (for "
                      "idle_friends, since the inviter's last new friend)")


class Serials(_Strict):
    unlisted: Literal["earn", "hold", "refuse"] = Field(
        default="earn", description="what a brand item earns whose serial is not among those the brand loaded "
        "(`loyalty fraud serials FILE`, an export from Честный ЗНАК): grey-market or counterfeit. It is counted in "
        "`loyalty fraud report` whatever the choice")


class Fraud(_Strict):
    submissions: Submissions = Field(default_factory=Submissions)
    rules: list[Rule] = Field(default_factory=list)
    serials: Serials = Field(default_factory=Serials)

    @model_validator(mode="after")
    def _each_rule_once(self) -> "Fraud":
        names = [rule.rule for rule in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules: each rule once (one threshold each)")
        return self


class Seen(BaseModel):
    """What the books show around one receipt, as the rules count it (0: not counted for this receipt)."""

    model_config = ConfigDict(defer_build=True)

    till_members: int = 0  # members who sent receipts from its fiscal drive today, with this one's
    seller_members: int = 0  # members who sent receipts from its (unlisted) seller today
    member_till: int = 0  # receipts this member sent from its fiscal drive within the rule's days
    idle_friends: int = 0  # the inviter's friends who bought once and never again, this one with them (its first)


def phone_suspect(rules: list[Rule], accounts: int) -> bool:
    """Whether a phone shared now has been behind more accounts than the program lets pass unchecked."""
    return any(rule.rule == RuleName.PHONE_ACCOUNTS and accounts > rule.threshold for rule in rules)


def suspicions(rules: list[Rule], seen: Seen) -> tuple[str, ...]:
    """The counted rules this receipt trips, in the program's order (a person's rules, as a phone behind several
    accounts, are the member's: `Shopper.suspect`)."""
    return tuple(str(rule.rule) for rule in rules
                 if rule.rule in _COUNTED and getattr(seen, rule.rule) > rule.threshold)


_COUNTED = {RuleName.TILL_MEMBERS, RuleName.SELLER_MEMBERS, RuleName.MEMBER_TILL, RuleName.IDLE_FRIENDS}


def counted_for(channel_kind: str) -> set[RuleName]:
    """Which counts apply to a receipt: a marketplace's or the brand's own fiscal drive serves everyone, and a
    listed chain's many members: the members-per-till and per-seller rules watch unlisted sellers only. An invited
    member's friends are counted wherever they buy."""
    if channel_kind in ("marketplace", "d2c"):
        return {RuleName.IDLE_FRIENDS}
    if channel_kind == "other":
        return set(_COUNTED)
    return {RuleName.MEMBER_TILL, RuleName.IDLE_FRIENDS}


def rule_words(names: list[str] | tuple[str, ...]) -> list[str]:
    """Why a receipt was held, in words (an unknown name, from a rule removed since, as it is)."""
    return [RULE_WORDS.get(name, name) for name in names]


GREY_MARKET = "grey_market"  # a held receipt's reason: a brand item whose serial the brand did not put in circulation
STAFF_BLOCKED = "staff_blocked"  # a member support stopped earning from the console: every receipt held, whatever rules

# Why a receipt was held, as the staff chat, the shopper and `loyalty fraud report` read it.
RULE_WORDS: dict[str, str] = {
    STAFF_BLOCKED: "поддержка приостановила начисления этому участнику",
    RuleName.TILL_MEMBERS: "с этой кассы сегодня прислали чеки многие участники",
    RuleName.SELLER_MEMBERS: "от этого продавца сегодня прислали чеки многие участники",
    RuleName.MEMBER_TILL: "много чеков одного участника с одной кассы",
    RuleName.PHONE_ACCOUNTS: "этот номер телефона уже был у нескольких аккаунтов",
    RuleName.IDLE_FRIENDS: "многие друзья, приглашённые тем же участником, купили один раз и больше не покупают",
    GREY_MARKET: "серийного номера товара нет среди выпущенных брендом в оборот",
}


def parse_code(text: str) -> str | None:
    """`<gtin>:<serial>` from a line of a Честный ЗНАК export: a marking code as printed (`01` GTIN `21` serial,
    the group separator or the crypto tail `91…`/`93…` after it), or two columns `gtin;serial` (or `,`, a tab).
    None for a line that is neither (a header)."""
    text = text.strip().strip('"')
    columns = [part.strip().strip('"') for part in text.replace("\t", ";").replace(",", ";").split(";")]
    if len(columns) >= 2 and columns[0].isdigit() and len(columns[0]) <= 14 and columns[1]:
        return f"{columns[0].zfill(14)}:{columns[1]}"
    if len(text) > 18 and text.startswith("01") and text[2:16].isdigit() and text[16:18] == "21":
        serial = text[18:].split("\x1d", 1)[0]
        return f"{text[2:16]}:{serial}" if serial else None
    return None


class Window(StrEnum):
    MINUTE = "minute"
    DAY = "day"


def windows(now: datetime) -> dict[Window, str]:
    """The minute and the Moscow day a submission at `now` counts in."""
    local = now.astimezone(MOSCOW)
    return {Window.MINUTE: local.strftime("%Y%m%d%H%M"), Window.DAY: local.strftime("%Y%m%d")}


def retry_after(window: Window, now: datetime) -> timedelta:
    """How long until the window that is full gives way to the next: the next minute, or Moscow midnight."""
    local = now.astimezone(MOSCOW)
    if window == Window.MINUTE:
        return timedelta(seconds=60 - local.second)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - local
