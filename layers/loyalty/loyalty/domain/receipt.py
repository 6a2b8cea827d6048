"""One normalised fiscal receipt, whatever shape it arrived in.

Shapes read (see ../shared/receipts/FORMAT.md): the FNS app API ticket, the FNS app export (an array of
tickets), the proverkacheka full response and its `data.json`, and the bare receipt, including legacy
receipts with `receiptCode` and unpadded INNs.

Time zone rule: a unix `dateTime` is an instant and is read as UTC. An ISO `dateTime` without a zone is
the local time of the sale, and the receipt does not say where that was, so it is read as Moscow time
(UTC+3), the zone of most receipts and of the marketplaces' cash registers. A receipt from elsewhere is
then off by its zone's difference from Moscow, which the program's day-sized windows tolerate.
"""


from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, field_validator

from loyalty.domain.errors import InvalidReceipt
from loyalty.domain.qr import FiscalKey, ReceiptQuery

# The zone, not a fixed +03:00: Moscow's offset has changed before (UTC+4 until October 2014), and an old
# receipt or a future change must read right. The tzdata package carries the zone into Lambda.
MOSCOW = ZoneInfo("Europe/Moscow")

OPERATION_SALE = 1
OPERATION_SALE_REFUND = 2
PRODUCT_TYPE_SERVICE = 4


