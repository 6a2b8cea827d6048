"""What the program earns and what it costs, from the ledger: the brand's report.

Revenue is the brand's goods on the receipts members registered (refunds taken off), by the channel they were
bought in; the cost is the points the program gave. Both come from ledger entries, the books `ledger verify`
proves, so the report adds up with them. Everything is counted over a period of entry times; the members' state
and the points owed are as of now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from loyalty.domain.ledger import Entry, Kind, bonus_of, campaign_of
from loyalty.domain.program import Program
from loyalty.domain.segments import source_of


class ChannelFigures(BaseModel):
    receipts: int = 0
    buyers: int = 0
    revenue_kopecks: int = 0


class ProgramReport(BaseModel):
    since: datetime | None
    until: datetime | None
    # members, as of now
    members: int
    members_with_phone: int
    members_subscribed: int
    members_erased: int
    joined_in_period: dict[str, int]  # by where they came from (insert:wb, referral, organic …)
    # purchases in the period
    receipts: int
    buyers: int
    repeat_buyers: int  # members with two receipts or more
    revenue_kopecks: int
    by_channel: dict[str, ChannelFigures]
    moved_to_site: int  # members who bought on a marketplace, then on the brand's site
    # points in the period
    points_given: dict[str, int]  # purchases, welcome, referral, review, campaigns, adjustments, imported
    points_taken_back: int  # refunds
    points_spent: dict[str, int]  # on the site (orders, promo codes), on rewards
    points_expired: int
    points_written_off: int  # accounts deleted
    # owed now
    liability_points: int  # available + pending + reserved: 1 point = 1 ₽

    @property
    def cost_percent(self) -> float:
        """Points given (less those refunds took back) per rouble of revenue (less refunds), in percent: what the
        program costs, if every point is spent."""
        given = sum(self.points_given.values()) - self.points_taken_back
        return round(100 * given / (self.revenue_kopecks / 100), 1) if self.revenue_kopecks > 0 else 0.0


@dataclass
class _Buyer:
    receipts: int = 0
    first_marketplace: datetime | None = None
    last_site: datetime | None = None

    @property
    def moved_to_site(self) -> bool:
        """Bought on the site after a marketplace: the two ends are kept, so the order a scan reads them in does not
        matter."""
        first, last = self.first_marketplace, self.last_site
        return first is not None and last is not None and last > first


@dataclass
class ReportBuilder:
    """Fed the members table and the ledger in any order (a scan), page by page: it keeps per member only what
    the figures need, so a large program is read once in little memory."""

    program: Program
    since: datetime | None = None
    until: datetime | None = None
    _members: Counter[str] = field(default_factory=Counter)
    _joined: Counter[str] = field(default_factory=Counter)
    _owed: int = 0
    _buyers: dict[str, _Buyer] = field(default_factory=dict)
    _channels: dict[str, ChannelFigures] = field(default_factory=dict)
    _channel_buyers: dict[str, set[str]] = field(default_factory=dict)
    _given: Counter[str] = field(default_factory=Counter)
    _spent: Counter[str] = field(default_factory=Counter)
    _points: Counter[str] = field(default_factory=Counter)

    def member(self, item: dict[str, Any]) -> None:
        """One member item (its state now): joined_at, consented_at, subscribed, joined_via, erased_at, balances."""
        self._members["all"] += 1
        self._members["phone"] += bool(item.get("consented_at") or item.get("joined_via") == "import")
        self._members["subscribed"] += item.get("subscribed") is True
        self._members["erased"] += bool(item.get("erased_at"))
        self._owed += sum(int(item.get(name, 0)) for name in ("available", "pending", "held"))
        joined = _parse(item.get("joined_at"))
        if joined is not None and self._within(joined) and not item.get("erased_at"):
            self._joined[source_of(item)] += 1

    def entries(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if self._within(entry.created_at):
                self._entry(entry)

    def _entry(self, entry: Entry) -> None:
        details, kind = entry.details, entry.kind
        if kind == Kind.ACCRUAL:
            channel = details.channel or "other"
            figures = self._channels.setdefault(channel, ChannelFigures())
            figures.receipts += 1
            figures.revenue_kopecks += details.brand_sum_kopecks
            self._channel_buyers.setdefault(channel, set()).add(entry.member_id)
            self._given["purchases"] += entry.points
            self._purchase(entry.member_id, self.program.channel_kind(channel), details.purchased_at or
                           entry.created_at)
        elif kind == Kind.REFUND or (kind == Kind.HELD_DECISION and details.approved is False):
            figures = self._channels.setdefault(details.channel or "other", ChannelFigures())
            figures.revenue_kopecks -= details.brand_sum_kopecks
            self._points["taken_back"] -= entry.points
        elif kind in (Kind.BONUS, Kind.BOOST, Kind.WITHDRAWAL):
            self._given["campaigns" if campaign_of(entry.entry_id) else bonus_of(entry.entry_id) or "other"] += \
                entry.points
        elif kind == Kind.ADJUSTMENT:
            self._given["adjustments"] += entry.points
        elif kind == Kind.OPENING:
            self._given["imported"] += entry.points
        elif kind == Kind.COMMIT:
            self._spent["rewards" if details.reward else "site"] += details.spent
        elif kind == Kind.EXPIRY:
            self._points["expired"] -= entry.points
        elif kind == Kind.FORFEIT:
            self._points["written_off"] -= entry.points

    def _purchase(self, member_id: str, channel_kind: str, at: datetime) -> None:
        buyer = self._buyers.setdefault(member_id, _Buyer())
        buyer.receipts += 1
        if channel_kind == "marketplace":
            buyer.first_marketplace = min(buyer.first_marketplace or at, at)
        elif channel_kind == "d2c":
            buyer.last_site = max(buyer.last_site or at, at)

    def _within(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def report(self) -> ProgramReport:
        for channel, buyers in self._channel_buyers.items():
            self._channels[channel].buyers = len(buyers)
        return ProgramReport(
            since=self.since, until=self.until, members=self._members["all"],
            members_with_phone=self._members["phone"], members_subscribed=self._members["subscribed"],
            members_erased=self._members["erased"], joined_in_period=dict(self._joined.most_common()),
            receipts=sum(b.receipts for b in self._buyers.values()), buyers=len(self._buyers),
            repeat_buyers=sum(b.receipts >= 2 for b in self._buyers.values()),
            revenue_kopecks=sum(c.revenue_kopecks for c in self._channels.values()),
            by_channel=dict(sorted(self._channels.items(), key=lambda kv: -kv[1].revenue_kopecks)),
            moved_to_site=sum(b.moved_to_site for b in self._buyers.values()),
            points_given={k: v for k, v in self._given.most_common() if v},
            points_taken_back=self._points["taken_back"], points_spent=dict(self._spent.most_common()),
            points_expired=self._points["expired"],
            points_written_off=self._points["written_off"], liability_points=self._owed)


def _parse(stamp: Any) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
