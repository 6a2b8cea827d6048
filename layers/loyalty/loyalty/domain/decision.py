"""Whether a receipt earns, and why: everything that can be decided from the receipt and the program.

What needs the database (a fiscal key already claimed, the member's receipts today, the other receipt of
the same order, the purchase a refund returns) is decided by the flow, which adds its reasons here.

Prepayment and settlement of one order. A marketplace may print two "приход" receipts for one order: a
prepayment when the shopper pays (items with payment type 1-3) and a settlement on delivery (payment type
4, covered by `prepaidSum`). They have different fiscal keys but the same seller and the same goods, so
both get the same *order fingerprint*: the seller's INN and the brand lines' normalised names, prices,
quantities and suppliers. Whichever arrives first earns the order's points; the other, arriving within
`receipts.order_pair_days` of it, is matched to it one to one and earns nothing. Two genuine orders of
the same basket each have their own pair, so each pair still earns once.

Both receipts of an order carry the buyer's contact (`buyerPhoneOrAddress`), so the fingerprint includes
it (hashed: it is personal data). That also keeps a popular product's fingerprint from becoming one hot
record shared by every buyer. A receipt without a contact is scoped to the member who sent it instead.
"""


import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from loyalty.domain.matching import BrandLine, Match, match_brand_goods
from loyalty.domain.names import normalise_name
from loyalty.domain.points import purchase_points
from loyalty.domain.receipt import OPERATION_SALE, OPERATION_SALE_REFUND, Receipt

if TYPE_CHECKING:
    from loyalty.domain.program import Program

# ISO receipt times carry no zone and are read as Moscow time (see receipt.py), so a receipt from the Far
# East (up to UTC+12) can look up to 9 hours ahead of now. Beyond 12 hours it is dated in the future.
FUTURE_TOLERANCE = timedelta(hours=12)
PREPAYMENT_TYPES = {1, 2, 3}
SETTLEMENT_TYPES = {4, 5, 6, 7}

Decision = Literal["accrue", "reject", "reverse"]
OrderRole = Literal["prepayment", "settlement"]


