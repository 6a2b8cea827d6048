"""What the flows need from the outside world, as small interfaces in the domain's own types.

A flow receives objects with these shapes and imports nothing from `loyalty.adapters` but the pure readers of
outside formats: Telegram's updates and a receipt photo's QR code (tests/unit/test_layers.py holds that line).
`loyalty/wiring/` builds the real ones (DynamoDB, SQS, Telegram) once per cold start; the flow tests pass
in-memory fakes (tests/fakes.py) that the same contract tests check against the real adapters on moto and the
Telegram emulator (tests/integration/test_fakes_behave.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from pydantic import BaseModel

    from loyalty.contracts import CrmEvent, OutboundMessage
    from loyalty.domain.audit import Draft
    from loyalty.domain.audit import Entry as AuditEntry
    from loyalty.domain.campaigns import Touch
    from loyalty.domain.claims import Claimed, OrderHalf, Refund
    from loyalty.domain.codes import PromoCode
    from loyalty.domain.contact import Sent
    from loyalty.domain.conversation import FollowUp, Ticket
    from loyalty.domain.details import Details
    from loyalty.domain.draw import Counts, Spin
    from loyalty.domain.ledger import Entry, Holder, Kind, Posting
    from loyalty.domain.member import Member
    from loyalty.domain.qr import ReceiptQuery
    from loyalty.domain.wallet import Step, Wallet


class CommunityRoll(Protocol):
    """The members the bot let into the closed community (adapters/bot_table.py)."""

    def admit(self, member_id: str, at: datetime) -> None: ...

    def admitted(self, member_id: str) -> bool: ...

    def show_out(self, member_id: str) -> None: ...


class BotMethods(Protocol):
    """Any Bot API method by its name (adapters/bot_api.py: BotApi): its result, or the domain's error."""

    def call(self, method: str, **params: Any) -> Any: ...


class DrawStore(Protocol):
    """The prize draw's seeds, its counts and the spins in order (adapters/draw_store.py)."""

    def seed(self, day: date, now: datetime) -> bytes: ...

    def seeds(self, first: date, last: date) -> list[dict[str, Any]]: ...

    def state(self) -> tuple[Counts, int, int]: ...

    def record(self, spin: Spin, after: Counts, version: int) -> bool: ...

    def spin_of(self, player: str, number: int) -> Spin | None: ...

    def day(self, day: date) -> list[Spin]: ...


class Ledger(Protocol):
    """Members' wallets and their entries; adapters/ledger.py says how writes stay exactly-once."""

    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None, also: Callable[[Entry], list[Any]] | None = None,
              seen: dict[str, Any] | None = None) -> Posting:
        """Write entry `entry_id` once, with `step` computed from the member's current wallet (and `extra_items`,
        from a repository of the same store, in the same transaction, and those `also` makes of the entry about to
        be written). A replay returns the first posting. `seen`: the member as a caller read them (Member.seen),
        tried first instead of a read."""
        ...

    def read(self, member_id: str) -> tuple[Wallet, int, Holder]: ...

    def entry(self, member_id: str, entry_id: str) -> Entry | None: ...

    def entries(self, member_id: str) -> list[Entry]: ...

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

    def held(self) -> AbstractContextManager[None]:
        """The messages put meanwhile go together at its end (one request), none if it ends in an error."""
        ...


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


class CampaignConversions(CampaignFigures, Protocol):
    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime, held_out: bool = False) -> bool:
        """A delivered (or held-out) touch led to a purchase: counted once."""
        ...


class Forgetting(Protocol):
    """A store of what names members, which /delete rewrites (adapters/bot_table.py, adapters/campaign_store.py)."""

    def forget_member(self, member_id: str, pseudonym: str) -> int:
        """Whatever names `member_id` names `pseudonym` instead, or is gone; how many items changed."""
        ...


