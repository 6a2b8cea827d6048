"""In-memory stand-ins for the adapters the flows take (loyalty/flows/ports.py), for flow tests that run in
milliseconds. They behave like the real ones where a flow can tell — an entry is written once and a replay
returns the first posting, a missing member is MemberNotFound, the due index follows the program's
`next_due`, a promo code exists only if its hold was written — and tests/integration/test_fakes_behave.py
runs the same script against these and the DynamoDB adapters on moto.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from pydantic import BaseModel

from loyalty import clock
from loyalty.adapters.campaign_store import COUNTERS
from loyalty.contracts import CrmEvent, Deleted, MemberRegistered, OutboundMessage, joined
from loyalty.domain import chat_limits, postings
from loyalty.domain.audit import GENESIS, chained
from loyalty.domain.audit import Draft as AuditDraft
from loyalty.domain.audit import Entry as AuditEntry
from loyalty.domain.campaigns import HELD_OUT, Touch, TouchRecord, touch_key
from loyalty.domain.claims import Claimed, Halves, OrderHalf, Outcome, Refund, pair
from loyalty.domain.codes import PromoCode, new_code, normalise_code
from loyalty.domain.composer import ApprovalRule, CampaignRefused, Made
from loyalty.domain.console import ChangeRefused
from loyalty.domain.contact import Sent as Contacted
from loyalty.domain.conversation import FollowUp, Ticket
from loyalty.domain.details import Details
from loyalty.domain.draw import Counts, Spin, seed_hash
from loyalty.domain.errors import (
    ChatBlocked,
    CrmCustomerUnknown,
    DailyLimitReached,
    ItemRefused,
    MemberNotFound,
    MessageRejected,
    ReceiptAlreadyClaimed,
    RefundExceeded,
)
from loyalty.domain.everyday import Change
from loyalty.domain.keyed import Keyed
from loyalty.domain.ledger import Entry, Holder, Kind, Posting, entry_of
from loyalty.domain.member import Member
from loyalty.domain.program import Program
from loyalty.domain.staff import StaffMember
from loyalty.domain.wallet import Step, Wallet

STACK_KEY = Keyed(lambda: "a test stack's key")  # keyed ids and erasure markers, as the stack's secret makes them

class _Refused(Exception):
    """A fake transaction item's condition failed (the ledger answers ItemRefused, as DynamoDB's would)."""


@dataclass
class _Account:
    member: Member
    wallet: Wallet = field(default_factory=Wallet)
    entries: dict[str, Entry] = field(default_factory=dict)  # in the order written
    next_due: datetime | None = None


class MemoryBooks:
    """The members table and the ledger in one: what MembersRepository and LedgerRepository share in DynamoDB."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.accounts: dict[str, _Account] = {}
        self.sent_minutes: dict[str, tuple[str, set[str]]] = {}  # a member's receipt submissions: this minute's
        self.sent_days: dict[tuple[str, str], set[str]] = {}  # … and each day's

    # ------------------------------------------------------------------ members (MemberDirectory)
    def join(self, member_id: str, chat_id: int | None = None, language: str = "ru", referred_by: str | None = None,
             via: str | None = None, phone: str | None = None) -> Member:
        """As MembersRepository.join: the inviter and `via` only from the first contact; later, chat and language
        refreshed and the member subscribed again. (`phone`: a fake's shortcut for an imported or known phone.)"""
        account = self.accounts.get(member_id)
        if account is None:
            inviter = referred_by if referred_by != member_id else None
            chat_id = chat_id or (int(member_id) if member_id.isdigit() else None)  # none: imported, not in the bot
            joined_via = (via or "referral") if inviter else (via or "organic")
            self.accounts[member_id] = _Account(Member(member_id=member_id, chat_id=chat_id, language=language,
                                                       referred_by=inviter, phone=phone, joined_via=joined_via,
                                                       joined_at=clock.stamp()))
        else:
            self._update(member_id, chat_id=chat_id or account.member.chat_id, language=language, subscribed=True)
        return self.get(member_id) or self.accounts[member_id].member

    def _member(self, member_id: str) -> Member:
        account = self.accounts.get(member_id)
        if account is None:
            raise MemberNotFound(member_id)
        return account.member

    def _update(self, member_id: str, **fields: Any) -> Member:
        """A conditional update of a member who must exist (MemberNotFound otherwise), as the adapter's."""
        member = self._member(member_id).model_copy(update=fields)
        self.accounts[member_id].member = member
        return member

    # ------------------------------------------------------------------ members (Members)
    def unsubscribe(self, member_id: str) -> bool:
        if member_id not in self.accounts:
            return False
        self._update(member_id, subscribed=False)
        return True

    def retire(self, member_id: str, merged_into: str) -> None:
        self._update(member_id, merged_into=merged_into, phone=None)

    def forget_inviter(self, member_id: str) -> None:
        self._update(member_id, referred_by=None)

    def suspect(self, member_id: str, rule: str) -> None:
        if member_id not in self.accounts:
            raise MemberNotFound(member_id)
        member = self.accounts[member_id].member
        self._update(member_id, suspect=sorted({*member.suspect, rule}))

    def clear_suspect(self, member_id: str, rule: str) -> None:
        member = self._member(member_id)
        self._update(member_id, suspect=[kept for kept in member.suspect if kept != rule])

    def touched_item(self, member_id: str, touch: dict[str, Any]) -> Callable[[], Callable[[], None]]:
        def prepare() -> Callable[[], None]:
            if member_id not in self.accounts:
                raise _Refused
            return lambda: self._touch(member_id, touch)
        return prepare

    def _touch(self, member_id: str, touch: dict[str, Any]) -> None:
        self._update(member_id, last_touch=touch)

    def save_phone(self, member_id: str, phone: str, rules_url: str | None = None) -> Member:
        before = self._member(member_id)
        self._update(member_id, phone=phone, consented_at=clock.stamp(), rules_url=rules_url or "",
                     pending_receipt=None, erased_at=None)
        return before.model_copy(update={"phone": phone, "phone_before": before.phone})

    def choose_language(self, member_id: str, language: str) -> None:
        self._update(member_id, language_choice=language, language=language)

    def choose_time_zone(self, member_id: str, zone: str) -> None:
        self._update(member_id, time_zone=zone)

    def subscribe(self, member_id: str) -> None:
        self._update(member_id, subscribed=True)

    def keep_interests(self, member_id: str, interests: dict[str, list[str]]) -> None:
        self._update(member_id, interests=interests)

    def await_answer(self, member_id: str, kind: str, about: str, until: str) -> None:
        self._update(member_id, awaiting={"kind": kind, "about": about, "until": until})

    def answered(self, member_id: str) -> None:
        self._update(member_id, awaiting=None)

    def erase(self, member_id: str) -> None:
        member = self._member(member_id)
        gone = dict.fromkeys(("phone", "name", "chat_id", "language_choice", "time_zone", "pending_receipt",
                              "referred_by", "consented_at", "rules_url", "awaiting", "last_touch"))
        gone["interests"] = {}
        self._update(member_id, **gone, erased_at=clock.stamp(), subscribed=False, language="ru",
                     joined_via="organic", anonymous_id=member.anonymous_id or f"erased-{secrets.token_hex(8)}")

    def keep_pending(self, member_id: str, submission: str) -> None:
        self._update(member_id, pending_receipt=submission)

    def admit(self, member_id: str, submission: str, counted: dict[str, str], limits: dict[str, int]
              ) -> tuple[Member | None, str | None]:
        """As MembersRepository.admit: the member's current minute and each day's submissions, on the member."""
        account = self.accounts.get(member_id)
        if account is None:
            return None, None
        today = self.sent_days.setdefault((member_id, counted["day"]), set())
        minute, in_minute = self.sent_minutes.get(member_id, ("", set()))
        if submission not in today and len(today) >= limits["day"]:
            return account.member, "day"
        if minute == counted["minute"]:
            if submission in in_minute:
                return account.member, None
            if len(in_minute) >= limits["minute"]:
                return account.member, "minute"
            in_minute.add(submission)
        else:
            self.sent_minutes[member_id] = (counted["minute"], {submission})
        today.add(submission)
        return account.member, None

    def rekey(self, member_id: str, to: str) -> bool:
        """As LedgerRepository.rekey: an erased member's wallet and entries move to `to`, once."""
        account = self.accounts.get(member_id)
        if account is None or not account.member.erased_at:
            return False
        moved = self.accounts.pop(member_id)
        entries = {key: entry.model_copy(update={"member_id": to}) for key, entry in moved.entries.items()}
        self.accounts[to] = _Account(moved.member.model_copy(update={"member_id": to}), moved.wallet, entries, None)
        return True

    def get(self, member_id: str) -> Member | None:
        account = self.accounts.get(member_id)
        if account is None:
            return None
        balance = account.wallet.balance
        return account.member.model_copy(update={**balance.model_dump(), "level": account.wallet.level})

    def find_by_phone(self, phone: str) -> str | None:
        return next((key for key, account in self.accounts.items() if account.member.phone == phone), None)

    def find_by_username(self, marker: str) -> str | None:
        return next((key for key, account in self.accounts.items() if account.member.username_marker == marker),
                    None)

    def note_username(self, member_id: str, marker: str | None) -> None:
        account = self.accounts[member_id]
        account.member = account.member.model_copy(update={"username_marker": marker})

    def note_name(self, member_id: str, name: str) -> None:
        self._update(member_id, name=name)

    def surveyed(self, member_id: str, rating: int | None = None, recommends: int | None = None) -> None:
        answers = {"survey_rating": rating, "survey_recommends": recommends}
        self._update(member_id, **{name: value for name, value in answers.items() if value is not None})

    # ------------------------------------------------------------------ campaign audiences (Audience)
    def lapsed(self, after: str, until: str) -> Iterator[dict[str, Any]]:
        """Members whose last purchase stamp is in (after, until], as the lapse index returns them."""
        for account in self.accounts.values():
            last = account.wallet.facts.last_purchase_at
            if last is not None and after < clock.stamp(last) <= until:
                yield self._audience_item(account)

    def everyone(self) -> Iterator[dict[str, Any]]:
        yield from (self._audience_item(account) for account in self.accounts.values())

    @staticmethod
    def _audience_item(account: _Account) -> dict[str, Any]:
        member = account.member
        item = {"member_id": member.member_id, "wallet": account.wallet.model_dump_json(), "chat_id": member.chat_id,
                "language": member.language, "subscribed": member.subscribed, "joined_via": member.joined_via,
                "referred_by": member.referred_by, "name": member.name, "time_zone": member.time_zone,
                "survey_rating": member.survey_rating, "survey_recommends": member.survey_recommends}
        return {name: value for name, value in item.items() if value is not None}

    # ------------------------------------------------------------------ the ledger (Ledger)
    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None, also: Callable[[Entry], list[Any]] | None = None,
              seen: dict[str, Any] | None = None) -> Posting:
        # `seen` is only the real ledger's first guess at the wallet: a stale one is refused and the wallet read, so
        # what is written is what this current read gives.
        wallet, _, holder = self.read(member_id)
        account = self.accounts[member_id]
        if entry_id in account.entries:  # a redelivery: the first posting, whatever the wallet is now
            return Posting(entry=account.entries[entry_id], applied=False, holder=holder)
        result = step(wallet)  # a DomainError (no points, no such hold) leaves everything as it was
        entry = entry_of(member_id, entry_id, kind, result, now or clock.now(), details)
        commits = []
        written = [*(extra_items or []), *(also(entry) if also is not None else [])]
        for index, prepare in enumerate(written):  # the same transaction: with the entry, or not at all
            try:
                commits.append(prepare())
            except _Refused:
                raise ItemRefused(index) from None
        for commit in commits:
            commit()
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
                        time_zone=member.time_zone, referred_by=member.referred_by, subscribed=member.subscribed,
                        last_touch=member.last_touch)  # as LedgerRepository reads it: attribution included
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
        self.messages: list[Any] = []  # the models put, as they were

    def put(self, message: BaseModel) -> None:
        self.messages.append(message)


