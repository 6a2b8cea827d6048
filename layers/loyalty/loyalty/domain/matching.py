"""Where a receipt was bought (channel) and which of its lines are the brand's goods.

- The brand's own INN as seller: channel `d2c`, every goods line is the brand's.
- A marketplace (agent receipt): lines whose supplier INN (`providerInn`) is one of the brand's.
- Anywhere else: lines whose GTIN is in the brand's catalog.
Service lines (delivery, assembly) never earn.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from loyalty.config import Program
from loyalty.domain.receipt import PRODUCT_TYPE_SERVICE, Receipt, ReceiptItem

CHANNEL_D2C = "d2c"
CHANNEL_OTHER = "other"


class BrandLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    sum_kopecks: int
    gtin: str | None = None
    category: str | None = None


class Match(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: str
    lines: tuple[BrandLine, ...]

    @property
    def brand_sum_kopecks(self) -> int:
        return sum(line.sum_kopecks for line in self.lines)


def channel_of(receipt: Receipt, program: Program) -> str:
    if receipt.seller_inn in program.brand.inns:
        return CHANNEL_D2C
    for channel in program.all_channels():
        if receipt.seller_inn in channel.inns:
            return channel.name
    return CHANNEL_OTHER


def store_name(receipt: Receipt, channel: str, program: Program) -> str:
    """How a shopper would name the place of purchase."""
    if channel == CHANNEL_D2C:
        return program.brand.name
    for known in program.all_channels():
        if known.name == channel:
            return known.title
    return receipt.retail_place or receipt.seller_name or f"ИНН {receipt.seller_inn}"


def match_brand_goods(receipt: Receipt, program: Program) -> Match:
    channel = channel_of(receipt, program)
    catalog = {entry.gtin: entry for entry in program.brand.catalog if entry.gtin}
    lines = []
    for item in receipt.items:
        if item.product_type == PRODUCT_TYPE_SERVICE:
            continue
        entry = catalog.get(item.gtin) if item.gtin else None
        if channel == CHANNEL_D2C or _supplied_by_brand(item, program) or entry is not None:
            lines.append(
                BrandLine(
                    name=item.name,
                    sum_kopecks=item.sum_kopecks,
                    gtin=item.gtin,
                    category=entry.category if entry else None,
                )
            )
    return Match(channel=channel, lines=tuple(lines))


def _supplied_by_brand(item: ReceiptItem, program: Program) -> bool:
    return bool(item.agent_flags) and item.supplier_inn in program.brand.supplier_inns
