"""In-memory stand-ins for the adapters the flows take (loyalty/flows/ports.py), for flow tests that run in
milliseconds. They behave like the real ones where a flow can tell — an entry is written once and a replay
returns the first posting, a missing member is MemberNotFound, the due index follows the program's
`next_due`, a promo code exists only if its hold was written — and tests/integration/test_fakes_behave.py
runs the same script against these and the DynamoDB adapters on moto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from loyalty import clock
from loyalty.adapters.campaign_store import COUNTERS, touch_key
from loyalty.adapters.members import Member
from loyalty.adapters.promo_codes import PromoCode, normalise_code
from loyalty.contracts import OutboundMessage
from loyalty.domain import postings
from loyalty.domain.campaigns import Touch
from loyalty.domain.details import Details
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.ledger import Entry, Holder, Kind, Posting, entry_of
from loyalty.domain.program import Program
from loyalty.domain.wallet import Step, Wallet


@dataclass
class _Account:
    member: Member
    wallet: Wallet = field(default_factory=Wallet)
    entries: dict[str, Entry] = field(default_factory=dict)  # in the order written
    next_due: datetime | None = None


class MemoryBooks:
    """The members table and the ledger in one: what MembersRepository and LedgerRepository share in DynamoDB."""

    def __init__(self, program: Program):
        self.program = program
        self.accounts: dict[str, _Account] = {}

    # ------------------------------------------------------------------ members (MemberDirectory)
    def join(self, member_id: str, chat_id: int | None = None, language: str = "ru", referred_by: str | None = None,
             phone: str | None = None) -> Member:
        if member_id not in self.accounts:
            inviter = referred_by if referred_by != member_id else None
            chat_id = chat_id or (int(member_id) if member_id.isdigit() else None)  # none: imported, not in the bot
            self.accounts[member_id] = _Account(Member(member_id=member_id, chat_id=chat_id,
                                                       language=language, referred_by=inviter, phone=phone,
                                                       joined_at=clock.stamp()))
        return self.accounts[member_id].member

    def get(self, member_id: str) -> Member | None:
        account = self.accounts.get(member_id)
        if account is None:
            return None
        balance = account.wallet.balance
        return account.member.model_copy(update={**balance.model_dump(), "level": account.wallet.level})

    def find_by_phone(self, phone: str) -> str | None:
        return next((key for key, account in self.accounts.items() if account.member.phone == phone), None)

    # ------------------------------------------------------------------ campaign audiences (Audience)
    def lapsed(self, after: str, until: str) -> Iterator[dict[str, Any]]:
        """Members whose last purchase stamp is in (after, until], as the lapse index returns them."""
        for account in self.accounts.values():
            last = account.wallet.facts.last_purchase_at
            if last is not None and after < clock.stamp(last) <= until:
                yield self._audience_item(account)

    def everyone(self) -> Iterator[dict[str, Any]]:
        yield from (self._audience_item(account) for account in self.accounts.values())

    def unsubscribe(self, member_id: str) -> None:
        member = self.accounts[member_id].member
        self.accounts[member_id].member = member.model_copy(update={"subscribed": False})

    @staticmethod
    def _audience_item(account: _Account) -> dict[str, Any]:
        member = account.member
        item = {"member_id": member.member_id, "wallet": account.wallet.model_dump_json(), "chat_id": member.chat_id,
                "language": member.language, "subscribed": member.subscribed, "joined_via": member.joined_via,
                "referred_by": member.referred_by}
        return {name: value for name, value in item.items() if value is not None}

    # ------------------------------------------------------------------ the ledger (Ledger)
    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None) -> Posting:
        wallet, _, holder = self.read(member_id)
        account = self.accounts[member_id]
        if entry_id in account.entries:  # a redelivery: the first posting, whatever the wallet is now
            return Posting(entry=account.entries[entry_id], applied=False, holder=holder)
        result = step(wallet)  # a DomainError (no points, no such hold) leaves everything as it was
        entry = entry_of(member_id, entry_id, kind, result, now or clock.now(), details)
        for write in extra_items or []:  # the same transaction: written with the entry, or not at all
            write()
        account.entries[entry_id] = entry
        account.wallet = result.wallet
        account.next_due = postings.next_due(self.program, result.wallet)
        return Posting(entry=entry, applied=True, holder=holder)

    def read(self, member_id: str) -> tuple[Wallet, int, Holder]:
        account = self.accounts.get(member_id)
        if account is None:
            raise MemberNotFound(member_id)
        member = account.member
        holder = Holder(member_id=member_id, chat_id=member.chat_id, language=member.language,
                        referred_by=member.referred_by, subscribed=member.subscribed)
        return account.wallet, len(account.entries), holder

    def entry(self, member_id: str, entry_id: str) -> Entry | None:
        account = self.accounts.get(member_id)
        return account.entries.get(entry_id) if account else None

    def entries(self, member_id: str) -> list[Entry]:
        return sorted(self.accounts[member_id].entries.values(), key=lambda entry: entry.entry_id)

    def history(self, member_id: str, limit: int) -> list[Entry]:
        written = list(self.accounts[member_id].entries.values())
        return sorted(written, key=lambda entry: entry.created_at, reverse=True)[:limit]

    def due(self, now: datetime) -> Iterator[str]:
        due = [key for key, account in self.accounts.items() if account.next_due and account.next_due <= now]
        yield from due


class MemoryQueue:
    """A queue: what was put in it, in order."""

    def __init__(self) -> None:
        self.messages: list[BaseModel] = []

    def put(self, message: BaseModel) -> None:
        self.messages.append(message)


class MemoryFifoQueue:
    """A FIFO queue as SQS keeps one: a deduplication id already taken is dropped (SQS: within five minutes)."""

    def __init__(self) -> None:
        self.messages: list[BaseModel] = []
        self.groups: list[str] = []
        self.puts = 0
        self._taken: set[str] = set()

    def put(self, message: BaseModel, group: str, dedupe: str) -> None:
        self.puts += 1
        if dedupe not in self._taken:
            self._taken.add(dedupe)
            self.messages.append(message)
            self.groups.append(group)


class MemoryOutbox(MemoryQueue):
    """The outbox, read as the telegram_sender reads it: one message per dedupe key."""

    def texts(self, chat_id: int | None = None) -> list[str]:
        sent: dict[str, str] = {}
        for message in self.messages:
            assert isinstance(message, OutboundMessage)
            if chat_id is None or message.chat_id == chat_id:
                sent.setdefault(message.dedupe_key, message.text)
        return list(sent.values())


class MemoryPromoCodes:
    def __init__(self) -> None:
        self.codes: dict[str, PromoCode] = {}

    def put_item(self, code: PromoCode, expires_at: datetime) -> Callable[[], None]:
        def write() -> None:
            self.codes[code.code] = code
        return write

    def find(self, code: str) -> PromoCode | None:
        return self.codes.get(normalise_code(code))


class MemoryFigures:
    """Campaign counters, as CampaignStore.add keeps them."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[str, int]] = {}

    def add(self, campaign: str, **counters: int) -> None:
        figures = self.counters.setdefault(campaign, {})
        for name, value in counters.items():
            figures[name] = figures.get(name, 0) + value