class MemoryFifoQueue:
    """A FIFO queue as SQS keeps one: a deduplication id already taken is dropped (SQS: within five minutes)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []  # the models put, as they were
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

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """As ChatOrderedQueue holds them: together at the end (a chat's consecutive texts joined), none if the step
        fails."""
        before = len(self.messages)
        try:
            yield
        except BaseException:
            del self.messages[before:]
            raise
        self.messages[before:] = joined(self.messages[before:])

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

    def put_item(self, code: PromoCode, expires_at: datetime) -> Callable[[], Callable[[], None]]:
        def prepare() -> Callable[[], None]:
            if code.code in self.codes:
                raise _Refused
            return lambda: self.codes.__setitem__(code.code, code)
        return prepare

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
        self.boosts: set[tuple[str, str]] = set()  # (campaign, receipt): a boost's points counted
        self.figures = MemoryFigures()
        self.cursors: dict[str, datetime] = {}

    def cursor(self, campaign: str) -> datetime | None:
        return self.cursors.get(campaign)

    def advance(self, campaign: str, to: datetime) -> None:
        self.cursors[campaign] = max(to, self.cursors.get(campaign, to))

    def touched(self, touch: Touch) -> bool:
        return (touch.campaign, touch_key(touch)) in self.records

    def forget_member(self, member_id: str, pseudonym: str) -> int:
        mine = [(campaign, key) for (campaign, key), record in self.records.items() if record["member_id"] == member_id]
        for campaign, key in mine:
            record = self.records.pop((campaign, key))
            renamed = key.replace(f"touch#{member_id}#", f"touch#{pseudonym}#", 1)
            self.records[campaign, renamed] = {**record, "member_id": pseudonym, "key": renamed}
        return len(mine)

    def record(self, touch: Touch, points_given: int, now: datetime) -> bool:
        if self.touched(touch):
            return False
        self.records[touch.campaign, touch_key(touch)] = TouchRecord(
            campaign=touch.campaign, key=touch_key(touch), member_id=touch.member_id, step=touch.step, status="queued",
            queued_at=clock.stamp(now), points_given=points_given).model_dump()
        self.add(touch.campaign, audience=1, points_given=points_given)
        return True

    def touches(self, campaign: str) -> list[TouchRecord]:
        return [TouchRecord.model_validate(record) for (name, _), record in sorted(self.records.items())
                if name == campaign]

    def settle(self, campaign: str, key: str, status: str, now: datetime, also: Sequence[Any] = ()) -> bool:
        record = self.records.get((campaign, key))
        if record is None or record["status"] != "queued":
            return False
        record.update(status=status, delivered_at=clock.stamp(now))
        self.add(campaign, **{status: 1})
        try:  # the member's last touch, in the same transaction; refused (erased since) it is left out
            commits = [prepare() for prepare in also]
        except _Refused:
            commits = []
        for commit in commits:
            commit()
        return True

    def convert(self, campaign: str, key: str, revenue_kopecks: int, now: datetime, held_out: bool = False) -> bool:
        record = self.records.get((campaign, key))
        if record is None or record["status"] != (HELD_OUT if held_out else "delivered") or record["converted_at"]:
            return False
        record.update(converted_at=clock.stamp(now), revenue_kopecks=revenue_kopecks)
        if held_out:
            self.add(campaign, holdout_converted=1, holdout_revenue_kopecks=revenue_kopecks)
        else:
            self.add(campaign, converted=1, revenue_kopecks=revenue_kopecks)
        return True

    def add(self, campaign: str, **counters: int) -> None:
        self.figures.add(campaign, **counters)

    def reserve(self, campaign: str, points: int, total: int) -> bool:
        if self.spent(campaign) + points > total:
            return False
        self.add(campaign, budget_used=points)
        return True

    def spent(self, campaign: str) -> int:
        return self.figures.counters.get(campaign, {}).get("budget_used", 0)

    def given_to(self, campaign: str, member_id: str) -> int:
        return sum(record["points_given"] for (name, _), record in self.records.items()
                   if name == campaign and record["member_id"] == member_id)

    def boosted(self, campaign: str, receipt: str, points: int, now: datetime) -> bool:
        if (campaign, receipt) in self.boosts:
            return False
        self.boosts.add((campaign, receipt))
        self.add(campaign, points_given=points, budget_used=points)
        return True

    def stats(self, campaign: str) -> dict[str, int]:
        return {name: self.figures.counters.get(campaign, {}).get(name, 0) for name in COUNTERS}


class MemoryBotTable:
    """BotTable in memory (flows/ports.py: BotMemory): every "first time" write answers True once."""

    def __init__(self) -> None:
        self.invites: dict[str, str] = {}  # code -> member
        self.codes: dict[str, str] = {}  # member -> code
        self.erased: set[str] = set()
        self.phones: dict[str, set[str]] = {}  # phone marker -> account markers
        self.followups: dict[str, FollowUp] = {}
        self.recommended: dict[str, int] = {}  # NPS answers
        self.due_ids: set[str] = set()
        self.ratings: dict[str, int] = {}
        self.clicks: set[str] = set()
        self.community: dict[str, datetime] = {}  # members the bot let into the closed community
        self.nudges: dict[tuple[str, str], dict[str, Any]] = {}
        self.tickets: dict[str, Ticket] = {}
        self.taken: dict[str, int] = {}
        self.sent: dict[str, set[Contacted]] = {}  # member -> the letters that reached them

    # invitations (Invitations)
    def invite_code(self, member_id: str) -> str:
        if member_id not in self.codes:
            code = new_code()
            while code in self.invites:
                code = new_code()
            self.invites[code], self.codes[member_id] = member_id, code
        return self.codes[member_id]

    def inviter(self, code: str) -> str | None:
        return self.invites.get(code) if code.isalnum() and len(code) <= 16 else None

    def forget_invitations(self, member_id: str) -> None:
        code = self.codes.pop(member_id, None)
        self.invites.pop(code or "", None)

    def forget_member(self, member_id: str, pseudonym: str) -> int:
        """As BotTable: follow-ups and tickets renamed (a follow-up without its fiscal key, out of the due index),
        nudge states gone."""
        changed = 0
        for found in [f for f in self.followups.values() if f.member_id == member_id]:
            self.followups[found.id] = found.model_copy(update={"member_id": pseudonym, "fiscal_key": "",
                                                                "payload": {}})
            self.due_ids.discard(found.id)
            changed += 1
        for ticket in [t for t in self.tickets.values() if t.member_id == member_id]:
            self.tickets[ticket.id] = ticket.model_copy(update={"member_id": pseudonym})
            changed += 1
        for key in [key for key in self.nudges if key[0] == member_id]:
            del self.nudges[key]
            changed += 1
        changed += len(self.sent.pop(member_id, ()))
        return changed

    def mark_erased(self, marker: str) -> None:
        self.erased.add(marker)

    def was_erased(self, marker: str) -> bool:
        return marker in self.erased

    def phone_accounts(self, phone_marker: str, member_marker: str) -> int:
        accounts = self.phones.setdefault(phone_marker, set())
        accounts.add(member_marker)
        return len(accounts)

    # follow-ups and nudges (FollowUpStore)
    def schedule(self, followup: FollowUp) -> bool:
        if followup.id in self.followups:
            return False
        self.followups[followup.id] = followup
        self.due_ids.add(followup.id)
        return True

    def scheduled_writes(self, followups: list[FollowUp]) -> list[Any]:
        def commit() -> None:
            for followup in followups:
                self.schedule(followup)
        return [lambda: commit] if followups else []

    def due(self, now: datetime) -> Iterator[FollowUp]:
        found = [self.followup(key) for key in self.due_ids if self.followups[key].due_at <= now]
        yield from (followup for followup in found if followup is not None)

    def followup(self, followup_id: str) -> FollowUp | None:
        found = self.followups.get(followup_id)
        return found.model_copy(update={"rating": self.ratings.get(followup_id)}) if found else None

    def settle(self, followup_id: str, status: str) -> None:
        if followup_id in self.followups:
            self.followups[followup_id] = self.followups[followup_id].model_copy(update={"status": status})
        self.due_ids.discard(followup_id)

    def postpone(self, followup_id: str, due_at: datetime) -> bool:
        found = self.followups.get(followup_id)
        if found is None or followup_id not in self.due_ids:
            return False
        self.followups[followup_id] = found.model_copy(update={"due_at": due_at, "held": True})
        return not found.held

    def contacts(self, member_id: str, since: datetime) -> list[Contacted]:
        return sorted((sent for sent in self.sent.get(member_id, set()) if sent.at >= since), key=lambda s: s.at)

    def contacts_of(self, member_ids: list[str], since: datetime) -> dict[str, list[Contacted]]:
        return {member: self.contacts(member, since) for member in member_ids}

    def contacted(self, member_id: str, sent: Contacted) -> None:
        self.sent.setdefault(member_id, set()).add(sent)

    def rate(self, followup_id: str, rating: int) -> bool:
        if followup_id not in self.followups or followup_id in self.ratings:
            return False
        self.ratings[followup_id] = rating
        return True


    def recommend(self, followup_id: str, score: int) -> bool:
        if followup_id not in self.ratings or followup_id in self.recommended:
            return False
        self.recommended[followup_id] = score
        return True
    def clicked(self, followup_id: str) -> bool:
        if followup_id not in self.followups or followup_id in self.clicks:
            return False
        self.clicks.add(followup_id)
        return True

    def nudge_state(self, member_id: str, name: str) -> dict[str, Any]:
        return dict(self.nudges.get((member_id, name), {}))

    def nudged(self, member_id: str, name: str, now: datetime) -> None:
        state = self.nudges.setdefault((member_id, name), {})
        state.update(last_sent_at=clock.stamp(now), sent=state.get("sent", 0) + 1)

    def stop_nudge(self, member_id: str, name: str, now: datetime) -> bool:
        state = self.nudges.setdefault((member_id, name), {})
        if "stopped_at" in state:
            return False
        state["stopped_at"] = clock.stamp(now)
        return True

    # tickets (Tickets)
    def open_ticket(self, ticket: Ticket) -> bool:
        if ticket.id in self.tickets:
            return False
        self.tickets[ticket.id] = ticket
        return True

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def queue(self, status: str | None = None, limit: int = 100) -> list[Ticket]:
        found = [t for t in self.tickets.values() if status is None or t.status == status]
        return sorted(found, key=lambda t: t.opened_at, reverse=True)[:limit]

    def close_ticket(self, ticket_id: str, status: str, was: tuple[str, ...] = ("open",)) -> bool:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket.status not in was:
            return False
        self.tickets[ticket_id] = ticket.model_copy(update={"status": status})
        return True

    # reward stock (RewardStock)
    def stock_left(self, reward_id: str, initial: int) -> int:
        return initial - self.taken.get(reward_id, 0)

    def take_item(self, reward_id: str, order_id: str, initial: int) -> Callable[[], Callable[[], None]]:
        def prepare() -> Callable[[], None]:
            if self.taken.get(reward_id, 0) >= initial:
                raise _Refused
            return lambda: self.taken.__setitem__(reward_id, self.taken.get(reward_id, 0) + 1)
        return prepare

    def admit(self, member_id: str, at: datetime) -> None:
        self.community.setdefault(member_id, at)

    def admitted(self, member_id: str) -> bool:
        return member_id in self.community

    def show_out(self, member_id: str) -> None:
        self.community.pop(member_id, None)


class MemoryClaims:
    """ReceiptClaims in memory (flows/ports.py: Claims): a receipt claimed once, the daily limit kept on the member
    (as the members table keeps it), an order's halves paired by the domain's own rule, a refund never more than is
    left of its purchase."""

    def __init__(self, books: MemoryBooks) -> None:
        self.books = books
        self.records: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, Halves] = {}
        self.days: dict[str, tuple[str, int]] = {}  # member -> (day, receipts that day)
        self.items: dict[str, str] = {}  # marked item -> the receipt that claimed it
        self.seen: dict[tuple[str, str], set[str]] = {}  # (till or seller, day) -> members' markers
        self.seen_receipts: dict[tuple[str, str], set[str]] = {}  # … and their receipts
        self.earlier_held: set[tuple[str, str]] = set()  # … whose receipts before the rule tripped were held
        self.serials: set[str] = set()  # what the brand put into circulation
        self.serial_gtins: set[str] = set()
        self.grey: dict[str, dict[str, Any]] = {}

    def load_serials(self, codes: list[str]) -> int:
        self.serials |= set(codes)
        self.serial_gtins |= {code.split(":", 1)[0] for code in codes}
        return len(set(codes))

    def unlisted(self, codes: list[str]) -> set[str]:
        return {code for code in codes if code.split(":", 1)[0] in self.serial_gtins and code not in self.serials}

    def record_grey(self, code: str, receipt_key: str, where: dict[str, Any]) -> None:
        self.grey[f"{code}#{receipt_key}"] = {"code": code, "receipt": receipt_key, **where}

    def grey_items(self) -> Iterator[dict[str, Any]]:
        yield from self.grey.values()

    def members_seen(self, scope: str, day: str, member_marker: str, receipt_key: str,
                     kept_days: int = 3) -> tuple[int, set[str], bool]:
        members = self.seen.setdefault((scope, day), set())
        receipts = self.seen_receipts.setdefault((scope, day), set())
        members.add(member_marker)
        receipts.add(receipt_key)
        return len(members), set(receipts), (scope, day) in self.earlier_held

    def unsee(self, scope: str, day: str, member_marker: str, receipt_keys: list[str]) -> None:
        self.seen.get((scope, day), set()).discard(member_marker)
        self.seen_receipts.get((scope, day), set()).difference_update(receipt_keys)

    def held_earlier(self, scope: str, day: str) -> None:
        self.earlier_held.add((scope, day))

    def claimed(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def member_receipts_from(self, member_id: str, fn: str, since: str) -> int:
        return sum(1 for key, record in self.records.items() if record["member_id"] == member_id
                   and key.startswith(f"{fn}:") and record["claimed_at"] >= since)

    def claim_items(self, receipt_key: str, codes: list[str]) -> set[str]:
        taken = {code for code in codes if self.items.get(code, receipt_key) != receipt_key}
        self.items.update({code: receipt_key for code in codes if code not in taken})
        return taken

    def release_items(self, receipt_key: str, codes: list[str]) -> None:
        for code in codes:
            if self.items.get(code) == receipt_key:
                del self.items[code]

    def claim(self, key: str, member_id: str, submission_id: str, summary: dict[str, Any], *, day: str,
              max_per_day: int | None, order: OrderHalf | None = None, refund: Refund | None = None) -> Claimed:
        existing = self.records.get(key)
        if existing is not None:
            if existing["submission_id"] != submission_id:
                raise ReceiptAlreadyClaimed(key)
            return Claimed(outcome=existing["outcome"], replayed=True, paired_with=existing.get("paired_with"),
                           record=existing)
        waiting, partner = pair(self.orders.get(order.fingerprint, {}), key, order) if order else ({}, None)
        outcome: Outcome = "reverses" if refund else ("same_order" if partner else "earns")
        if refund is not None and self.records.get(refund.purchase_key, {}).get("refundable_kopecks", -1) \
                < refund.kopecks:
            raise RefundExceeded(f"{refund.purchase_key} has less than {refund.kopecks} kopecks left")
        counted = outcome == "earns" and max_per_day is not None
        if counted:
            if member_id not in self.books.accounts:
                raise MemberNotFound(member_id)
            on, count = self.days.get(member_id, ("", 0))
            if on == day and count >= (max_per_day or 0):
                raise DailyLimitReached(f"member {member_id} reached {max_per_day} receipts on {day}")
            self.days[member_id] = (day, count + 1 if on == day else 1)
        self.records[key] = {"fiscal_key": key, "member_id": member_id, "submission_id": submission_id,
                             "outcome": outcome, "claimed_at": clock.stamp(),
                             **({"paired_with": partner} if partner else {}), **summary}
        if refund is not None:
            self.records[refund.purchase_key]["refundable_kopecks"] -= refund.kopecks
        if order is not None:
            self.orders[order.fingerprint] = waiting
        return Claimed(outcome=outcome, replayed=False, paired_with=partner)

    def purchases(self, member_id: str, seller_inn: str | None = None) -> list[dict[str, Any]]:
        found = [record for record in self.records.values() if record["member_id"] == member_id
                 and seller_inn in (None, record.get("seller_inn")) and record["outcome"] == "earns"]
        return sorted(found, key=lambda record: record["claimed_at"], reverse=True)

    def claim_review(self, review_id: str, member_id: str) -> str:
        record = self.records.setdefault(f"review#{review_id}", {"fiscal_key": f"review#{review_id}",
                                                                  "member_id": member_id, "outcome": "review",
                                                                  "claimed_at": clock.stamp()})
        return str(record["member_id"])

    def reassign(self, member_id: str, to: str) -> int:
        mine = [record for record in self.records.values() if record["member_id"] == member_id]
        for record in mine:
            record["member_id"] = to
        return len(mine)


@dataclass
class Sent:
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    photo: str | None = None
    message_id: int = 0


class MemoryTelegram:
    """The Bot API as the flows see it (MessageSink, FileSource), with the emulator's rules: a chat exists once the
    shopper wrote to the bot (`open`), a blocked chat is ChatBlocked, an empty text or an unknown chat or file is
    MessageRejected, and a scripted failure (`fail`: a 429, Telegram down) is raised in the domain's words."""

    def __init__(self) -> None:
        self.chats: dict[int, list[Sent]] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, bytes] = {}
        self.failures: dict[int, list[Exception]] = {}  # chat -> what its next sends fail with, in order
        self.fail_downloads: Exception | None = None  # what every download fails with (Telegram down)
        self.members: dict[int, set[int]] = {}  # a group or channel: its members (the community)
        self._ids = itertools.count(1)

    def open(self, chat_id: int) -> None:
        self.chats.setdefault(chat_id, [])

    def fail(self, chat_id: int, error: Exception, times: int = 1) -> None:
        self.failures.setdefault(chat_id, []).extend([error] * times)

    def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None,
                     parse_mode: str | None = None) -> int:
        return self._send(Sent(chat_id, text, reply_markup, parse_mode))

    def send_photo(self, chat_id: int, photo_url: str, caption: str, reply_markup: dict[str, Any] | None = None) -> int:
        if not photo_url.startswith("https://") and photo_url not in self.files:
            raise MessageRejected("Bad Request: wrong remote file identifier specified")
        if refusal := chat_limits.refusal(caption, caption=True):
            raise MessageRejected(refusal)
        return self._send(Sent(chat_id, caption or " ", reply_markup, photo=photo_url))

    def remove_from_chat(self, chat_id: int, user_id: int) -> None:
        self.members.setdefault(chat_id, set()).discard(user_id)

    def download(self, file_id: str) -> bytes:
        if self.fail_downloads is not None:
            raise self.fail_downloads
        if file_id not in self.files:
            raise MessageRejected("Bad Request: invalid file_id")
        return self.files[file_id]

    def texts(self, chat_id: int) -> list[str]:
        return [sent.text for sent in self.chats.get(chat_id, [])]

    def _send(self, sent: Sent) -> int:
        if sent.chat_id not in self.chats:
            raise MessageRejected("Bad Request: chat not found")
        if sent.chat_id in self.blocked:
            raise ChatBlocked("Forbidden: bot was blocked by the user")
        if self.failures.get(sent.chat_id):
            raise self.failures[sent.chat_id].pop(0)
        if not sent.text.strip():
            raise MessageRejected("Bad Request: message text is empty")
        if refusal := chat_limits.refusal(sent.text, markup=sent.reply_markup):
            raise MessageRejected(refusal)
        sent.message_id = next(self._ids)
        self.chats[sent.chat_id].append(sent)
        return sent.message_id


