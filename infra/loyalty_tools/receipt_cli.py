"""`loyalty receipt explain` and `loyalty receipt decode`: what support answers "why did I get N points?" with.

explain SOURCE: a receipt file in any shape is explained as given; a QR string or a photo is looked up
in the receipt service (RECEIPT_SERVICE_URL, token in RECEIPT_SERVICE_TOKEN: a token never goes on the
command line, where shell history would keep it). It prints one JSON object, or a JSON array of them for
a file holding several receipts.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.qr_image import UnreadableImage, decode_qr
from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.config import load_program
from loyalty.domain.decision import Assessment, assess
from loyalty.domain.errors import DomainError
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import Receipt, normalise, normalise_one

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def explain(source: str, program_path: Path, now: datetime | None, out: TextIO = sys.stdout) -> int:
    program = load_program(program_path)
    now = now or datetime.now(UTC)
    try:
        receipts = _receipts(source)
    except (DomainError, OSError, ValueError) as error:
        print(json.dumps({"error": str(error), "reason": getattr(error, "reason", "unreadable_source")},
                         ensure_ascii=False), file=out)
        return 2
    explained = [_explanation(assess(receipt, program, now)) for receipt in receipts]
    print(json.dumps(explained[0] if len(explained) == 1 else explained, ensure_ascii=False, indent=2), file=out)
    return 0


def decode(images: list[str], out: TextIO = sys.stdout) -> int:
    failures = 0
    for image in images:
        try:
            texts = decode_qr(Path(image).read_bytes())
        except (OSError, UnreadableImage) as error:
            texts, problem = [], str(error)
        else:
            problem = "no QR code found"
        if texts:
            print(f"{image}\t{texts[0]}", file=out)
        else:
            failures += 1
            print(f"{image}\terror: {problem}", file=out)
    return 1 if failures else 0


def _receipts(source: str) -> list[Receipt]:
    path = Path(source)
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        texts = decode_qr(path.read_bytes())
        if not texts:
            raise UnreadableImage(f"no QR code found in {source}")
        return [_fetch(texts[0])]
    if path.is_file():
        return normalise(json.loads(path.read_text(encoding="utf-8")))  # a file is explained as given
    return [_fetch(source)]


def _fetch(qr: str) -> Receipt:
    service = Proverkacheka(os.environ.get("RECEIPT_SERVICE_URL", "https://proverkacheka.com"),
                            os.environ.get("RECEIPT_SERVICE_TOKEN", ""))
    return normalise_one(service.fetch(parse_qr(qr)))


def _explanation(assessment: Assessment) -> dict[str, Any]:
    receipt, match = assessment.receipt, assessment.match
    brand = {line.item_index: line for line in match.lines}
    return {
        "fiscal_key": {"fn": receipt.key.fn, "fd": receipt.key.fd, "fp": receipt.key.fp},
        "seller_inn": receipt.seller_inn,
        "seller": receipt.seller_name,
        "channel": match.channel,
        "store": match.store,
        "operation": receipt.operation,
        "issued_at": receipt.issued_at.isoformat(),
        "total_kopecks": receipt.total_kopecks,
        "items": [{
            "name": item.name, "sum_kopecks": item.sum_kopecks, "supplier_inn": item.supplier_inn,
            "gtin": item.gtin, "brand": index in brand,
            "category": brand[index].category if index in brand else None,
            "matched_by": brand[index].matched_by if index in brand else None,
        } for index, item in enumerate(receipt.items)],
        "brand_sum_kopecks": match.brand_sum_kopecks,
        "order_role": assessment.order_role,
        "points": assessment.points,
        "decision": assessment.decision,
        "reasons": [reason.model_dump() for reason in assessment.reasons],
    }
