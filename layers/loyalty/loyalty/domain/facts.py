"""What a member did, as campaigns target it: purchases over time and by channel, spend, categories.

Kept inside the wallet, so the ledger entry that changes them (an accrual, a refund) changes them in the
same transaction, a replay changes nothing twice, and `loyalty members backfill-facts` can rebuild them
from the entries. Pure: no I/O.
"""


from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from loyalty.domain.receipt import MOSCOW

_DAYS_KEPT = 12  # the days a product was bought that the facts keep, latest
_PRODUCTS_KEPT = 60  # the products they keep, latest bought


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)


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
    bought: dict[str, tuple[str, ...]] = {}  # product (GTIN, else its name) → the Moscow days it was bought, latest
    last_product: str | None = None  # the dearest of the brand's goods on the latest purchase (a text may name it)

    @property
    def average_receipt_kopecks(self) -> int:
        return self.spend_kopecks // self.receipts if self.receipts > 0 else 0

    def days_since_last_purchase(self, now: datetime) -> int | None:
        return None if self.last_purchase_at is None else (now - self.last_purchase_at).days

    def purchased(self, at: datetime, channel: str, spend_kopecks: int, categories: Iterable[str | None],
                  goods: "Iterable[Good]" = ()) -> "Facts":
        """After an accepted purchase (which may arrive after a later one: the times only move outward)."""
        before = self.by_channel.get(channel, ChannelFacts())
        latest = self.last_purchase_at is None or at >= self.last_purchase_at
        there = ChannelFacts(receipts=before.receipts + 1, spend_kopecks=before.spend_kopecks + spend_kopecks)
        goods = [good for good in goods if good.name or good.gtin]
        dearest = max(goods, key=lambda good: good.sum_kopecks, default=None)
        return self.model_copy(update={
            "bought": _bought(self.bought, goods, at),
            "last_product": dearest.name if latest and dearest and dearest.name else self.last_product,
            "first_purchase_at": min(at, self.first_purchase_at) if self.first_purchase_at else at,
            "last_purchase_at": at if latest else self.last_purchase_at,
            "receipts": self.receipts + 1, "spend_kopecks": self.spend_kopecks + spend_kopecks,
            "by_channel": {**self.by_channel, channel: there},
            "last_channel": channel if latest else self.last_channel,
            "categories": tuple(sorted({*self.categories, *(c for c in categories if c)})),
        })

    def refunded(self, channel: str, refunded_kopecks: int, whole: bool) -> "Facts":
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


class Good(_Model):
    """One of the brand's lines on a purchase, as the facts remember it."""

    name: str = ""
    gtin: str | None = None
    sum_kopecks: int = 0

    @property
    def key(self) -> str:
        """How a segment names it: its GTIN, else its name as the receipt prints it (lower case)."""
        return self.gtin or self.name.strip().lower()


def _bought(before: dict[str, tuple[str, ...]], goods: Iterable[Good], at: datetime) -> dict[str, tuple[str, ...]]:
    """The days each product was bought, with this purchase's (at most `_DAYS_KEPT` a product, of `_PRODUCTS_KEPT`
    products: a wallet stays small; the oldest go first)."""
    day = at.astimezone(MOSCOW).date().isoformat()
    bought = dict(before)
    for good in goods:
        bought[good.key] = tuple(sorted({*bought.get(good.key, ()), day}))[-_DAYS_KEPT:]
    if len(bought) > _PRODUCTS_KEPT:
        bought = dict(sorted(bought.items(), key=lambda item: item[1][-1])[-_PRODUCTS_KEPT:])
    return bought