class ReceiptItem(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", frozen=True)

    name: str
    price_kopecks: NonNegativeInt = 0
    quantity: Decimal = Field(default=Decimal(1), ge=0)
    sum_kopecks: NonNegativeInt  # a refund is a receipt of its own (operation 2), its sums positive too
    payment_type: int | None = None
    product_type: int | None = None
    agent_flags: int | None = None
    supplier_inn: str | None = None
    gtin: str | None = None
    serial: str | None = None  # the marking code's serial (sernum): with the GTIN, one physical item


class Receipt(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", frozen=True)

    key: FiscalKey
    issued_at: datetime
    operation: int
    seller_inn: str
    seller_name: str = ""
    retail_place: str = ""
    total_kopecks: NonNegativeInt
    cash_kopecks: NonNegativeInt = 0
    ecash_kopecks: NonNegativeInt = 0
    prepaid_kopecks: NonNegativeInt = 0
    items: tuple[ReceiptItem, ...] = ()

    def query(self) -> ReceiptQuery:
        """What the receipt's QR code says: how to ask a receipt service for this receipt."""
        return ReceiptQuery(key=self.key, issued_at=self.issued_at.astimezone(MOSCOW).replace(tzinfo=None),
                            total_kopecks=self.total_kopecks, operation=self.operation)

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("issued_at must carry a time zone")
        return value


def normalise(document: Any) -> list[Receipt]:
    """Every receipt found in a document of any known shape. Raises InvalidReceipt with a reason."""
    raws = list(find_raw_receipts(document))
    if not raws:
        raise InvalidReceipt("no receipt found in the document")
    return [_from_raw(raw) for raw in raws]


def normalise_one(document: Any) -> Receipt:
    receipts = normalise(document)
    if len(receipts) != 1:
        raise InvalidReceipt(f"expected one receipt, found {len(receipts)}")
    return receipts[0]


def find_raw_receipts(document: Any) -> list[dict[str, Any]]:
    """Unwrap the known envelopes down to bare receipt objects (the dicts holding `items`)."""
    if isinstance(document, list):
        return [raw for element in document for raw in find_raw_receipts(element)]
    if not isinstance(document, dict):
        return []
    if "ticket" in document:  # FNS app API ticket or one element of the FNS app export
        found = find_raw_receipts(document["ticket"])
        seller = document.get("seller") or document.get("organization")
        if isinstance(seller, dict) and seller.get("inn"):  # legacy tickets name the seller outside
            found = [{"userInn": seller["inn"], **raw} for raw in found]
        return found
    if "document" in document:
        return find_raw_receipts(document["document"])
    if "receipt" in document:
        return find_raw_receipts(document["receipt"])
    if "data" in document and "code" in document:  # proverkacheka full response
        data = document["data"]
        return find_raw_receipts(data.get("json")) if isinstance(data, dict) else []
    if "items" in document and "fiscalDriveNumber" in document:
        return [document]
    return []


def fiscal_key_of(raw: dict[str, Any]) -> FiscalKey:
    try:
        return FiscalKey(
            fn=str(raw["fiscalDriveNumber"]).strip(),
            fd=int(raw["fiscalDocumentNumber"]),
            fp=int(raw["fiscalSign"]),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as error:
        raise InvalidReceipt(f"fiscal key unreadable: {error}") from error


def _from_raw(raw: dict[str, Any]) -> Receipt:
    known = {
        "fiscalDriveNumber", "fiscalDocumentNumber", "fiscalSign", "dateTime", "operationType",
        "userInn", "user", "retailPlace", "totalSum", "cashTotalSum", "ecashTotalSum", "prepaidSum",
        "items",
    }
    try:
        items = raw.get("items") or []
        if not isinstance(items, list):
            raise InvalidReceipt("items is not a list")
        return Receipt(
            key=fiscal_key_of(raw),
            issued_at=_issued_at(raw.get("dateTime")),
            operation=int(raw.get("operationType", OPERATION_SALE)),
            seller_inn=_inn(raw.get("userInn")) or "",
            seller_name=str(raw.get("user") or "").strip(),
            retail_place=str(raw.get("retailPlace") or "").strip(),
            total_kopecks=int(raw["totalSum"]),
            cash_kopecks=int(raw.get("cashTotalSum") or 0),
            ecash_kopecks=int(raw.get("ecashTotalSum") or 0),
            prepaid_kopecks=int(raw.get("prepaidSum") or 0),
            items=tuple(_item(item) for item in items),
            **{name: value for name, value in raw.items()
               if name not in known and name.isidentifier() and name not in Receipt.model_fields},
        )
    except InvalidReceipt:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, OSError, ValidationError) as error:
        raise InvalidReceipt(f"receipt unreadable: {error}") from error


_ITEM_FIELDS = {"name", "price", "quantity", "sum", "paymentType", "productType", "paymentAgentByProductType",
                "providerInn"}


def _item(raw: Any) -> ReceiptItem:
    if not isinstance(raw, dict):
        raise InvalidReceipt("an item is not an object")
    extras = {name: value for name, value in raw.items()
              if name not in _ITEM_FIELDS and name.isidentifier() and name not in ReceiptItem.model_fields}
    return ReceiptItem(
        **extras,
        name=" ".join(str(raw.get("name") or "").split()),
        price_kopecks=int(raw.get("price") or 0),
        quantity=Decimal(str(raw.get("quantity", 1))),
        sum_kopecks=int(raw["sum"]),
        payment_type=_optional_int(raw.get("paymentType")),
        product_type=_optional_int(raw.get("productType")),
        agent_flags=_optional_int(raw.get("paymentAgentByProductType")),
        supplier_inn=_inn(raw.get("providerInn")),
        gtin=_gtin(raw),
        serial=_serial(raw),
    )


def _issued_at(value: Any) -> datetime:
    if isinstance(value, bool) or value is None:
        raise InvalidReceipt("dateTime missing")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(int(value), tz=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MOSCOW)


def _inn(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _gtin(raw: dict[str, Any]) -> str | None:
    """GTIN from a marking code: `productCodeNew.<kind>.gtin` or `productCodeData.gtin` (an integer there,
    which loses the leading zero), zero-padded back to 14 digits."""
    candidates: list[Any] = []
    new = raw.get("productCodeNew")
    if isinstance(new, dict):
        candidates += [kind.get("gtin") for kind in new.values() if isinstance(kind, dict)]
    data = raw.get("productCodeData")
    if isinstance(data, dict):
        candidates.append(data.get("gtin"))
    return next((gtin for gtin in map(gtin14, candidates) if gtin), None)


def _serial(raw: dict[str, Any]) -> str | None:
    """The marking code's serial number (`sernum`), which with the GTIN names one physical item."""
    codes = [kind for kind in (raw.get("productCodeNew") or {}).values() if isinstance(kind, dict)] \
        if isinstance(raw.get("productCodeNew"), dict) else []
    if isinstance(raw.get("productCodeData"), dict):
        codes.append(raw["productCodeData"])
    return next((str(code["sernum"]).strip() for code in codes if str(code.get("sernum") or "").strip()), None)


def gtin14(value: Any) -> str | None:
    """A GTIN as the catalog keeps it: 14 digits, zero-padded (GTIN-8, -12 and -13 are GTIN-14 with leading
    zeros, which an integer loses); None if `value` is not up to 14 digits."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    return text.zfill(14) if text.isdigit() and len(text) <= 14 else None
