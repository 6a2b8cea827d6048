"""`loyalty receipt explain` and `loyalty receipt decode`: what support answers "why did I get N points?" with.

explain SOURCE: a receipt file in any shape is explained as given; a QR string or a photo is looked up
in the receipt service (RECEIPT_SERVICE_URL, token in RECEIPT_SERVICE_TOKEN: a token never goes on the
command line, where shell history would keep it). It prints one JSON object, or a JSON array of them for
a file holding several receipts. The points are computed by `earning.purchase_credit`, the function the
ledger credits with, for the member `--member` names (their level, caps, debt, inviter) or for a new one.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.qr_image import UnreadableImage, decode_qr
from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.config import Program, load_program
from loyalty.domain import postings
from loyalty.domain.decision import assess
from loyalty.domain.earning import PurchaseCredit, purchase_credit
from loyalty.domain.errors import DomainError
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import Receipt, normalise, normalise_one
from loyalty.domain.wallet import Wallet

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def explain(source: str, program_path: Path, now: datetime | None, out: TextIO | None = None,
            member_id: str | None = None, members_table: str = "MembersTable",
            ledger_table: str = "LedgerTable") -> int:
    """Explain each receipt in `source` for member `member_id` (a new member at the entry level by default)."""
    program, out = load_program(program_path), out or sys.stdout  # sys.stdout as it is now, maybe redirected
    now = now or datetime.now(UTC)
    try:
        member = read_member(member_id, members_table, ledger_table) if member_id else Member()
        receipts = _receipts(source)
    except (DomainError, OSError, ValueError) as error:
        print(json.dumps({"error": str(error), "reason": getattr(error, "reason", "unreadable_source")},
                         ensure_ascii=False), file=out)
        return 2
    explained = [explanation(receipt, program, now, member) for receipt in receipts]
    print(json.dumps(explained[0] if len(explained) == 1 else explained, ensure_ascii=False, indent=2), file=out)
    return 0


class Member(BaseModel):
    """Whose purchase it is: their wallet (level, activity, debt) and who invited them."""

    member_id: str | None = None  # None: a new member
    wallet: Wallet = Wallet()
    referred_by: str | None = None


def read_member(member_id: str, members_table: str, ledger_table: str) -> Member:
    """A member as the stack AWS_ENDPOINT_URL or the AWS configuration points to has them (one read)."""
    wallet, _, holder = LedgerRepository(ledger_table, members_table).read(member_id)
    return Member(member_id=member_id, wallet=wallet, referred_by=holder.referred_by)


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


def explanation(receipt: Receipt, program: Program, now: datetime, member: Member) -> dict[str, Any]:
    """Why `receipt` earns what it earns for `member`: the same computation the ledger credits with."""
    assessment = assess(receipt, program, now, member.member_id or "")
    match = assessment.match
    brand = {line.item_index: line for line in match.lines}
    reasons = [reason.model_dump() for reason in assessment.reasons]
    credit: dict[str, Any] | None = None
    if assessment.decision == "accrue":
        earned = purchase_credit(program, member.wallet, list(match.lines), match.channel,
                                 program.channel_kind(match.channel), now, member.referred_by)
        step = postings.purchase(program, member.wallet, "explain", earned, match.brand_sum_kopecks, match.store)
        credit = {**earned.model_dump(mode="json", exclude={"lines", "earned_at"}),
                  "level_after": step.details["level"], "pending_days": (earned.available_at - now).days}
        reasons += _credit_reasons(program, earned, step.details)
    return {
        "fiscal_key": {"fn": receipt.key.fn, "fd": receipt.key.fd, "fp": receipt.key.fp},
        "seller_inn": receipt.seller_inn,
        "seller": receipt.seller_name,
        "retail_place": receipt.retail_place,
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
        "member": member.member_id,
        "points": credit["points"] if credit else 0,
        "credit": credit,
        "decision": assessment.decision,
        "reasons": reasons,
    }


def _credit_reasons(program: Program, credit: PurchaseCredit, step: dict[str, Any]) -> list[dict[str, str]]:
    level = program.level(credit.level)
    reasons = [("rate", f"{credit.percent}% of the brand's goods" +
                (f" at level {level.id} «{level.title}»" if level else " (the program's base rate)"))]
    reasons += [("goods_rule", f"{line.name} ({line.sum_kopecks} kopecks): {line.rule} → {line.points} points")
                for line in credit.lines if line.rule]
    total = sum((line.points for line in credit.lines), Decimal(0))
    reasons.append(("earned", f"{credit.earned} points ({total} rounded down once per receipt)"))
    if credit.cap:
        reasons.append(("cap", f"capped at {credit.cap}: {credit.points} of {credit.earned} credited"))
    if credit.debt_paid:
        reasons.append(("debt", f"{credit.debt_paid} of them pay off the debt a refund left"))
    if credit.pending:
        reasons.append(("pending", f"pending until {credit.available_at.isoformat()} (the channel's return window)"))
    else:
        reasons.append(("pending", "available at once"))
    if credit.expires_at:
        reasons.append(("expiry", f"expire at {credit.expires_at.isoformat()}"))
    if step["level_move"] == "up":
        reasons.append(("level_up", f"this purchase raises the level to {step['level']}"))
    if credit.referral:
        reasons.append(("referral", f"the first purchase of an invited member: +{credit.referral.referred} to them, "
                                    f"+{credit.referral.referrer} to member {credit.referral.inviter}"))
    return [{"code": code, "detail": detail} for code, detail in reasons]
