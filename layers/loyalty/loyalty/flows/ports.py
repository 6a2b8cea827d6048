"""What the flows need from the outside world, as small interfaces.

A flow receives objects with these shapes; `loyalty/wiring.py` builds the real ones (DynamoDB, SQS) once per
cold start, and the flow tests pass in-memory fakes that behave the same (tests/fakes.py, checked against
the real adapters on moto by tests/integration/test_fakes_behave.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from loyalty.adapters.members import Member
from loyalty.adapters.promo_codes import PromoCode
from loyalty.contracts import OutboundMessage
from loyalty.domain.campaigns import Touch
from loyalty.domain.details import Details
from loyalty.domain.ledger import Entry, Holder, Kind, Posting
from loyalty.domain.wallet import Step, Wallet


class Ledger(Protocol):
    """Members' wallets and their entries; adapters/ledger.py says how writes stay exactly-once."""

    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None) -> Posting:
        """Write entry `entry_id` once, with `step` computed from the member's current wallet (and `extra_items`,
        from a repository of the same store, in the same transaction). A replay returns the first posting."""
        ...

    def read(self, member_id: str) -> tuple[Wallet, int, Holder]: ...

    def entry(self, member_id: str, entry_id: str) -> Entry | None: ...

    def history(self, member_id: str, limit: int) -> list[Entry]: ...

    def due(self, now: datetime) -> Iterator[str]:
        """Members with something due at `now`."""
        ...


class Queue(Protocol):
    """Where a flow hands a message on (another function's queue, the outbox)."""

    def put(self, message: BaseModel) -> None: ...


class Outbox(Protocol):
    """The messages to shoppers and the staff chat (adapters/queues.py: ChatOrderedQueue): each chat's in the order
    they were put."""

    def put(self, message: OutboundMessage) -> None: ...


class GroupedQueue(Protocol):
    """A FIFO queue: messages of one `group` are consumed in order; one `dedupe` id is taken once (5 minutes)."""

    def put(self, message: BaseModel, group: str, dedupe: str) -> None: ...


class PromoCodeStore(Protocol):
    def put_item(self, code: PromoCode, expires_at: datetime) -> Any:
        """The write that creates the code, for the ledger to make in the hold's own transaction."""
        ...

    def find(self, code: str) -> PromoCode | None: ...


class CampaignFigures(Protocol):
    def add(self, campaign: str, **counters: int) -> None: ...


class CampaignRecords(CampaignFigures, Protocol):
    """What campaigns write once each: touches, their outcome, the runs' cursors (adapters/campaign_store.py)."""

    def cursor(self, campaign: str) -> datetime | None: ...

    def advance(self, campaign: str, to: datetime) -> None: ...

    def touched(self, touch: Touch) -> bool: ...

    def record(self, touch: Touch, points_given: int, now: datetime) -> bool: ...

    def settle(self, campaign: str, key: str, status: str, now: datetime,
               also: Sequence[dict[str, Any]] = ()) -> bool: ...

    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime) -> bool: ...


class ReviewClaims(Protocol):
    def claim_review(self, review_id: str, member_id: str) -> str:
        """Who a published review is paid to: the first member it was reported for."""
        ...


class MemberDirectory(Protocol):
    def get(self, member_id: str) -> Member | None: ...

    def find_by_phone(self, phone: str) -> str | None: ...


class FileSource(Protocol):
    """Where the files shoppers send are downloaded from (Telegram)."""

    def download(self, file_id: str) -> bytes: ...


class MessageSink(Protocol):
    """Where a shopper's messages are delivered (Telegram); returns the message's id there."""

    def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None,
                     parse_mode: str | None = None) -> int: ...

    def send_photo(self, chat_id: int, photo_url: str, caption: str,
                   reply_markup: dict[str, Any] | None = None) -> int: ...