class MemoryOnce:
    """OncePerKey in memory: the wrapped function runs once per value of `key` in its keyword `argument`; a repeat
    returns the first result. A call that raised leaves no mark (Powertools deletes the record), so a retry runs."""

    def __init__(self, argument: str, key: Callable[[Any], str]) -> None:
        self.argument, self.key = argument, key
        self.config = IdempotencyConfig()
        self.results: dict[str, Any] = {}

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def once(**kwargs: Any) -> Any:
            key = self.key(kwargs[self.argument])
            if key not in self.results:
                self.results[key] = function(**kwargs)
            return self.results[key]
        return once


class MemorySentMessages:
    """The last message each chat got, and the keys taken (adapters/bot_table.py: LastMessages)."""

    def __init__(self) -> None:
        self.last: dict[int, OutboundMessage] = {}
        self.keys: set[tuple[int, str]] = set()

    def take(self, message: OutboundMessage) -> bool:
        if (message.chat_id, message.dedupe_key) in self.keys:
            return False
        self.keys.add((message.chat_id, message.dedupe_key))
        self.last[message.chat_id] = message
        return True

    def give_back(self, message: OutboundMessage) -> None:
        self.keys.discard((message.chat_id, message.dedupe_key))

    def last_sent(self, chat_id: int) -> tuple[OutboundMessage, str] | None:
        return (self.last[chat_id], "") if chat_id in self.last else None