class CampaignRecords(CampaignFigures, Forgetting, Protocol):
    """What campaigns write once each: touches, their outcome, the runs' cursors (adapters/campaign_store.py)."""

    def cursor(self, campaign: str) -> datetime | None: ...

    def advance(self, campaign: str, to: datetime) -> None: ...

    def touched(self, touch: Touch) -> bool: ...

    def record(self, touch: Touch, points_given: int, now: datetime) -> bool: ...

    def settle(self, campaign: str, key: str, status: str, now: datetime,
               also: Sequence[Any] = ()) -> bool: ...

    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime, held_out: bool = False) -> bool:
        ...

    def reserve(self, campaign: str, points: int, total: int) -> bool:
        """Take `points` from a budget of `total`; False, taking nothing, when the rest is less."""
        ...

    def spent(self, campaign: str) -> int: ...

    def given_to(self, campaign: str, member_id: str) -> int: ...

    def boosted(self, campaign: str, receipt: str, points: int, now: datetime) -> bool:
        """A boost's extra points on a receipt, counted once as given and taken from the budget."""
        ...


class Rekeying(Protocol):
    def rekey(self, member_id: str, to: str) -> bool:
        """Move an erased member's wallet and entries to the pseudonym `to` (adapters/ledger.py); False when there
        is nothing left to move."""
        ...


class ReviewClaims(Protocol):
    def claim_review(self, review_id: str, member_id: str) -> str:
        """Who a published review is paid to: the first member it was reported for."""
        ...


class Claims(ReviewClaims, Protocol):
    """Receipts claimed once each (adapters/claims.py: ReceiptClaims)."""

    def claim(self, key: str, member_id: str, submission_id: str, summary: dict[str, Any], *, day: str,
              max_per_day: int | None, order: OrderHalf | None = None, refund: Refund | None = None) -> Claimed:
        """Claim `key` for this submission (a replay of the same submission answers as the first time). Raises
        ReceiptAlreadyClaimed, DailyLimitReached, RefundExceeded or MemberNotFound."""
        ...

    def purchases(self, member_id: str, seller_inn: str | None = None) -> list[dict[str, Any]]:
        """The member's earning claims (at one seller), newest first."""
        ...

    def claim_items(self, receipt_key: str, codes: list[str]) -> set[str]:
        """Claim each marked item for this receipt; the codes another receipt claimed first."""
        ...

    def release_items(self, receipt_key: str, codes: list[str]) -> None: ...

    def members_seen(self, scope: str, day: str, member_marker: str, receipt_key: str,
                     kept_days: int = 3) -> tuple[int, set[str], bool]:
        """Add the member and the receipt to those seen from `scope` on `day` (kept `kept_days` after the last
        addition): how many members, which receipts, whether the earlier ones were held already."""
        ...

    def unsee(self, scope: str, day: str, member_marker: str, receipt_keys: list[str]) -> None:
        """Take the member and their receipts out of those seen from `scope` on `day`."""
        ...

    def held_earlier(self, scope: str, day: str) -> None: ...

    def claimed(self, key: str) -> dict[str, Any] | None: ...

    def member_receipts_from(self, member_id: str, fn: str, since: str) -> int: ...

    def unlisted(self, codes: list[str]) -> set[str]:
        """The marked items whose serial the brand did not put into circulation (of GTINs it loaded)."""
        ...

    def record_grey(self, code: str, receipt_key: str, where: dict[str, Any]) -> None: ...

    def reassign(self, member_id: str, to: str) -> int:
        """An erased member's claims pass to their pseudonym; how many moved."""
        ...


class MemberDirectory(Protocol):
    def get(self, member_id: str) -> Member | None: ...

    def find_by_phone(self, phone: str) -> str | None: ...

    def find_by_username(self, marker: str) -> str | None: ...

    def note_username(self, member_id: str, marker: str | None) -> None: ...

    def note_name(self, member_id: str, name: str) -> None: ...


