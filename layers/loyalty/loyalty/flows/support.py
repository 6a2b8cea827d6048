"""The console's members desk: find a member as support is asked about them (a phone typed any way, a Telegram or
member id), their card, and a correction of their points with a reason — queued to the ledger like any change,
told to the member, reported to the CRM, and kept in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from loyalty import clock
from loyalty.contracts import CreditReversed, PointsAdjusted
from loyalty.domain import console, levels
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.bot_program import words
from loyalty.domain.console import Permission, Refused, Session
from loyalty.domain.dashboard import campaign_title
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.fraud import STAFF_BLOCKED
from loyalty.domain.history import history_lines
from loyalty.domain.keyed import Keyed, username_marker
from loyalty.domain.ledger import Cause, Entry, Kind, entry_id_of
from loyalty.domain.messages import how_many, joined
from loyalty.domain.phones import masked, typed_phone
from loyalty.domain.receipt import MOSCOW

if TYPE_CHECKING:
    from loyalty.domain.campaigns import TouchRecord
    from loyalty.domain.conversation import FollowUp, Ticket
    from loyalty.domain.program import Program
    from loyalty.domain.staff import StaffMember
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.ports import AuditTrail, Ledger, Members, Outbox, Queue, SentMessages


class Touches(Protocol):
    def touches_of(self, member_id: str) -> list[TouchRecord]: ...


class MemberLetters(Protocol):
    def of_member(self, member_id: str) -> tuple[list[FollowUp], list[Ticket]]: ...

HISTORY = 30
RECEIPTS = 20
MAX_ADJUSTMENT = 100_000
_USERNAME = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{4,31}")  # Telegram's @usernames: 5–32 characters
_STATUS = {"queued": "в очереди", "delivered": "доставлено", "blocked": "бот заблокирован", "sent": "отправлено",
           "merged": "объединено с другим", "skipped": "не понадобилось", "dropped": "не отправлено",
           "scheduled": "запланировано", "open": "открыт", "approved": "одобрен", "rejected": "отклонён",
           "answered": "отвечен", "delivered_reward": "вручена"}
_LETTER = {"onboarding": "знакомство", "nudge": "подсказка", "survey": "опрос", "notice": "уведомление",
           "campaign": "кампания"}
_TICKET = {"complaint": "жалоба", "review": "отзыв", "reward": "заказ награды"}


class Found(BaseModel):
    model_config = ConfigDict(defer_build=True)

    member_id: str
    phone: str | None
    level: str
    available: int


class Purchase(BaseModel):
    """A receipt on the card: where and when, the brand's goods on it, and its points."""

    model_config = ConfigDict(defer_build=True)

    fiscal_key: str
    at: str
    where: str
    sum_rub: float
    points: int
    lines: list[str]
    reversed: bool = Field(description="support reversed its credit (or a refund took it all back)")


class Card(Found):
    blocked: bool = Field(description="support stopped their earning: every receipt is held for the staff")
    joined_at: str
    joined_via: str
    language: str
    subscribed: bool
    pending: int
    held: int
    history: list[str]
    progress: str | None = None  # the way to the next level: «до «Подруга»: 2 чека, 500 ₽ (40 %)»; None at the top
    receipts: list[Purchase] = []
    referrals: list[str] = []  # the members they invited (and who invited them), by number
    messages: list[str] = []  # the campaigns, nudges and letters that reached them, newest first
    tickets: list[str] = []  # their complaints, reviews and reward orders, with what became of them
    last_message: str | None = None  # what they were sent last (support may send it again)


class Reversal(BaseModel):
    model_config = ConfigDict(defer_build=True)

    fiscal_key: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=200)


class Resend(BaseModel):
    model_config = ConfigDict(defer_build=True)

    reason: str = Field(min_length=3, max_length=200)
    request_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@dataclass
class MemberReach:
    """What reached a member besides their books: campaign touches, letters and tickets, the last message; and
    the outbox a message is resent through."""

    touches: Touches
    letters: MemberLetters
    sent: SentMessages
    outbox: Outbox


class Adjustment(BaseModel):
    model_config = ConfigDict(defer_build=True)

    points: int = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)
    reason: str = Field(min_length=3, max_length=200)
    request_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Reason(BaseModel):
    model_config = ConfigDict(defer_build=True)

    reason: str = Field(min_length=3, max_length=200)


