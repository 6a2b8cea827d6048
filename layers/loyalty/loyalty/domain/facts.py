"""What a member did, as campaigns target it: purchases over time and by channel, spend, categories.

Kept inside the wallet, so the ledger entry that changes them (an accrual, a refund) changes them in the
same transaction, a replay changes nothing twice, and `loyalty members backfill-facts` can rebuild them
from the entries. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChannelFacts(_Model):
    receipts: int = 0
    spend_kopecks: int = 0


class Facts(_Model):
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    receipts: int = 0  # accepted purchase receipts, less the wholly refunded ones
    spend_kopecks: int = 0  # the brand's goods on them, less refunds
    by_channel: dict[str, ChannelFacts] = {}
    last_channel: str | None = None
    categories: tuple[str, ...] = ()  # every category of the brand's goods ever bought, sorted

    @property
    def average_receipt_kopecks(self) -> int:
        return self.spend_kopecks // self.receipts if self.receipts > 0 else 0

    def days_since_last_purchase(self, now: datetime) -> int | None:
        return None if self.last_purchase_at is None else (now - self.last_purchase_at).days

    def purchased(self, at: datetime, channel: str, spend_kopecks: int, categories: Iterable[str | None]) -> Facts:
        """After an accepted purchase (which may arrive after a later one: the times only move outward)."""
        before = self.by_channel.get(channel, ChannelFacts())
        latest = self.last_purchase_at is None or at >= self.last_purchase_at
        there = ChannelFacts(receipts=before.receipts + 1, spend_kopecks=before.spend_kopecks + spend_kopecks)
        return self.model_copy(update={
            "first_purchase_at": min(at, self.first_purchase_at) if self.first_purchase_at else at,
            "last_purchase_at": at if latest else self.last_purchase_at,
            "receipts": self.receipts + 1, "spend_kopecks": self.spend_kopecks + spend_kopecks,
            "by_channel": {**self.by_channel, channel: there},
            "last_channel": channel if latest else self.last_channel,
            "categories": tuple(sorted({*self.categories, *(c for c in categories if c)})),
        })

    def refunded(self, channel: str, refunded_kopecks: int, whole: bool) -> Facts:
        """After a refund: its money comes off the spend, and a whole refund takes the receipt back."""
        before = self.by_channel.get(channel, ChannelFacts())
        receipts = 1 if whole else 0
        return self.model_copy(update={
            "receipts": max(0, self.receipts - receipts),
            "spend_kopecks": max(0, self.spend_kopecks - refunded_kopecks),
            "by_channel": {**self.by_channel, channel: ChannelFacts(
                receipts=max(0, before.receipts - receipts),
                spend_kopecks=max(0, before.spend_kopecks - refunded_kopecks))},
        })