class MemoryCampaigns:
    """CampaignStore in memory: a touch recorded once with its counters, settled once, converted once."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.figures = MemoryFigures()
        self.cursors: dict[str, datetime] = {}

    def cursor(self, campaign: str) -> datetime | None:
        return self.cursors.get(campaign)

    def advance(self, campaign: str, to: datetime) -> None:
        self.cursors[campaign] = max(to, self.cursors.get(campaign, to))

    def touched(self, touch: Touch) -> bool:
        return (touch.campaign, touch_key(touch)) in self.records

    def record(self, touch: Touch, points_given: int, now: datetime) -> bool:
        if self.touched(touch):
            return False
        self.records[touch.campaign, touch_key(touch)] = {"member_id": touch.member_id, "status": "queued",
                                                          "points_given": points_given}
        self.add(touch.campaign, audience=1, points_given=points_given)
        return True

    def settle(self, campaign: str, key: str, status: str, now: datetime, also: Sequence[dict[str, Any]] = ()) -> bool:
        record = self.records.get((campaign, key))
        if record is None or record["status"] != "queued":
            return False
        record["status"] = status
        self.add(campaign, **{status: 1})
        return True

    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime) -> bool:
        record = self.records.get((campaign, key))
        if record is None or record["status"] != "delivered" or record.get("converted"):
            return False
        record["converted"] = True
        self.add(campaign, converted=1, revenue_kopecks=revenue_kopecks)
        return True

    def add(self, campaign: str, **counters: int) -> None:
        self.figures.add(campaign, **counters)

    def stats(self, campaign: str) -> dict[str, int]:
        return {name: self.figures.counters.get(campaign, {}).get(name, 0) for name in COUNTERS}