class MemoryDraw:
    """The prize draw's records (adapters/draw_store.py) in a dict: the same answers, and a spin recorded only on
    the state it was drawn from."""

    def __init__(self, seeds: Callable[[], bytes] = lambda: secrets.token_bytes(32)) -> None:
        """`seeds`: how a day's seed is made (a simulation passes a seeded generator, so its month is the same
        every run)."""
        self.make_seed = seeds
        self.seeds_made: dict[str, dict[str, Any]] = {}
        self.counts, self.seq, self.version = Counts(), 0, 0
        self.spins: dict[tuple[str, int], Spin] = {}  # (day, seq)
        self.players: dict[tuple[str, int], tuple[str, int]] = {}  # (player, number): (day, seq)

    def seed(self, day: date, now: datetime) -> bytes:
        made = self.seeds_made.setdefault(day.isoformat(), {
            "seed": (seed := self.make_seed()).hex(), "hash": seed_hash(seed), "made_at": clock.stamp(now)})
        return bytes.fromhex(made["seed"])

    def seeds(self, first: date, last: date) -> list[dict[str, Any]]:
        return [{"day": day, **made} for day, made in sorted(self.seeds_made.items())
                if first.isoformat() <= day <= last.isoformat()]

    def state(self) -> tuple[Counts, int, int]:
        return self.counts, self.seq, self.version

    def record(self, spin: Spin, after: Counts, version: int) -> bool:
        if version != self.version or (spin.player, spin.number) in self.players:
            return False
        self.counts, self.seq, self.version = after, spin.seq, version + 1
        self.spins[(spin.day, spin.seq)] = spin
        self.players[(spin.player, spin.number)] = (spin.day, spin.seq)
        return True

    def spin_of(self, player: str, number: int) -> Spin | None:
        where = self.players.get((player, number))
        return self.spins[where] if where else None

    def day(self, day: date) -> list[Spin]:
        return [spin for (on, _), spin in sorted(self.spins.items()) if on == day.isoformat()]


