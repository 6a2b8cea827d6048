"""The staff console's flows: who is staff, signing in (a one-time link from the bot, or the Mini App's initData),
the staff list the owners keep, and the audit log every action goes to (domain/console.py, domain/audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict

from loyalty.domain import console
from loyalty.domain.audit import Action, Actor, Draft, Entry
from loyalty.domain.console import Permission, Refused, Session
from loyalty.domain.staff import Role, StaffMember
from loyalty.flows.ports import AuditTrail
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program


class StaffTable(Protocol):
    def lookup(self, telegram_id: int) -> tuple[bool, StaffMember | None]: ...

    def all_staff(self) -> dict[int, StaffMember | None]: ...

    def put_staff(self, member: StaffMember, by: int, now: datetime) -> None: ...

    def remove_staff(self, telegram_id: int, by: int, now: datetime) -> None: ...

    def issue(self, token_key: str, telegram_id: int, expires_at: datetime) -> None: ...

    def consume(self, token_key: str, now: datetime) -> int: ...


class Audit(AuditTrail, Protocol):
    def entries(self, newest_first: bool = False, limit: int | None = None) -> Iterator[Entry]: ...

    def by_actor(self, telegram_id: int, limit: int | None = None) -> Iterator[Entry]: ...

    def by_member(self, member_id: str, limit: int | None = None) -> Iterator[Entry]: ...


class StaffDirectory:
    """Who is staff, with which role: the console's table; until an owner has written there, the program file's
    `bot.staff`; and the first owner the stack was deployed with (template parameter ConsoleOwnerTelegramId), who is
    an owner whatever else says so, so a brand can never lock itself out."""

    def __init__(self, table: StaffTable, program: Program, first_owner: int | None):
        self.table = table
        self.program = program
        self.first_owner = first_owner

    def member(self, telegram_id: int) -> StaffMember | None:
        known, kept = self.table.lookup(telegram_id)
        if self.first_owner and telegram_id == self.first_owner:
            listed = kept or self.program.bot.staff_member(telegram_id)
            return StaffMember(telegram_id=telegram_id, role=Role.OWNER, name=listed.name if listed else "")
        return kept if known else self.program.bot.staff_member(telegram_id)

    def everyone(self) -> list[StaffMember]:
        listed: dict[int, StaffMember | None] = {member.telegram_id: member for member in self.program.bot.staff}
        listed.update(self.table.all_staff())
        if self.first_owner:
            listed[self.first_owner] = self.member(self.first_owner)
        return sorted((member for member in listed.values() if member is not None),
                      key=lambda member: (list(Role).index(member.role), member.name))


class SignInLinks:
    """What the bot gives a staff member who sends /console: a one-time link, good for 5 minutes."""

    def __init__(self, directory: StaffDirectory, table: StaffTable, link_base: str):
        self.directory = directory
        self.table = table
        self.link_base = link_base.rstrip("/")

    def issue(self, telegram_id: int, now: datetime) -> str | None:
        """The link, or None for anyone not on the staff (a shopper, a stranger)."""
        if self.directory.member(telegram_id) is None:
            return None
        token = console.new_link_token()
        self.table.issue(console.link_key(token), telegram_id, now + timedelta(minutes=console.LINK_MINUTES))
        return f"{self.link_base}/console/signin?t={token}"


class SignedIn(NamedTuple):
    session: Session
    cookie: str
    staff: StaffMember


class Whoami(BaseModel):
    model_config = ConfigDict(defer_build=True)

    telegram_id: int
    name: str
    role: Role
    role_words: str
    permissions: list[Permission]
    csrf: str
    session_ends: datetime


class Console:
    def __init__(self, directory: StaffDirectory, table: StaffTable, audit: Audit, keyed: Keyed):
        self.directory = directory
        self.table = table
        self.audit = audit
        self.keyed = keyed

    # ------------------------------------------------------------------ signing in
    def sign_in(self, token: str, now: datetime) -> SignedIn:
        """The session a link starts, and its cookie; Refused (401) for a link unknown, used or out of time, or a
        person no longer on the staff."""
        try:
            telegram_id = self.table.consume(console.link_key(token), now)
        except console.LinkRefused as error:
            raise Refused(f"sign-in link {error}") from error
        return self._start(telegram_id, now, "link")

    def sign_in_miniapp(self, telegram_id: int, now: datetime) -> SignedIn:
        """The Mini App from the staff chat: Telegram's signed initData named the person."""
        return self._start(telegram_id, now, "miniapp")

    def _start(self, telegram_id: int, now: datetime, via: str) -> SignedIn:
        staff = self.directory.member(telegram_id)
        if staff is None:
            raise Refused("not on the staff", status=403)
        session = console.start_session(telegram_id, now, via)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.SIGN_IN, session=session.id,
                                after={"via": via}))
        logger.info("console sign-in", extra={"telegram_id": telegram_id, "via": via, "role": str(staff.role)})
        return SignedIn(session, console.session_cookie(self.keyed, session), staff)

    # ------------------------------------------------------------------ every request
    def who(self, cookie: str | None, now: datetime, csrf: str | None = None, changes: bool = False
            ) -> tuple[Session, StaffMember]:
        """The signed-in staff member behind a request; a request that changes something must carry the session's
        CSRF token. Refused: 401 (no valid session), 403 (not staff any more, no CSRF token)."""
        session = console.read_session(self.keyed, cookie, now)
        staff = self.directory.member(session.telegram_id)
        if staff is None:
            raise Refused("not on the staff any more", status=403)
        if changes:
            console.check_csrf(self.keyed, session, csrf)
        return session, staff

    def whoami(self, session: Session, staff: StaffMember) -> Whoami:
        return Whoami(telegram_id=staff.telegram_id, name=staff.name, role=staff.role,
                      role_words=console.ROLE_WORDS[staff.role], permissions=sorted(console.PERMISSIONS[staff.role]),
                      csrf=console.csrf_token(self.keyed, session), session_ends=session.expires_at)

    # ------------------------------------------------------------------ the staff list (owners)
    def staff(self, staff: StaffMember) -> list[StaffMember]:
        console.allow(staff.role, Permission.VIEW)
        return self.directory.everyone()

    def put_staff(self, session: Session, staff: StaffMember, member: StaffMember, now: datetime) -> dict[str, Any]:
        console.allow(staff.role, Permission.MANAGE_STAFF)
        if member.telegram_id == self.directory.first_owner and member.role != Role.OWNER:
            raise Refused("the first owner stays an owner (template parameter ConsoleOwnerTelegramId)", status=409)
        before = self.directory.member(member.telegram_id)
        self.table.put_staff(member, staff.telegram_id, now)
        self.audit.append(Draft(
            at=now, actor=Actor.of(staff), action=Action.STAFF_CHANGED if before else Action.STAFF_ADDED,
            session=session.id, subject=str(member.telegram_id), before=_staff_fields(before),
            after=_staff_fields(member)))
        return {"telegram_id": member.telegram_id, "role": member.role, "name": member.name}

    def remove_staff(self, session: Session, staff: StaffMember, telegram_id: int, now: datetime) -> None:
        console.allow(staff.role, Permission.MANAGE_STAFF)
        if telegram_id == self.directory.first_owner:
            raise Refused("the first owner cannot be removed (template parameter ConsoleOwnerTelegramId)", status=409)
        before = self.directory.member(telegram_id)
        if before is None:
            raise Refused("not on the staff", status=404)
        self.table.remove_staff(telegram_id, staff.telegram_id, now)
        self.audit.append(Draft(at=now, actor=Actor.of(staff), action=Action.STAFF_REMOVED, session=session.id,
                                subject=str(telegram_id), before=_staff_fields(before)))


    # ------------------------------------------------------------------ the audit log (owners)
    def audit_entries(self, actor: int | None, member_id: str | None, limit: int) -> list[Entry]:
        """Newest first: one person's actions, what was done to one member (found by their keyed marker), or
        everything."""
        if actor is not None:
            return list(self.audit.by_actor(actor, limit))
        if member_id:
            return list(self.audit.by_member(self.keyed.marker("member", member_id), limit))
        return list(self.audit.entries(newest_first=True, limit=limit))



def _staff_fields(member: StaffMember | None) -> dict[str, Any] | None:
    return {"role": str(member.role), "name": member.name} if member else None
