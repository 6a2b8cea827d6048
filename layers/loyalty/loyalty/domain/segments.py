"""Segments: which members a campaign is for, written by a marketer in the program file as data.

A segment is a set of conditions that must all hold; `all`, `any` and `not` combine segments. Each condition
reads one thing about a member — their facts (domain/facts.py), level, balance, points expiring soon, how
they joined, whether they still receive messages:

    receipts: {more_than: 5}
    average_receipt_roubles: {between: [1000, 1200]}
    any: [{level: {in: [friend]}}, {points_expiring: {within_days: 14, at_least: 100}}]
    bought: {products: ["04600000000017"], since: 2026-11-01, until: 2026-11-30}
    survey_rating: {at_most: 3}

A misspelt key or a condition without a bound is refused when the program loads, with its path. Pure: no I/O.
"""


from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.facts import Facts


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)


class Range(_Strict):
    """Bounds on a number; every bound given must hold (`between` includes both ends)."""

    more_than: Decimal | None = None
    at_least: Decimal | None = None
    less_than: Decimal | None = None
    at_most: Decimal | None = None
    between: tuple[Decimal, Decimal] | None = None

    @model_validator(mode="after")
    def _bounded(self) -> "Range":
        if all(getattr(self, name) is None for name in Range.model_fields):
            raise ValueError("give a bound: more_than, at_least, less_than, at_most or between")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between: the lower bound comes first")
        return self

    def holds(self, value: Decimal | int | None) -> bool:
        if value is None:
            return False
        low, high = self.between or (None, None)
        return all((self.more_than is None or value > self.more_than, self.at_least is None or value >= self.at_least,
                    self.less_than is None or value < self.less_than, self.at_most is None or value <= self.at_most,
                    low is None or low <= value, high is None or value <= high))


class OneOf(_Strict):
    in_: list[str] = Field(alias="in", min_length=1)

    def holds(self, value: str | None) -> bool:
        return value in self.in_


class Expiring(_Strict):
    """At least `at_least` points that expire within `within_days`."""

    within_days: int = Field(ge=1)
    at_least: int = Field(default=1, ge=1)


class ChannelRange(Range):
    channel: str


class Bought(_Strict):
    """Bought any of these products (a GTIN, or a name as the receipt prints it) within these days, Moscow time
    (both ends included; an open end: since ever, until today)."""

    products: list[str] = Field(min_length=1)
    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Bought":
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since comes before until")
        return self

    def holds(self, bought: Mapping[str, tuple[str, ...]]) -> bool:
        low, high = (self.since or date.min).isoformat(), (self.until or date.max).isoformat()
        return any(low <= day <= high for product in self.products for day in bought.get(_key(product), ()))


def _key(product: str) -> str:
    """A product as the facts key it (domain/facts.py: Good.key)."""
    product = product.strip()
    return product if product.isdigit() else product.lower()


class Member(_Strict):
    """What a segment reads about one member (built from the member item and their wallet)."""

    facts: Facts = Field(default_factory=Facts)
    level: str | None = None
    balance: int = 0  # available points
    expiring: tuple[tuple[datetime, int], ...] = ()  # (when, points) of each available lot that expires
    source: str = "organic"  # how they joined: a deep link's <kind>:<key>, campaign:<name>, referral, organic, import
    subscribed: bool = True  # False once they blocked the bot
    rating: int | None = None  # their last answer to the survey, 1–5
    recommends: int | None = None  # their last "would you recommend us", 0–10
    interests: dict[str, list[str]] = Field(default_factory=dict)  # the profile's answers (domain/profile.py)


def source_of(item: Mapping[str, Any]) -> str:
    """How a member joined, from their stored item: the deep link's source, else an invitation, else organic."""
    return str(item.get("joined_via") or ("referral" if item.get("referred_by") else "organic"))


class Segment(_Strict):
    """Conditions that must all hold; at least one is given."""

    all_: "list[Segment] | None" = Field(default=None, alias="all", min_length=1)
    any_: "list[Segment] | None" = Field(default=None, alias="any", min_length=1)
    not_: "Segment | None" = Field(default=None, alias="not")
    receipts: Range | None = None
    spend_roubles: Range | None = None
    average_receipt_roubles: Range | None = None
    days_since_last_purchase: Range | None = None
    receipts_in_channel: ChannelRange | None = None
    balance: Range | None = None
    points_expiring: Expiring | None = None
    level: OneOf | None = None
    last_channel: OneOf | None = None
    bought_category: OneOf | None = Field(default=None, description="bought any of these categories, ever")
    source: OneOf | None = None
    subscribed: bool | None = None
    bought: Bought | None = None
    survey_rating: Range | None = Field(default=None, description="their last survey answer, 1–5")
    recommends: Range | None = Field(default=None, description="their last 'would you recommend us', 0–10")
    interests: dict[str, list[str]] | None = Field(default=None, description="the profile's interests: for each, "
                                                   "any of these options chosen (profile.interests)")

    @model_validator(mode="after")
    def _something(self) -> "Segment":
        if not self.model_fields_set:
            raise ValueError("an empty segment: give at least one condition")
        return self

    def matches(self, member: Member, now: datetime) -> bool:
        facts = member.facts
        average = Decimal(facts.average_receipt_kopecks) / 100 if facts.receipts > 0 else None
        checks = (
            self.all_ is None or all(part.matches(member, now) for part in self.all_),
            self.any_ is None or any(part.matches(member, now) for part in self.any_),
            self.not_ is None or not self.not_.matches(member, now),
            self.receipts is None or self.receipts.holds(facts.receipts),
            self.spend_roubles is None or self.spend_roubles.holds(Decimal(facts.spend_kopecks) / 100),
            self.average_receipt_roubles is None or self.average_receipt_roubles.holds(average),
            self.days_since_last_purchase is None or self.days_since_last_purchase.holds(
                facts.days_since_last_purchase(now)),
            self.receipts_in_channel is None or self.receipts_in_channel.holds(
                facts.by_channel[self.receipts_in_channel.channel].receipts
                if self.receipts_in_channel.channel in facts.by_channel else 0),
            self.balance is None or self.balance.holds(member.balance),
            self.points_expiring is None or expiring_points(member, now, self.points_expiring.within_days)
            >= self.points_expiring.at_least,
            self.level is None or self.level.holds(member.level),
            self.last_channel is None or self.last_channel.holds(facts.last_channel),
            self.bought_category is None or any(self.bought_category.holds(c) for c in facts.categories),
            self.source is None or self.source.holds(member.source),
            self.subscribed is None or self.subscribed == member.subscribed,
            self.bought is None or self.bought.holds(facts.bought),
            self.survey_rating is None or self.survey_rating.holds(member.rating),
            self.recommends is None or self.recommends.holds(member.recommends),
            self.interests is None or all(set(options) & set(member.interests.get(interest, ()))
                                          for interest, options in self.interests.items()),
        )
        return all(checks)

    def parts(self) -> list["Segment"]:
        """This segment and every one nested in it (all, any, not)."""
        nested = [*(self.all_ or []), *(self.any_ or []), *([self.not_] if self.not_ else [])]
        return [self, *(part for segment in nested for part in segment.parts())]


def expiring_points(member: Member, now: datetime, within_days: int) -> int:
    until = now + timedelta(days=within_days)
    return sum(points for when, points in member.expiring if now < when <= until)