class MemoryPace:
    """A pace that never makes a test wait: it counts the sends it granted."""

    def __init__(self) -> None:
        self.granted = 0

    def wait(self) -> float:
        self.granted += 1
        return float(self.granted)


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.parked: list[tuple[str, str, dict[str, str]]] = []

    def park(self, body: str, reason: str, group: str | None = None, **context: str) -> None:
        self.parked.append((body, reason, context))


class MemoryCrm:
    """The CRM as crm_sync sees it (CrmTarget), with Mindbox's rules: a customer exists once registered, an event for
    one it does not know is refused (CrmCustomerUnknown), a deletion forgets them, an event id is applied once; a
    scripted failure (`failures`: an outage, a refusal) comes first."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.events: list[CrmEvent] = []
        self.applied: set[str] = set()
        self.failures: list[Exception] = []

    def deliver(self, event: CrmEvent) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if event.event_id in self.applied:
            return  # TransactionAlreadyProcessed
        if isinstance(event, MemberRegistered):
            self.customers[event.member_id] = {"phone": event.phone, "source": event.source}
        elif event.member_id not in self.customers:
            raise CrmCustomerUnknown("Mindbox: ValidationError (/customer: Customer not found)", "{}")
        elif isinstance(event, Deleted):
            del self.customers[event.member_id]
        self.applied.add(event.event_id)
        self.events.append(event)


class MemoryConsoleTable:
    """ConsoleTable in memory: staff (None once removed), one-time sign-in links, consumed once, and the campaigns
    made in the console, each kept only over the version before it."""

    def __init__(self) -> None:
        self.rows: dict[int, StaffMember | None] = {}
        self.links: dict[str, tuple[int, datetime, bool]] = {}
        self.campaigns: dict[str, Made] = {}
        self.rule = ApprovalRule()
        self.sections: dict[str, Change] = {}

    def approval_rule(self) -> ApprovalRule:
        return self.rule

    def changes(self) -> list[Change]:
        return [self.sections[name] for name in sorted(self.sections)]

    def keep_change(self, change: Change) -> None:
        kept = self.sections.get(change.section)
        if (kept.version if kept else 0) != change.version - 1:
            raise ChangeRefused("Раздел уже изменили в другом окне: обновите страницу и повторите.", status=409)
        self.sections[change.section] = change

    def set_approval_rule(self, rule: ApprovalRule) -> None:
        self.rule = rule

    def made(self, name: str) -> Made | None:
        return self.campaigns.get(name)

    def all_made(self) -> list[Made]:
        return [self.campaigns[name] for name in sorted(self.campaigns)]

    def keep(self, made: Made) -> None:
        kept = self.campaigns.get(made.name)
        if made.version == 1 and kept is not None:
            raise CampaignRefused("Кампания с таким именем уже есть: выберите другое.")
        if made.version > 1 and (kept is None or kept.version != made.version - 1):
            raise CampaignRefused("Кампанию уже изменили в другом окне: обновите страницу и повторите.")
        self.campaigns[made.name] = made

    def lookup(self, telegram_id: int) -> tuple[bool, StaffMember | None]:
        return (telegram_id in self.rows, self.rows.get(telegram_id))

    def all_staff(self) -> dict[int, StaffMember | None]:
        return dict(self.rows)

    def put_staff(self, member: StaffMember, by: int, now: datetime) -> None:
        self.rows[member.telegram_id] = member

    def remove_staff(self, telegram_id: int, by: int, now: datetime) -> None:
        self.rows[telegram_id] = None

    def issue(self, token_key: str, telegram_id: int, expires_at: datetime) -> None:
        self.links[token_key] = (telegram_id, expires_at, False)

    def consume(self, token_key: str, now: datetime) -> int:
        from loyalty.domain.console import LinkRefused

        found = self.links.get(token_key)
        if found is None or found[2] or found[1] <= now:
            raise LinkRefused("unknown, used or out of time")
        self.links[token_key] = (found[0], found[1], True)
        return found[0]


class MemoryAuditLog:
    """AuditLog in memory: the same chain (domain/audit.py), appended only."""

    def __init__(self) -> None:
        self.chain: list[AuditEntry] = []

    def append(self, draft: AuditDraft) -> AuditEntry:
        entry = chained(draft, len(self.chain) + 1, self.chain[-1].hash if self.chain else GENESIS)
        self.chain.append(entry)
        return entry

    def entries(self, newest_first: bool = False, limit: int | None = None) -> Iterator[AuditEntry]:
        yield from (list(reversed(self.chain)) if newest_first else self.chain)[:limit]

    def by_actor(self, telegram_id: int, limit: int | None = None) -> Iterator[AuditEntry]:
        yield from [entry for entry in reversed(self.chain) if entry.actor.telegram_id == telegram_id][:limit]

    def by_member(self, member_id: str, limit: int | None = None) -> Iterator[AuditEntry]:
        yield from [entry for entry in reversed(self.chain) if entry.member_id == member_id][:limit]
