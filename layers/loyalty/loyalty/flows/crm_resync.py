"""`loyalty crm resync MEMBER|--all`: the CRM's view of a member rebuilt from our own books.

What is sent: the member's registration as the members table has them now (profile, phone, source), their level,
and every ledger entry's events under the ids they were first reported with. The CRM applies an id once
(Mindbox's transactionId), so what it has is answered "already processed" and only what it lacks lands: an order
or a points change whose report was lost (a function that died between the ledger's write and the report, a
refusal parked and never redriven). Running it again sends the same ids: nothing changes twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from loyalty.contracts import CrmEvent, LevelChanged
from loyalty.flows.crm_feed import CrmFeed, events_of, registration_of
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.ledger import Entry
    from loyalty.flows.ports import Audience, MemberDirectory

_EVENTS_PER_MESSAGE = 40  # a CrmQueue message stays far below SQS's 256 KB with its receipts' lines


class EntryLog(Protocol):
    def entries(self, member_id: str) -> list[Entry]: ...


class CrmResync:
    def __init__(self, members: MemberDirectory, audience: Audience, books: EntryLog, feed: CrmFeed):
        self.members = members
        self.audience = audience
        self.books = books
        self.feed = feed

    def member(self, member_id: str, now: datetime) -> int:
        """Queue the member's view for the CRM; how many events (0: erased, no phone yet, or no such member)."""
        found = self.members.get(member_id)
        registration = registration_of(found, f"resync:{now.isoformat()}", now) if found is not None else None
        if found is None or found.chat_id is None or registration is None:
            return 0  # erased, no phone yet, or imported and never in the bot (the CRM has them from the import)
        events: list[CrmEvent] = [registration, LevelChanged(
            event_id=f"{member_id}/level:resync:{found.level}", member_id=member_id, occurred_at=now,
            level_before=None, level=found.level)]
        for entry in sorted(self.books.entries(member_id), key=lambda entry: (entry.created_at, entry.entry_id)):
            events += events_of(entry)
        for start in range(0, len(events), _EVENTS_PER_MESSAGE):
            chunk = events[start:start + _EVENTS_PER_MESSAGE]
            self.feed.put(member_id, f"resync:{member_id}:{now.isoformat()}:{start}", chunk)
        logger.info("member resynced to the CRM", extra={"member_id": member_id, "events": len(events)})
        return len(events)

    def everyone(self, now: datetime) -> Iterator[tuple[str, int]]:
        """Every member, one by one: (member, events queued)."""
        for item in self.audience.everyone():
            yield str(item["member_id"]), self.member(str(item["member_id"]), now)
