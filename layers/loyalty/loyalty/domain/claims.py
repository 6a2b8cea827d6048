"""A receipt's claim as the claims table answers it (adapters/claims.py): what the receipt does, and the halves of
an order or the refund it is claimed with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Outcome = Literal["earns", "same_order", "reverses"]


@dataclass(frozen=True)
class OrderHalf:
    fingerprint: str
    role: str  # prepayment | settlement
    issued_at: datetime
    pair_window: timedelta


@dataclass(frozen=True)
class Refund:
    purchase_key: str
    kopecks: int  # of the purchase's brand goods


@dataclass(frozen=True)
class Claimed:
    outcome: Outcome
    replayed: bool  # the same submission claimed it before (a redelivered message)
    paired_with: str | None = None
    record: dict[str, Any] | None = None  # on a replay: the claim as first written


ROLES = ("prepayment", "settlement")
Halves = dict[str, list[dict[str, str]]]  # role -> [{key, issued_at}], the halves of an order still waiting


def pair(waiting: Halves, key: str, order: OrderHalf) -> tuple[Halves, str | None]:
    """The halves still waiting once receipt `key`, one half of an order, arrives, and the other half it pairs with
    (None: it waits instead). Halves too old to pair with anything still to come are dropped, so the record stays
    small."""
    horizon = order.issued_at - 2 * order.pair_window
    kept = {role: [half for half in waiting.get(role, []) if datetime.fromisoformat(half["issued_at"]) >= horizon]
            for role in ROLES}
    other = "settlement" if order.role == "prepayment" else "prepayment"
    partner = next((half for half in kept[other]
                    if abs(datetime.fromisoformat(half["issued_at"]) - order.issued_at) <= order.pair_window), None)
    if partner:
        kept[other].remove(partner)
    else:
        kept[order.role].append({"key": key, "issued_at": order.issued_at.isoformat()})
    return kept, partner["key"] if partner else None
