"""Where a receipt was bought (channel) and which of its lines are the brand's goods.

- The brand's own INN as seller: channel `d2c`, every goods line is the brand's.
- At any other seller, an agent line (sold on a supplier's behalf) whose supplier INN (`providerInn`) is one
  of the brand's: a marketplace in the registry or not yet, a retail chain's own marketplace, an aggregator.
  A seller the registry does not know is channel `other`.
- On a marketplace that is the only way: its other lines are other suppliers' goods.
- Anywhere else (a retail chain selling on its own account, or an unknown seller's own goods): a line whose
  GTIN is in the catalog, else whose name matches a catalog name or one of the brand's name patterns.
Service lines (delivery, assembly) never earn. Each brand line carries the catalog's category when known.
"""


from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loyalty.domain.bot_program import words
from loyalty.domain.names import contains_words, normalise_name
from loyalty.domain.receipt import PRODUCT_TYPE_SERVICE, Receipt, ReceiptItem

if TYPE_CHECKING:
    from loyalty.domain.program import CatalogEntry, Channel, Program

CHANNEL_D2C = "d2c"
CHANNEL_OTHER = "other"
_SERVICE_WORDS = tuple(normalise_name(words) for words in ("доставка", "доставки", "сборка заказа",
                                                             "упаковка заказа"))


class BrandLine(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    item_index: int  # position of the line in the receipt's items
    name: str
    sum_kopecks: int
    price_kopecks: int = 0
    quantity: str = "1"
    supplier_inn: str | None = None
    gtin: str | None = None
    serial: str | None = None
    category: str | None = None
    matched_by: str  # seller_inn | supplier_inn | gtin | name

    @property
    def marking(self) -> str | None:
        """The one physical item this line sold (GTIN and serial of its marking code), when it has one."""
        return f"{self.gtin}:{self.serial}" if self.gtin and self.serial else None


class Match(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    channel: str
    store: str
    lines: tuple[BrandLine, ...]

    @property
    def brand_sum_kopecks(self) -> int:
        return sum(line.sum_kopecks for line in self.lines)


def channel_of(receipt: Receipt, program: "Program") -> "Channel | None":
    """The registered channel of the receipt's seller; a retail-place hint wins over a bare INN."""
    candidates = [channel for channel in program.channels if receipt.seller_inn in channel.inns]
    place = normalise_name(receipt.retail_place)
    for channel in candidates:
        if any(normalise_name(hint) in place for hint in channel.retail_places):
            return channel
    return next((channel for channel in candidates if not channel.retail_places), None)


def match_brand_goods(receipt: Receipt, program: "Program") -> Match:
    if receipt.seller_inn in program.brand.inns:
        channel_name, store, kind = CHANNEL_D2C, program.brand.name, CHANNEL_D2C
    else:
        channel = channel_of(receipt, program)
        channel_name = channel.name if channel else CHANNEL_OTHER
        store = words(channel.title, "ru") if channel else (receipt.retail_place or receipt.seller_name
                                                            or f"ИНН {receipt.seller_inn}")
        kind = channel.kind if channel else CHANNEL_OTHER
    brand = _BrandIndex(program)
    lines = []
    for index, item in enumerate(receipt.items):
        if is_service(item):
            continue
        how, entry = brand.evidence(item, kind)
        if how:
            lines.append(BrandLine(
                item_index=index, name=item.name, sum_kopecks=item.sum_kopecks, price_kopecks=item.price_kopecks,
                quantity=str(item.quantity), supplier_inn=item.supplier_inn, gtin=item.gtin, serial=item.serial,
                category=entry.category if entry else None, matched_by=how,
            ))
    return Match(channel=channel_name, store=store, lines=tuple(lines))


def is_agent_line(item: ReceiptItem) -> bool:
    """Sold on a supplier's behalf: the agent flags (tag 1222) or the agent's data on the line (tags 1223/1224)."""
    return bool(item.agent_flags) or any(isinstance((item.model_extra or {}).get(name), dict)
                                         for name in ("agentData", "providerData"))


def is_service(item: ReceiptItem) -> bool:
    if item.product_type == PRODUCT_TYPE_SERVICE:
        return True
    return normalise_name(item.name).startswith(_SERVICE_WORDS)


class _BrandIndex:
    """The brand's catalog and name patterns, normalised once per receipt rather than once per line."""

    def __init__(self, program: "Program"):
        self.supplier_inns = set(program.brand.supplier_inns)
        self.by_gtin = {entry.gtin: entry for entry in program.brand.catalog if entry.gtin}
        self.by_name = [(normalise_name(entry.name), entry) for entry in program.brand.catalog]
        self.patterns = [normalise_name(pattern) for pattern in program.brand.name_patterns]

    def evidence(self, item: ReceiptItem, kind: str) -> "tuple[str | None, CatalogEntry | None]":
        """How the line is known to be the brand's (None: it is not), and its catalog entry if any."""
        name = normalise_name(item.name)
        entry = self.by_gtin.get(item.gtin) if item.gtin else None
        entry = entry or next((entry for words, entry in self.by_name if contains_words(name, words)), None)
        if kind == CHANNEL_D2C:
            return "seller_inn", entry
        if is_agent_line(item) and item.supplier_inn in self.supplier_inns:
            return "supplier_inn", entry  # the brand supplies it, whoever sells it
        if kind == "marketplace":
            return None, entry  # a marketplace's lines are its suppliers': another supplier's goods are not ours
        if entry is not None:
            return ("gtin" if item.gtin and item.gtin == entry.gtin else "name"), entry
        if any(contains_words(name, words) for words in self.patterns):
            return "name", None
        return None, None
