"""`loyalty fraud report`: what the fraud rules held, what the staff decided, and the points that saved, from the
ledger's entries (a held purchase's entry names its rules; the staff's decision is an entry of its own)."""


from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.receipt import MOSCOW


class RuleFigures(BaseModel):
    model_config = ConfigDict(defer_build=True)

    held: int = 0
    approved: int = 0
    rejected: int = 0


class FraudReport(BaseModel):
    model_config = ConfigDict(defer_build=True)

    since: datetime | None
    until: datetime | None
    receipts: int = Field(description="purchases credited in the period, held or not")
    held: int
    approved: int
    rejected: int
    waiting: int = Field(description="held in the period, not decided yet")
    points_saved: int = Field(description="points the rejections took back (the invitation bonuses they paid too)")
    by_rule: dict[str, RuleFigures]
    grey_items: int = Field(default=0, description="brand items whose serial the brand did not put into circulation")
    grey_by_place: dict[str, int] = Field(default_factory=dict, description="by channel and seller")

    @property
    def held_percent(self) -> float:
        return round(100 * self.held / self.receipts, 1) if self.receipts else 0.0


class FraudReportBuilder:
    def __init__(self, since: datetime | None, until: datetime | None):
        self.since, self.until = since, until
        self.receipts = self.approved = self.rejected = self.points_saved = 0
        self.held: set[str] = set()
        self.decided: set[str] = set()
        self.by_rule: dict[str, RuleFigures] = {}
        self.grey_by_place: dict[str, int] = {}

    def grey(self, items: Iterable[dict[str, Any]]) -> None:
        """Grey-market items as the claims recorded them: where (channel, seller) and on which Moscow day."""
        for item in items:
            day = str(item.get("day", ""))
            if (self.since is None or day >= self.since.astimezone(MOSCOW).date().isoformat()) and (
                    self.until is None or day < self.until.astimezone(MOSCOW).date().isoformat()):
                place = f"{item.get('channel', 'other')}, {item.get('store') or ''} (ИНН {item.get('seller_inn')})"
                self.grey_by_place[place] = self.grey_by_place.get(place, 0) + 1

    def entries(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if (self.since is None or entry.created_at >= self.since) and (
                    self.until is None or entry.created_at < self.until):
                self._entry(entry)

    def _entry(self, entry: Entry) -> None:
        details, key = entry.details, f"{entry.member_id}/{entry.details.fiscal_key}"
        if entry.kind == Kind.ACCRUAL:
            self.receipts += 1
        if entry.kind in (Kind.ACCRUAL, Kind.HELD_LATER) and details.held_by:  # held at once, or once found out
            self.held.add(key)
            for rule in details.held_by:
                self.by_rule.setdefault(rule, RuleFigures()).held += 1
        elif entry.kind == Kind.HELD_DECISION and not details.held_by:  # an inviter's bonus, as the friend's went
            self.points_saved += 0 if details.approved else -entry.points
        elif entry.kind == Kind.HELD_DECISION:
            self.decided.add(key)
            approved = bool(details.approved)
            self.approved += approved
            self.rejected += not approved
            self.points_saved += 0 if approved else -entry.points
            for rule in details.held_by:
                figures = self.by_rule.setdefault(rule, RuleFigures())
                figures.approved += approved
                figures.rejected += not approved

    def report(self) -> FraudReport:
        return FraudReport(since=self.since, until=self.until, receipts=self.receipts, held=len(self.held),
                           approved=self.approved, rejected=self.rejected, waiting=len(self.held - self.decided),
                           points_saved=self.points_saved, by_rule=self.by_rule,
                           grey_items=sum(self.grey_by_place.values()), grey_by_place=self.grey_by_place)