class Members(MemberDirectory, Protocol):
    """The members table (adapters/members.py): every write but `join` raises MemberNotFound for nobody."""

    def join(self, member_id: str, chat_id: int, language: str, referred_by: str | None = None,
             via: str | None = None) -> Member:
        """Create the member on first contact (the inviter and `via` kept only then); later, refresh chat and
        language, and subscribe them again."""
        ...

    def unsubscribe(self, member_id: str) -> bool:
        """They blocked the bot; False when there is no such member any more."""
        ...

    def subscribe(self, member_id: str) -> None: ...

    def keep_interests(self, member_id: str, interests: dict[str, list[str]]) -> None: ...

    def retire(self, member_id: str, merged_into: str) -> None: ...

    def forget_inviter(self, member_id: str) -> None: ...

    def suspect(self, member_id: str, rule: str) -> None: ...

    def clear_suspect(self, member_id: str, rule: str) -> None: ...

    def touched_item(self, member_id: str, touch: dict[str, Any]) -> Any:
        """The write, for the ledger's transaction, that makes `touch` the member's last campaign message."""
        ...

    def save_phone(self, member_id: str, phone: str, rules_url: str | None = None) -> Member:
        """Keep the phone (consent to the rules); the member as they were, with the pending receipt to send on."""
        ...

    def choose_language(self, member_id: str, language: str) -> None: ...

    def surveyed(self, member_id: str, rating: int | None = None, recommends: int | None = None) -> None:
        """Their last answers to the survey, as segments read them."""
        ...

    def choose_time_zone(self, member_id: str, zone: str) -> None: ...

    def await_answer(self, member_id: str, kind: str, about: str, until: str) -> None: ...

    def answered(self, member_id: str) -> None: ...

    def admit(self, member_id: str, submission: str, counted: dict[str, str], limits: dict[str, int]
              ) -> tuple[Member | None, str | None]:
        """Count a receipt's `submission` in the member's windows (`counted`: window -> its id) unless one is full,
        reading the member with it: the member (None: nobody, nothing counted) and the full window (None: counted).
        Counted once however often its update comes."""
        ...

    def erase(self, member_id: str) -> None: ...

    def keep_pending(self, member_id: str, submission: str) -> None: ...


class Audience(Protocol):
    """Who a campaign run reads: members as the lapse index projects them."""

    def lapsed(self, after: str, until: str) -> Iterator[dict[str, Any]]: ...

    def everyone(self) -> Iterator[dict[str, Any]]: ...


class Invitations(Protocol):
    """Invitation codes, and the keyed markers of erased people (adapters/bot_table.py; domain/keyed.py makes them)."""

    def invite_code(self, member_id: str) -> str: ...

    def inviter(self, code: str) -> str | None: ...

    def forget_invitations(self, member_id: str) -> None: ...

    def mark_erased(self, marker: str) -> None: ...

    def phone_accounts(self, phone_marker: str, member_marker: str) -> int:
        """Add the account to those the phone has been behind, over time; how many there are now."""
        ...

    def was_erased(self, marker: str) -> bool: ...


class FollowUpStore(Protocol):
    """The messages scripted after a receipt, and the nudges (adapters/bot_table.py). Every bool is "the first
    time": a repeat changes nothing and answers False."""

    def schedule(self, followup: FollowUp) -> bool: ...

    def scheduled_writes(self, followups: list[FollowUp]) -> list[Any]:
        """Their writes, for the ledger's transaction (Ledger.apply's `also`): kept only with the entry."""
        ...

    def due(self, now: datetime) -> Iterator[FollowUp]: ...

    def followup(self, followup_id: str) -> FollowUp | None: ...

    def settle(self, followup_id: str, status: str) -> None: ...

    def postpone(self, followup_id: str, due_at: datetime) -> bool:
        """Move a due letter to its next slot: True the first time it was held."""
        ...

    def contacts(self, member_id: str, since: datetime) -> list[Sent]:
        """The letters that reached the member since `since`."""
        ...

    def contacted(self, member_id: str, sent: Sent) -> None: ...

    def rate(self, followup_id: str, rating: int) -> bool: ...

    def recommend(self, followup_id: str, score: int) -> bool: ...

    def clicked(self, followup_id: str) -> bool: ...

    def nudge_state(self, member_id: str, name: str) -> dict[str, Any]: ...

    def nudged(self, member_id: str, name: str, now: datetime) -> None: ...

    def stop_nudge(self, member_id: str, name: str, now: datetime) -> bool: ...