class SupportDesk:
    def __init__(self, program: Program, members: Members, ledger: Ledger, accrual_queue: Queue,
                 audit: AuditTrail, keyed: Keyed):
        self.program = program
        self.members = members
        self.ledger = ledger
        self.accrual_queue = accrual_queue
        self.audit = audit
        self.keyed = keyed
        self.reach: MemberReach | None = None

    def find(self, staff: StaffMember, query: str) -> list[Found]:
        """The member a phone (any format), an @username, a Telegram id or a member id names: none, or one."""
        console.allow(staff.role, Permission.VIEW)
        text = query.strip()
        phone = typed_phone(text)
        member_id = self.members.find_by_phone(phone) if phone else None
        if member_id is None and _USERNAME.fullmatch(text):
            member_id = self.members.find_by_username(username_marker(self.keyed, text))
        if member_id is None and text.isdigit():
            member_id = text
        member = self.members.get(member_id) if member_id else None
        if member is None or member.erased_at:
            return []
        return [self._found(staff, member_id or "")]

    def card(self, staff: StaffMember, member_id: str, language: str = "ru") -> Card:
        console.allow(staff.role, Permission.VIEW)
        member = self.members.get(member_id)
        if member is None or member.erased_at:
            raise Refused("no such member", status=404)
        found = self._found(staff, member_id)
        wallet = self.ledger.read(member_id)[0]
        entries = self.ledger.entries(member_id)
        card = Card(**found.model_dump(), blocked=STAFF_BLOCKED in member.suspect, joined_at=member.joined_at,
                    joined_via=member.joined_via,
                    language=member.language, subscribed=member.subscribed, pending=wallet.balance.pending,
                    held=wallet.balance.held,
                    history=history_lines(self.ledger.history(member_id, HISTORY), language, self.program),
                    progress=self._progress(wallet, language), receipts=self._purchases(entries, language),
                    referrals=_referrals(member.referred_by, entries))
        return self._reached(card, member_id, language) if self.reach else card

    def _progress(self, wallet: Wallet, language: str) -> str | None:
        gap = levels.next_level_gap(self.program, wallet, clock.now())
        if gap is None:
            return None
        missing = joined([how_many(count, what, language) for what, count in gap.missing.items()], language)
        title = words(gap.level.title, language)
        return (f"до «{title}»: {missing}" if language == "ru" else f"to “{title}”: {missing}") + \
            f" ({round(100 * gap.done)} %)"

    def _purchases(self, entries: list[Entry], language: str) -> list[Purchase]:
        reversed_ = {e.details.reverses for e in entries if e.kind == Kind.REFUND and e.details.whole}
        purchases = sorted((e for e in entries if e.kind == Kind.ACCRUAL), key=lambda e: e.created_at, reverse=True)
        return [Purchase(fiscal_key=e.details.fiscal_key or e.entry_id, at=_moment(e.created_at),
                         where=self.program.place(e.details.channel, e.details.store).words(language)[0],
                         sum_rub=e.details.brand_sum_kopecks / 100, points=e.points,
                         lines=[f"{line.name} × {line.quantity} — {line.sum_kopecks / 100:.2f} ₽"
                                for line in e.details.lines],
                         reversed=e.details.fiscal_key in reversed_) for e in purchases[:RECEIPTS]]

    def _reached(self, card: Card, member_id: str, language: str) -> Card:
        assert self.reach is not None
        touches = sorted(self.reach.touches.touches_of(member_id), key=lambda t: t.queued_at, reverse=True)
        letters, tickets = self.reach.letters.of_member(member_id)
        messages = [f"{_stamp(t.delivered_at or t.queued_at)} · {campaign_title(self.program, t.campaign)} · "
                    f"{_STATUS.get(t.status, t.status)}" + (" · купил(а) после" if t.converted_at else "")
                    for t in touches]
        messages += [f"{_moment(f.due_at)} · {_LETTER.get(f.kind, f.kind)} «{f.name}» · "
                     f"{_STATUS.get(f.status, f.status)}" + (f" · оценка {f.rating}" if f.rating else "")
                     for f in sorted(letters, key=lambda f: f.due_at, reverse=True)]
        last = self.reach.sent.last_sent(int(member_id)) if member_id.isdigit() else None
        return card.model_copy(update={
            "messages": messages[:HISTORY],
            "tickets": [f"{_TICKET.get(t.kind, t.kind)} · {_STATUS.get(t.status, t.status)}" for t in tickets],
            "last_message": f"{_stamp(last[1])} · {last[0].text[:300]}" if last else None})

    def adjust(self, session: Session, staff: StaffMember, member_id: str, adjustment: Adjustment,
               now: datetime) -> dict[str, int]:
        """Queue the correction (once per request key) and audit it with the balance before and as it will be."""
        if adjustment.points == 0:
            raise Refused("an adjustment of 0 points changes nothing", status=422)
        available = self._available_to_support(staff, member_id, "corrects their own points")
        if available + adjustment.points < 0:
            raise Refused(f"only {available} points are available to take", status=409)
        self.accrual_queue.put(PointsAdjusted(member_id=member_id, points=adjustment.points, reason=adjustment.reason,
                                              reference=adjustment.request_key, by=staff.telegram_id))
        self.audit.append(Draft(
            at=now, actor=Actor.of(staff),
            action=Action.ADJUSTMENT, session=session.id, member_id=self.keyed.marker("member", member_id),
            subject=adjustment.request_key, before={"available": available},
            after={"available": available + adjustment.points, "points": adjustment.points},
            reason=adjustment.reason))
        return {"available_before": available, "available_after": available + adjustment.points}

    def block(self, session: Session, staff: StaffMember, member_id: str, reason: str, blocked: bool,
              now: datetime) -> None:
        """Stop a member earning (suspected fraud): every receipt of theirs is held for the staff to decide, as a
        fraud rule holds it; or lift it. Audited with the reason."""
        _may_support(staff, member_id, "blocks or unblocks themselves")
        member = self.members.get(member_id)
        if member is None or member.erased_at:
            raise Refused("no such member", status=404)
        was = STAFF_BLOCKED in member.suspect
        if blocked:
            self.members.suspect(member_id, STAFF_BLOCKED)
        else:
            self.members.clear_suspect(member_id, STAFF_BLOCKED)
        self.audit.append(Draft(
            at=now, actor=Actor.of(staff),
            action=Action.BLOCKED if blocked else Action.UNBLOCKED, session=session.id,
            member_id=self.keyed.marker("member", member_id), before={"blocked": was}, after={"blocked": blocked},
            reason=reason))

    def reverse(self, session: Session, staff: StaffMember, member_id: str, reversal: Reversal,
                now: datetime) -> dict[str, int]:
        """Take back what a purchase credited (once per purchase), with a reason: queued to the ledger, told to
        the member, reported to the CRM, audited with the points before and after."""
        available = self._available_to_support(staff, member_id, "reverses their own purchase")
        purchase = self.ledger.entry(member_id, entry_id_of(Cause.RECEIPT, reversal.fiscal_key))
        if purchase is None:
            raise Refused("the member has no such purchase", status=404)
        self.accrual_queue.put(CreditReversed(member_id=member_id, fiscal_key=reversal.fiscal_key,
                                              reason=reversal.reason, by=staff.telegram_id))
        self.audit.append(Draft(
            at=now, actor=Actor.of(staff), action=Action.REVERSAL, session=session.id,
            member_id=self.keyed.marker("member", member_id), subject=reversal.fiscal_key,
            before={"available": available}, after={"points": -purchase.points}, reason=reversal.reason))
        return {"points": purchase.points}

    def resend(self, session: Session, staff: StaffMember, member_id: str, resend: Resend, now: datetime) -> str:
        """Send the member the last message they got, again (they lost it, or it never showed): through the
        outbox, in their chat's order, once per request. Audited."""
        console.allow(staff.role, Permission.ADJUST)
        last = self.reach.sent.last_sent(int(member_id)) if self.reach and member_id.isdigit() else None
        if last is None or self.reach is None:
            raise Refused("nothing was sent to this member yet", status=404)
        message = last[0].model_copy(update={"dedupe_key": f"resend:{member_id}:{resend.request_key}"})
        self.reach.outbox.put(message)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.RESENT, session=session.id,
                                member_id=self.keyed.marker("member", member_id), subject=resend.request_key,
                                after={"sent_at": last[1]}, reason=resend.reason))
        return last[1]

    def _available_to_support(self, staff: StaffMember, member_id: str, own: str) -> int:
        """The points the member has available, for a support action on them (Refused: not a right of the role,
        the member's own, or no such member)."""
        _may_support(staff, member_id, own)
        try:
            return self.ledger.read(member_id)[0].balance.available
        except MemberNotFound as error:
            raise Refused("no such member", status=404) from error

    def _found(self, staff: StaffMember, member_id: str) -> Found:
        member = self.members.get(member_id)
        assert member is not None
        wallet = self.ledger.read(member_id)[0]
        phone = member.phone if Permission.SEE_PHONES in console.PERMISSIONS[staff.role] else masked(member.phone)
        return Found(member_id=member_id, phone=phone, level=self.program.level_title(wallet.level, "ru"),
                     available=wallet.balance.available)


def _may_support(staff: StaffMember, member_id: str, own: str) -> None:
    """Support's actions take the right to change points, and nobody takes one on themselves ("nobody {own}")."""
    console.allow(staff.role, Permission.ADJUST)
    if str(staff.telegram_id) == member_id:
        raise Refused(f"nobody {own}", status=403)


def _referrals(referred_by: str | None, entries: list[Entry]) -> list[str]:
    """Who invited the member, and whom they invited (their inviter's bonuses name each friend)."""
    found = [f"пригласил(а) участника {e.details.referral}" for e in entries
             if e.entry_id.startswith("bonus#referrer:") and e.details.referral]
    return ([f"приглашён(а) участником {referred_by}"] if referred_by else []) + found


def _moment(at: datetime) -> str:
    return at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def _stamp(stamp: str) -> str:
    try:
        return _moment(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp
