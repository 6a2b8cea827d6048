"""What the brand's CRM is told, put on CrmQueue in the same step as the change it reports.

One message per change — a ledger entry, a shared phone, a blocked bot — carrying that change's events in
order (a receipt: the order, its points, a new level), grouped by member so that one member's events reach the
CRM in the order they happened. Every event's id is derived from its cause, so a redelivered cause puts the
same message again: the FIFO queue drops it within five minutes, and the CRM's idempotency key
(Mindbox's transactionId) after that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty.contracts import (
    CrmBalance,
    CrmBatch,
    CrmEvent,
    Deleted,
    LevelChanged,
    MemberRegistered,
    MemberUpdated,
    PointsChanged,
    ReceiptRecorded,
    Unsubscribed,
)
from loyalty.domain.ledger import Entry, Holder, Kind, Posting

if TYPE_CHECKING:
    from loyalty.domain.details import Details
    from loyalty.domain.member import Member
    from loyalty.domain.wallet import Balance, Step, Wallet
    from loyalty.flows.ports import GroupedQueue, Ledger

# An imported balance, and its move to the Telegram member who proved the phone, are what the CRM already has
# from its own bulk import of the same file (docs/crm.md): reporting them would count them twice there. A deleted
# member's write-off follows the CRM's own deletion of the customer: there is nobody left there to report it on.
_KNOWN_TO_THE_CRM = {Kind.OPENING, Kind.TRANSFER, Kind.FORFEIT}


def registration_of(member: Member, cause: str, now: datetime) -> MemberRegistered | None:
    """The member's registration in the CRM from our own data (their profile as it is now), keyed on `cause`: None
    for a member who is erased or has not shared a phone (the CRM keeps nobody without one)."""
    if member.erased_at or not member.phone:
        return None
    return MemberRegistered(
        event_id=f"{member.member_id}/registered:{cause}", member_id=member.member_id, occurred_at=now,
        phone=member.phone, telegram_id=member.chat_id, name=member.name, language=member.language,
        source=member.joined_via, consent=member.consented_at is not None or member.joined_via != "import",
        referred_by=member.referred_by)


def events_of(entry: Entry) -> list[CrmEvent]:
    """The CRM events one ledger entry makes: the receipt it credits, the points it moved, the level it changed."""
    if entry.kind in _KNOWN_TO_THE_CRM:
        return []
    details, cause = entry.details, f"{entry.member_id}/{entry.entry_id}"
    events: list[CrmEvent] = []
    if entry.kind == Kind.ACCRUAL and details.fiscal_key:
        events.append(ReceiptRecorded(
            event_id=f"{cause}:receipt", member_id=entry.member_id, occurred_at=entry.created_at,
            fiscal_key=details.fiscal_key, channel=details.channel or "other", store=details.store or "",
            purchased_at=details.purchased_at or entry.created_at, brand_sum_kopecks=details.brand_sum_kopecks,
            lines=tuple(details.lines), points=details.credited,
            pending=details.pending))
    change = entry.change
    if change.available or change.pending or change.held:
        events.append(PointsChanged(
            event_id=f"{cause}:points", member_id=entry.member_id, occurred_at=entry.created_at,
            entry_id=entry.entry_id, kind=entry.kind.value, points=entry.points, change=_points(change),
            balance_after=_points(entry.balance_after), expires_at=details.expires_at, label=details.label))
    if details.level_move in ("up", "down") and details.level != details.level_before:
        events.append(LevelChanged(event_id=f"{cause}:level", member_id=entry.member_id,
                                   occurred_at=entry.created_at, level_before=details.level_before,
                                   level=details.level))
    return events


def _points(balance: Balance) -> CrmBalance:
    return CrmBalance(available=balance.available, pending=balance.pending, held=balance.held)


def dedupe_id(key: str) -> str:
    """A FIFO deduplication id (at most 128 characters) for any key."""
    return hashlib.sha256(key.encode()).hexdigest()


class CrmFeed:
    """Puts each change's events on CrmQueue. Phone numbers travel in the (encrypted) queue, never in a log."""

    def __init__(self, queue: GroupedQueue):
        self.queue = queue

    def put(self, member_id: str, key: str, events: list[CrmEvent]) -> None:
        if events:
            self.queue.put(CrmBatch(member_id=member_id, key=key, events=tuple(events)), group=member_id,
                           dedupe=dedupe_id(key))

    def posted(self, entry: Entry) -> None:
        self.put(entry.member_id, f"entry:{entry.member_id}/{entry.entry_id}", events_of(entry))

    def registered(self, member_id: str, phone: str, now: datetime, telegram_id: int | None, source: str,
                   language: str = "ru", name: str | None = None, referred_by: str | None = None) -> None:
        """The member shared their phone, accepting the rules. Keyed on the member: every share of the same
        phone repeats the same registration, so a lost one is made good by the next."""
        key = f"{member_id}/registered"
        self.put(member_id, key, [MemberRegistered(
            event_id=key, member_id=member_id, occurred_at=now, phone=phone, telegram_id=telegram_id, name=name,
            language=language, source=source, consent=True, referred_by=referred_by)])

    def updated(self, member_id: str, cause: str, now: datetime, **changes: Any) -> None:
        key = f"{member_id}/updated:{cause}"
        self.put(member_id, key, [MemberUpdated(event_id=key, member_id=member_id, occurred_at=now, **changes)])

    def unsubscribed(self, member_id: str, cause: str, now: datetime) -> None:
        key = f"{member_id}/unsubscribed:{cause}"
        self.put(member_id, key, [Unsubscribed(event_id=key, member_id=member_id, occurred_at=now)])

    def deleted(self, member_id: str, cause: str, now: datetime) -> None:
        """/delete: the CRM erases the customer too (Mindbox: the project's delete operation)."""
        key = f"{member_id}/deleted:{cause}"
        self.put(member_id, key, [Deleted(event_id=key, member_id=member_id, occurred_at=now)])


class Reported:
    """A ledger that reports every entry it writes to the CRM, right after writing it. A replayed write reports
    its entry again (the queue and the CRM drop the repeat), so an entry whose report was lost to a crash is
    reported when its cause is redelivered."""

    def __init__(self, ledger: Ledger, feed: CrmFeed):
        self.ledger = ledger
        self.feed = feed

    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None, also: Callable[[Entry], list[Any]] | None = None,
              seen: dict[str, Any] | None = None) -> Posting:
        posting = self.ledger.apply(member_id, entry_id, kind, step, details, extra_items, now, also, seen)
        self.feed.posted(posting.entry)
        return posting

    def read(self, member_id: str) -> tuple[Wallet, int, Holder]:
        return self.ledger.read(member_id)

    def entry(self, member_id: str, entry_id: str) -> Entry | None:
        return self.ledger.entry(member_id, entry_id)

    def entries(self, member_id: str) -> list[Entry]:
        return self.ledger.entries(member_id)

    def history(self, member_id: str, limit: int) -> list[Entry]:
        return self.ledger.history(member_id, limit)

    def due(self, now: datetime) -> Iterator[str]:
        return self.ledger.due(now)
