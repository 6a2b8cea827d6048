"""Receipt documents made to order (demo, tests, bench), shaped like proverkacheka's `data.json`."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from loyalty.domain.receipt import MOSCOW, normalise_one

WILDBERRIES_INN = "9714053621"
DEMO_FN = "7380440800000017"


def marketplace_receipt(supplier_inn: str, lines: list[tuple[str, int, int]], fd: int,
                        seller_inn: str = WILDBERRIES_INN, seller: str = "ООО «РВБ»",
                        retail_place: str = "www.wildberries.ru", issued_at: datetime | None = None,
                        fn: str = DEMO_FN, operation: int = 1) -> dict[str, Any]:
    """An agent receipt: the marketplace sells, `supplier_inn` supplies every line (name, price, qty)."""
    moment = (issued_at or datetime.now(MOSCOW) - timedelta(hours=1)).astimezone(MOSCOW)
    items: list[dict[str, Any]] = [{
        "name": name, "price": price, "quantity": quantity, "sum": price * quantity, "nds": 1,
        "paymentType": 4, "productType": 1, "paymentAgentByProductType": 64,
        "providerInn": supplier_inn.ljust(12),
    } for name, price, quantity in lines]
    total = sum(item["sum"] for item in items)
    return {
        "code": 3, "user": seller, "userInn": seller_inn.ljust(12), "retailPlace": retail_place,
        "dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "operationType": operation,
        "fiscalDriveNumber": fn, "fiscalDocumentNumber": fd,
        "fiscalSign": _fiscal_sign(fn, fd),
        "fiscalDocumentFormatVer": 4, "totalSum": total, "ecashTotalSum": 0, "cashTotalSum": 0,
        "prepaidSum": total, "items": items,
    }


def shop_receipt(seller_inn: str, seller: str, retail_place: str, lines: list[tuple[str, int, int, str | None]],
                 fd: int, fn: str, issued_at: datetime | None = None) -> dict[str, Any]:
    """A store selling on its own account (a retail chain, the brand's site): lines (name, price, qty, GTIN of
    the marking code or None), paid by card."""
    moment = (issued_at or datetime.now(MOSCOW) - timedelta(hours=1)).astimezone(MOSCOW)
    items: list[dict[str, Any]] = [{
        "name": name, "price": price, "quantity": quantity, "sum": price * quantity, "nds": 1, "paymentType": 4,
        "productType": 33 if gtin else 1,
        **({"productCodeNew": {"gs1m": {"gtin": gtin, "sernum": f"{fd}{index}", "productIdType": 6}}} if gtin else {}),
    } for index, (name, price, quantity, gtin) in enumerate(lines)]
    total = sum(item["sum"] for item in items)
    return {
        "code": 3, "user": seller, "userInn": seller_inn.ljust(12), "retailPlace": retail_place,
        "dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "operationType": 1,
        "fiscalDriveNumber": fn, "fiscalDocumentNumber": fd, "fiscalSign": _fiscal_sign(fn, fd),
        "fiscalDocumentFormatVer": 4, "totalSum": total, "ecashTotalSum": total, "cashTotalSum": 0,
        "prepaidSum": 0, "items": items,
    }


def fns_app_export(*raws: dict[str, Any]) -> list[dict[str, Any]]:
    """The file the FNS app shares: its tickets, each wrapping a receipt."""
    return [{"_id": f"{raw['fiscalDocumentNumber']:024x}", "createdAt": raw["dateTime"],
             "ticket": {"document": {"receipt": raw}}} for raw in raws]


def _fiscal_sign(fn: str, fd: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{fn}:{fd}".encode()).digest()[:4], "big")


def qr_of(raw: dict[str, Any]) -> str:
    """The QR text printed on the receipt."""
    return normalise_one(raw).query().to_qr()
