"""Ledger entries: what one change to a member's wallet records, and the outcome of writing it. Pure: the
ledger repository (adapters/ledger.py) writes them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from loyalty.domain.wallet import Balance, Step


class Holder(BaseModel):
    """Who owns a wallet, as the member item says: what a flow needs to answer them."""

    member_id: str
    chat_id: int | None = None
    language: str = "ru"
    referred_by: str | None = None


class Posting(BaseModel):
    """The outcome of writing one entry. `applied` is False when the entry was already there (a replay):
    `entry` is then the one written the first time, so follow-up effects repeat exactly."""

    entry: dict[str, Any]
    applied: bool
    holder: Holder

    @property
    def points(self) -> int:
        return int(self.entry["points"])

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = self.entry.get("details", {})
        return details

    @property
    def balance(self) -> Balance:
        return Balance(**self.entry["balance_after"])


def entry_of(member_id: str, entry_id: str, kind: str, step: Step, created_at: str,
             details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ledger entry a step makes: its change to each balance, the balances after it, and why."""
    return {
        "member_id": member_id, "entry_id": entry_id, "kind": kind, "points": step.change.points,
        "change": step.change.model_dump(), "balance_after": step.wallet.balance.model_dump(),
        "created_at": created_at, "details": {**(details or {}), **step.details},
    }
