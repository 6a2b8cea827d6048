"""The staff console's rules, pure: what each role may do there, the session a sign-in starts, and its CSRF token.

- **Sign-in** is a one-time link the bot gives a staff member (`/console`): a random token, kept only as its hash,
  good for `LINK_MINUTES` and once. Opening it starts a session.
- **A session** is a cookie the stack signs (domain/keyed.py): who (their Telegram id), its own id, until when. The
  role is not in it: every request reads the staff table, so a member removed from the staff is out at once.
- **CSRF**: a state-changing request carries the session's CSRF token in a header, which a page of another site can
  neither read nor forge (the cookie is SameSite=Strict as well).
"""


import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loyalty.domain.staff import Role

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed

LINK_MINUTES = 5
SESSION_HOURS = 8
COOKIE = "console_session"
CSRF_HEADER = "x-csrf-token"


class Permission(StrEnum):
    VIEW = "view"  # the dashboard, members, the queues
    SEE_PHONES = "see_phones"  # a member's phone in full (else masked)
    ADJUST = "adjust"  # points: adjust, reverse a receipt's credit, block from earning
    MANAGE_STAFF = "manage_staff"  # add and remove staff, change a role
    READ_AUDIT = "read_audit"
    CAMPAIGNS = "campaigns"  # write, launch, stop and copy the console's campaigns
    EVERYDAY = "everyday"  # the everyday changes: sources, rewards, texts, nudges, onboarding
    APPROVE = "approve"  # launch a campaign over the approval threshold, and set the threshold (the owner's)


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MARKETER: frozenset({Permission.VIEW, Permission.SEE_PHONES, Permission.CAMPAIGNS, Permission.EVERYDAY}),
    Role.SUPPORT: frozenset({Permission.VIEW, Permission.SEE_PHONES, Permission.ADJUST}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

ROLE_WORDS = {Role.OWNER: "владелец", Role.MARKETER: "маркетолог", Role.SUPPORT: "поддержка",
              Role.VIEWER: "наблюдатель"}


class Refused(Exception):
    """Not signed in, or not allowed: the console answers 401 or 403 and changes nothing."""

    def __init__(self, reason: str, status: int = 401):
        super().__init__(reason)
        self.status = status


class ChangeRefused(Exception):
    """A change the console cannot make (a stale page, a rule of the program file broken, a state that forbids it):
    it answers `status` (409 or 422) with why, in the marketer's words, and changes nothing."""

    def __init__(self, reason: str, status: int = 422):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class LinkRefused(Exception):
    """A sign-in link that is unknown, used already or out of time."""


class Session(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    id: str = Field(min_length=16, max_length=64)
    telegram_id: int = Field(gt=0)
    expires_at: datetime
    via: str = Field(default="link", pattern="^(link|miniapp)$")


def new_link_token() -> str:
    """The secret half of a sign-in link: 192 random bits."""
    return secrets.token_urlsafe(24)


def link_key(token: str) -> str:
    """What the table keeps of a link's token: its hash (a random token needs no key to be safe hashed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(telegram_id: int, now: datetime, via: str = "link") -> Session:
    return Session(id=secrets.token_urlsafe(18), telegram_id=telegram_id,
                   expires_at=now + timedelta(hours=SESSION_HOURS), via=via)


def session_cookie(keyed: "Keyed", session: Session) -> str:
    """The cookie's value: the session, then the stack's signature of it."""
    payload = base64.urlsafe_b64encode(session.model_dump_json().encode()).decode().rstrip("=")
    return f"{payload}.{keyed.signature('console-session', payload)}"


def read_session(keyed: "Keyed", cookie: str | None, now: datetime) -> Session:
    """The session a cookie carries, if the stack signed it and it has not run out; Refused (401) otherwise."""
    if not cookie or "." not in cookie:
        raise Refused("not signed in")
    payload, _, signature = cookie.rpartition(".")
    if not keyed.signed(signature, "console-session", payload):
        raise Refused("a session this stack did not sign")
    try:
        session = Session.model_validate(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (ValueError, ValidationError) as error:
        raise Refused("an unreadable session") from error
    if session.expires_at <= now:
        raise Refused("the session has run out")
    return session


def csrf_token(keyed: "Keyed", session: Session) -> str:
    return keyed.signature("console-csrf", session.id)


def check_csrf(keyed: "Keyed", session: Session, sent: str | None) -> None:
    if not sent or not keyed.signed(sent, "console-csrf", session.id):
        raise Refused("a state-changing request without the session's CSRF token", status=403)


def allow(role: Role | None, permission: Permission) -> None:
    """Refused (403) unless `role` has `permission`."""
    if role is None or permission not in PERMISSIONS[role]:
        raise Refused(f"the role {role or 'none'} may not {permission}", status=403)