class Reason(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    code: str
    detail: str


class Assessment(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    receipt: Receipt
    match: Match
    decision: Decision
    reasons: tuple[Reason, ...]
    order_role: OrderRole | None = None
    order_fingerprint: str | None = None

    def rejected(self, code: str, detail: str) -> "Assessment":
        return self.model_copy(update={"decision": "reject",
                                       "reasons": (*self.reasons, Reason(code=code, detail=detail))})

    def without_items(self, items: set[str], code: str = "item_earned_before",
                      why: str = "earned on another receipt") -> "Assessment":
        """The lines of these marked items earn nothing here (by default: each earned on another receipt, a resale
        or a return and rebuy); a receipt left with none is refused."""
        kept = tuple(line for line in self.match.lines if line.marking not in items)
        reasons = tuple(Reason(code=code, detail=f"{line.name}: item {line.marking} {why}")
                        for line in self.match.lines if line.marking in items)
        changed = self.model_copy(update={"match": self.match.model_copy(update={"lines": kept}),
                                          "reasons": (*self.reasons, *reasons)})
        refusal = "items_earned_before" if code == "item_earned_before" else "items_grey_market"
        return changed.rejected(refusal, f"every brand item here: {why}") if not kept else changed

    @property
    def first_refusal(self) -> Reason | None:
        return next((reason for reason in self.reasons if reason.code in REFUSALS), None)


# Reasons that refuse a receipt, each with the shopper's message.
REFUSALS = {
    "not_a_sale": "receipt_not_a_sale",
    "too_old": "receipt_too_old",
    "future": "receipt_in_future",
    "no_brand_goods": "receipt_no_brand_goods",
    "too_small": "receipt_zero_points",
    "already_claimed": "receipt_duplicate",
    "daily_limit": "receipt_daily_limit",
    "same_order": "receipt_same_order",
    "refund_unmatched": "refund_unmatched",
    "items_earned_before": "receipt_items_earned_before",
    "items_grey_market": "receipt_items_grey_market",
}


def assess(receipt: Receipt, program: "Program", now: datetime, member_id: str = "") -> Assessment:
    match = match_brand_goods(receipt, program)
    role = order_role(receipt, match)
    reasons = [Reason(code="channel", detail=f"seller {receipt.seller_inn} is channel {match.channel}")]
    reasons += [Reason(code="brand_line", detail=f"{line.name}: {line.sum_kopecks} kopecks by {line.matched_by}")
                for line in match.lines]
    if role:
        reasons.append(Reason(code="order_role", detail=f"{role} receipt of an order"))
    base = Assessment(receipt=receipt, match=match, decision="accrue", reasons=tuple(reasons),
                      order_role=role,
                      order_fingerprint=order_fingerprint(receipt, match, member_id) if role else None)
    if receipt.operation not in (OPERATION_SALE, OPERATION_SALE_REFUND):
        return base.rejected("not_a_sale", f"operation type {receipt.operation} earns nothing")
    age = now - receipt.issued_at
    if age > timedelta(days=program.receipts.max_age_days):
        return base.rejected("too_old", f"issued {age.days} days ago; the window is "
                                        f"{program.receipts.max_age_days} days")
    if -age > FUTURE_TOLERANCE:
        return base.rejected("future", f"issued {receipt.issued_at.isoformat()}, after {now.isoformat()}")
    if not match.lines:
        return base.rejected("no_brand_goods", f"no brand goods among {len(receipt.items)} lines at {match.store}")
    if receipt.operation == OPERATION_SALE_REFUND:
        return base.model_copy(update={"decision": "reverse", "reasons": (
            *base.reasons, Reason(code="refund", detail="a refund takes back what its lines earned in the purchase "
                                                        "it returns"))})
    # What a purchase earns depends on the member (their level's rate, caps): that is earning.purchase_credit's.
    # Refused here is only a purchase too small to earn a point at the program's most generous rate.
    best = max([level.percent for level in program.levels] or [program.earning.base_percent])
    if purchase_points(list(match.lines), program, best) == 0:
        return base.rejected("too_small", f"{match.brand_sum_kopecks} kopecks earn less than one point even "
                                          f"at {best}%")
    return base.model_copy(update={"reasons": (*base.reasons, Reason(
        code="accrue", detail=f"{match.brand_sum_kopecks} kopecks of the brand's goods earn points"))})


def order_role(receipt: Receipt, match: Match) -> OrderRole | None:
    """Prepayment or settlement half of a paid-in-advance order, or None for an ordinary purchase."""
    types = {receipt.items[line.item_index].payment_type for line in match.lines}
    if types and types <= PREPAYMENT_TYPES:
        return "prepayment"
    if types and types <= SETTLEMENT_TYPES and receipt.prepaid_kopecks > 0:
        return "settlement"
    return None


def order_fingerprint(receipt: Receipt, match: Match, member_id: str = "") -> str:
    buyer = str((receipt.model_extra or {}).get("buyerPhoneOrAddress") or "").strip().lower()
    scope = f"buyer:{buyer}" if buyer else f"member:{member_id}"
    lines = sorted(f"{normalise_name(line.name)}|{line.price_kopecks}|{line.quantity}|{line.supplier_inn or ''}"
                   for line in match.lines)
    return hashlib.sha256("\n".join([scope, receipt.seller_inn, *lines]).encode()).hexdigest()[:32]


def refund_candidates(refund: Assessment, purchases: list[dict[str, Any]]
                      ) -> Iterator[tuple[dict[str, Any], tuple[int, int]]]:
    """The member's purchases (claims, newest first) a refund may return, in the order they are tried: bought
    before the refund and holding every refunded line; each with (refunded kopecks, purchased kopecks)."""
    for purchase in purchases:
        lines = tuple(BrandLine.model_validate(line) for line in purchase.get("lines", []))
        share = refunded_share(refund.match.lines, lines)
        if share is not None and datetime.fromisoformat(purchase["issued_at"]) <= refund.receipt.issued_at:
            yield purchase, share


def refunded_share(refund: tuple[BrandLine, ...], purchase: tuple[BrandLine, ...]) -> tuple[int, int] | None:
    """How much of a purchase a refund returns, as (refunded kopecks, purchased kopecks), or None when the
    refund's lines are not all among the purchase's (matched by normalised name and price)."""
    available = [(normalise_name(line.name), line.price_kopecks) for line in purchase]
    for line in refund:
        wanted = (normalise_name(line.name), line.price_kopecks)
        if wanted not in available:
            return None
        available.remove(wanted)
    purchased = sum(line.sum_kopecks for line in purchase)
    return min(sum(line.sum_kopecks for line in refund), purchased), purchased
