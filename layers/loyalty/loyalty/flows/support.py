"""The console's members desk: find a member as support is asked about them (a phone typed any way, a Telegram or
member id), their card, and a correction of their points with a reason — queued to the ledger like any change,
told to the member, reported to the CRM, and kept in the audit log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from loyalty.contracts import PointsAdjusted
from loyalty.domain import console
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.console import Permission, Refused, Session
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.fraud import STAFF_BLOCKED
from loyalty.domain.history import history_lines
from loyalty.domain.keyed import Keyed
from loyalty.domain.phones import masked, typed_phone
from loyalty.domain.program import Program
from loyalty.domain.staff import StaffMember
from loyalty.flows.ports import AuditTrail, Ledger, Members, Queue

HISTORY = 30
MAX_ADJUSTMENT = 100_000


class Found(BaseModel):
    member_id: str
    phone: str | None
    level: str
    available: int


class Card(Found):
    blocked: bool = Field(description="support stopped their earning: every receipt is held for the staff")
    joined_at: str
    joined_via: str
    language: str
    subscribed: bool
    pending: int
    held: int
    history: list[str]


class Adjustment(BaseModel):
    points: int = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)
    reason: str = Field(min_length=3, max_length=200)
    request_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Reason(BaseModel):
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

    def find(self, staff: StaffMember, query: str) -> list[Found]:
        """The member a phone (any format), a Telegram id or a member id names: none, or one."""
        console.allow(staff.role, Permission.VIEW)
        text = query.strip().lstrip("@")
        phone = typed_phone(text)
        member_id = self.members.find_by_phone(phone) if phone else None
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
        return Card(**found.model_dump(), blocked=STAFF_BLOCKED in member.suspect, joined_at=member.joined_at,
                    joined_via=member.joined_via,
                    language=member.language, subscribed=member.subscribed, pending=wallet.balance.pending,
                    held=wallet.balance.held,
                    history=history_lines(self.ledger.history(member_id, HISTORY), language, self.program))

    def adjust(self, session: Session, staff: StaffMember, member_id: str, adjustment: Adjustment,
               now: datetime) -> dict[str, int]:
        """Queue the correction (once per request key) and audit it with the balance before and as it will be."""
        console.allow(staff.role, Permission.ADJUST)
        if adjustment.points == 0:
            raise Refused("an adjustment of 0 points changes nothing", status=422)
        if str(staff.telegram_id) == member_id:
            raise Refused("nobody corrects their own points", status=403)
        try:
            available = self.ledger.read(member_id)[0].balance.available
        except MemberNotFound as error:
            raise Refused("no such member", status=404) from error
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
        console.allow(staff.role, Permission.ADJUST)
        if str(staff.telegram_id) == member_id:
            raise Refused("nobody blocks or unblocks themselves", status=403)
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

    def _found(self, staff: StaffMember, member_id: str) -> Found:
        member = self.members.get(member_id)
        assert member is not None
        wallet = self.ledger.read(member_id)[0]
        phone = member.phone if Permission.SEE_PHONES in console.PERMISSIONS[staff.role] else masked(member.phone)
        return Found(member_id=member_id, phone=phone, level=self.program.level_title(wallet.level, "ru"),
                     available=wallet.balance.available)