class Tickets(Protocol):
    """What the staff chat decides on: opened once, closed once."""

    def open_ticket(self, ticket: Ticket) -> bool: ...

    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def close_ticket(self, ticket_id: str, status: str, was: tuple[str, ...] = ("open",)) -> bool: ...


class RewardStock(Protocol):
    def stock_left(self, reward_id: str, initial: int) -> int: ...

    def take_item(self, reward_id: str, order_id: str, initial: int) -> Any:
        """The write, for the ledger's transaction, that takes one of the stock: it fails when none is left."""
        ...


class BotMemory(Invitations, FollowUpStore, Tickets, RewardStock, Forgetting, CommunityRoll, Protocol):
    """Everything the bot remembers between messages: one table (adapters/bot_table.py: BotTable)."""


class ReceiptService(Protocol):
    """Who turns a QR code into the full fiscal receipt (adapters/receipt_service.py: Proverkacheka)."""

    def fetch(self, query: ReceiptQuery) -> Any:
        """The full receipt document for `query`, in any shape `loyalty.domain.receipt` reads."""
        ...


class Once(Protocol):
    """Runs a function once per key of one keyword argument; a repeat returns the first result
    (adapters/idempotency.py: OncePerKey, Powertools Idempotency). The handler registers its context on `config`."""

    config: IdempotencyConfig

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]: ...


class Pacer(Protocol):
    """A pace shared by every sender (adapters/pacing.py): `wait` returns when this sender may send."""

    def wait(self) -> float: ...


class DeadLetters(Protocol):
    """Where a message that can never be processed is parked, with the reason (adapters/queues.py)."""

    def park(self, body: str, reason: str, group: str | None = None, **context: str) -> None: ...


class CrmTarget(Protocol):
    """A CRM adapter: Mindbox (adapters/mindbox.py) or a signed webhook (adapters/signed_webhook.py)."""

    def deliver(self, event: CrmEvent) -> None:
        """Apply the event once (raises CrmUnavailable to retry later, CrmRejected when it never can be)."""
        ...


class FileSource(Protocol):
    """Where the files shoppers send are downloaded from (Telegram)."""

    def download(self, file_id: str) -> bytes: ...


class MessageSink(Protocol):
    """Where a shopper's messages are delivered (Telegram); returns the message's id there."""

    def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None,
                     parse_mode: str | None = None) -> int: ...

    def send_photo(self, chat_id: int, photo_url: str, caption: str,
                   reply_markup: dict[str, Any] | None = None) -> int: ...

    def remove_from_chat(self, chat_id: int, user_id: int) -> None:
        """Show the user out of a group or channel, free to come back (a ban lifted at once)."""
        ...


class AuditTrail(Protocol):
    """The staff's audit log, as an action is written to it (adapters/audit_log.py)."""

    def append(self, draft: Draft) -> AuditEntry: ...


class SentMessages(Protocol):
    """The last message sent to each chat, and the keys of the messages sent to it lately (adapters/bot_table.py)."""

    def take(self, message: OutboundMessage) -> bool:
        """Keep `message` as the chat's last, and its key: False (nothing changed) if its key was taken lately."""
        ...

    def give_back(self, message: OutboundMessage) -> None:
        """It was not sent after all: its key may be taken again."""
        ...

    def last_sent(self, chat_id: int) -> tuple[OutboundMessage, str] | None: ...
