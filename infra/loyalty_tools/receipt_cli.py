"""`loyalty receipt explain` and `loyalty receipt decode`: what support answers "why did I get N points?" with.

explain SOURCE: a receipt file in any shape is explained as given; a QR string or a photo is looked up
in the receipt service (RECEIPT_SERVICE_URL, token in RECEIPT_SERVICE_TOKEN: a token never goes on the
command line, where shell history would keep it). It prints one JSON object, or a JSON array of them for
a file holding several receipts. The points are computed by the functions the ledger credits with
(`earning.purchase_credit`, and `earning.refund_points` for a refund), for the member `--member` names
(their level, caps, debt, inviter, purchases) or for a new one.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TextIO

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.program_file import load_program
from loyalty.adapters.qr_image import UnreadableImage, decode_qr
from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.domain import postings
from loyalty.domain.decision import Assessment, assess, refund_candidates
from loyalty.domain.details import Details
from loyalty.domain.earning import PurchaseCredit, purchase_credit, refund_points
from loyalty.domain.errors import DomainError
from loyalty.domain.ledger import Cause, entry_id_of
from loyalty.domain.program import Program
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import Receipt, normalise, normalise_one
from loyalty.domain.wallet import Wallet

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def explain(source: str, program_path: Path, now: datetime | None, out: TextIO | None = None,
            member_id: str | None = None, tables: Tables | None = None) -> int:
    """Explain each receipt in `source` for member `member_id` (a new member at the entry level by default)."""
    program, out = load_program(program_path), out or sys.stdout  # sys.stdout as it is now, maybe redirected
    now = now or datetime.now(UTC)
    try:
        member = read_member(member_id, tables or Tables()) if member_id else Member()
        receipts = _receipts(source)
    except (DomainError, OSError, ValueError) as error:
        print(json.dumps({"error": str(error), "reason": getattr(error, "reason", "unreadable_source")},
                         ensure_ascii=False), file=out)
        return 2
    explained = [explanation(receipt, program, now, member) for receipt in receipts]
    print(json.dumps(explained[0] if len(explained) == 1 else explained, ensure_ascii=False, indent=2), file=out)
    return 0


@dataclass(frozen=True)
class Tables:
    members: str = "MembersTable"
    ledger: str = "LedgerTable"
    claims: str = "ReceiptClaimsTable"


class Purchases(Protocol):
    """A member's registered purchases, which a refund is matched against (read only)."""

    def at(self, seller_inn: str) -> list[dict[str, Any]]:
        """The member's earning claims at one seller, newest first."""

    def accrual(self, fiscal_key: str) -> Details | None:
        """The details of the ledger entry that credited that purchase."""

    def item_receipt(self, code: str) -> str | None:
        """The receipt that earned on a marked item (`<gtin>:<serial>`), if one did."""


@dataclass(frozen=True)
class Member:
    """Whose receipt it is: their wallet (level, activity, debt), who invited them, and their purchases."""

    member_id: str | None = None  # None: a new member (no purchase a refund could return)
    wallet: Wallet = field(default_factory=Wallet)
    referred_by: str | None = None
    purchases: Purchases | None = None


@dataclass(frozen=True)
class _StoredPurchases:
    member_id: str
    claims: ReceiptClaims
    ledger: LedgerRepository

    def at(self, seller_inn: str) -> list[dict[str, Any]]:
        return self.claims.purchases(self.member_id, seller_inn)

    def accrual(self, fiscal_key: str) -> Details | None:
        entry = self.ledger.entry(self.member_id, entry_id_of(Cause.RECEIPT, fiscal_key))
        return entry.details if entry else None

    def item_receipt(self, code: str) -> str | None:
        return self.claims.item_receipt(code)


def read_member(member_id: str, tables: Tables) -> Member:
    """A member as the stack AWS_ENDPOINT_URL or the AWS configuration points to has them (reads only)."""
    ledger = LedgerRepository(tables.ledger, tables.members)
    wallet, _, holder = ledger.read(member_id)
    return Member(member_id=member_id, wallet=wallet, referred_by=holder.referred_by,
                  purchases=_StoredPurchases(member_id, ReceiptClaims(tables.claims, tables.members), ledger))


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
    if assessment.decision == "accrue" and member.purchases is not None:  # one physical item earns once
        stored = member.purchases
        earned_before = {line.marking for line in assessment.match.lines if line.marking
                         and stored.item_receipt(line.marking) not in (None, str(receipt.key))}
        assessment = assessment.without_items(earned_before) if earned_before else assessment
    match = assessment.match
    brand = {line.item_index: line for line in match.lines}
    reasons = [reason.model_dump() for reason in assessment.reasons]
    credit: dict[str, Any] | None = None
    if assessment.decision == "accrue":
        credit, more = _accrual(program, assessment, member, now)
        reasons += more
    elif assessment.decision == "reverse":
        credit, why = _reversal(program, assessment, member, now)
        if credit is None:
            assessment = assessment.rejected("refund_unmatched", why)
        reasons.append({"code": "reversal" if credit else "refund_unmatched", "detail": why})
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
            "gtin": item.gtin, "serial": item.serial, "brand": index in brand,
            "category": brand[index].category if index in brand else None,
            "matched_by": brand[index].matched_by if index in brand else None,
        } for index, item in enumerate(receipt.items)],
        "brand_sum_kopecks": match.brand_sum_kopecks,
        "order_role": assessment.order_role,
        "member": member.member_id,
        "points": 0 if credit is None else -credit["points"] if assessment.decision == "reverse" else credit["points"],
        "credit": credit,
        "decision": assessment.decision,
        "reasons": reasons,
    }


def _accrual(program: Program, purchase: Assessment, member: Member, now: datetime
             ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """What the ledger credits this member for this purchase (`earning.purchase_credit`), and why."""
    match = purchase.match
    earned = purchase_credit(program, member.wallet, list(match.lines), match.channel,
                             program.channel_kind(match.channel), now, member.referred_by)
    step = postings.purchase(program, member.wallet, "explain", earned, match.brand_sum_kopecks, match.store)
    credit = {**earned.model_dump(mode="json", exclude={"lines", "earned_at"}), "level_after": step.details.level,
              "debt_paid": step.details.debt_paid, "pending_days": (earned.available_at - now).days}
    return credit, _credit_reasons(program, earned, step.details)


def _reversal(program: Program, refund: Assessment, member: Member, now: datetime
              ) -> tuple[dict[str, Any] | None, str]:
    """What the ledger takes back from this member for this refund (`earning.refund_points`, from the purchase
    it is matched to as point_accrual matches it), or why it would be refused."""
    if member.purchases is None:
        return None, "a new member has no purchase a refund could return (explain it with --member)"
    receipt, lines = refund.receipt, list(refund.match.lines)
    for purchase, (refunded, purchased) in refund_candidates(refund, member.purchases.at(receipt.seller_inn)):
        if purchase.get("refundable_kopecks", purchased) < refunded:
            continue  # refunded already: the claim would look at an older purchase
        key, accrual = purchase["fiscal_key"], member.purchases.accrual(purchase["fiscal_key"])
        if accrual is None:
            return None, f"the points of purchase {key} are not credited yet"
        points = refund_points(program, accrual, lines, refunded, purchased)
        debt = postings.refund(member.wallet, entry_id_of(Cause.RECEIPT, key), points, refunded, refunded == purchased,
                               now).details.shortfall
        credit = {"reverses": key, "refunded_kopecks": refunded, "purchase_kopecks": purchased, "points": points,
                  "shortfall": debt}
        return credit, (f"takes back {points} points of purchase {key} ({refunded} of its {purchased} kopecks of "
                        "the brand's goods)" + (f"; {debt} of them become debt, paid off by the next credits"
                                                 if debt else ""))
    return None, "no registered purchase of the member holds the refunded goods"


def _credit_reasons(program: Program, credit: PurchaseCredit, step: Details) -> list[dict[str, str]]:
    level = program.level(credit.level)
    title = program.level_title(credit.level, "ru")
    reasons = [("rate", f"{credit.percent}% of the brand's goods" +
                (f" at level {level.id} «{title}»" if level else " (the program's base rate)"))]
    reasons += [("goods_rule", f"{line.name} ({line.sum_kopecks} kopecks): {line.rule} → {line.points} points")
                for line in credit.lines if line.rule]
    total = sum((line.points for line in credit.lines), Decimal(0))
    reasons.append(("earned", f"{credit.earned} points" + (f" ({total} rounded down once per receipt)"
                                                           if total != credit.earned else "")))
    if credit.cap:
        reasons.append(("cap", f"capped at {credit.cap}: {credit.points} of {credit.earned} credited"))
    if step.debt_paid:  # the wallet pays debt off first, as it credits
        reasons.append(("debt", f"{step.debt_paid} of them pay off the debt a refund left"))
    if credit.pending:
        reasons.append(("pending", f"pending until {credit.available_at.isoformat()} (the channel's return window)"))
    else:
        reasons.append(("pending", "available at once"))
    if credit.expires_at:
        reasons.append(("expiry", f"expire at {credit.expires_at.isoformat()}"))
    if step.level_move == "up":
        after = program.level(step.level)
        reasons.append(("level_up", f"this purchase raises the level to {step.level}"
                                    + (f" «{program.level_title(after.id, 'ru')}» ({after.percent}% from the next "
                                       "purchase)" if after else "")))
    if credit.referral:
        reasons.append(("referral", f"the first purchase of an invited member: +{credit.referral.referred} to them, "
                                    f"+{credit.referral.referrer} to member {credit.referral.inviter}"))
    return [{"code": code, "detail": detail} for code, detail in reasons]
