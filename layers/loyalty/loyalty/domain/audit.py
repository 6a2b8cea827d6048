"""The staff's audit log: every action, append-only, each entry carrying the hash of the one before it.

An entry says who did what and when, what changed (before and after) and from which session. It names a member only
by their keyed marker and keeps no text a shopper wrote (a staff member's reason for a correction is kept, as the
ledger keeps it; the console asks for it without names): the log is never changed, so it must hold nothing an
erasure would have to take back. Entries are numbered
from 1 with no gap; an entry's hash covers its own content and the previous hash, so an entry changed, removed or
put in between breaks the chain from there on, and `loyalty audit verify` names where.
"""


import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from loyalty.domain.staff import StaffMember

GENESIS = "0" * 64  # the "previous hash" of entry 1


class Action(StrEnum):
    SIGN_IN = "sign_in"
    STAFF_ADDED = "staff_added"
    STAFF_CHANGED = "staff_changed"
    STAFF_REMOVED = "staff_removed"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    RECEIPT_APPROVED = "receipt_approved"
    RECEIPT_REJECTED = "receipt_rejected"
    REVIEW_APPROVED = "review_approved"
    REVIEW_REJECTED = "review_rejected"
    TICKET_ANSWERED = "ticket_answered"
    EXPORT = "export"
    RESENT = "message_resent"
    REWARD_DELIVERED = "reward_delivered"
    CAMPAIGN_SAVED = "campaign_saved"
    CAMPAIGN_LAUNCHED = "campaign_launched"
    CAMPAIGN_STOPPED = "campaign_stopped"
    CAMPAIGN_COPIED = "campaign_copied"
    APPROVAL_ASKED = "approval_asked"  # a launch over the owner's threshold, waiting for the owner
    APPROVAL_RULE = "approval_rule"  # the owner's threshold changed
    PROGRAM_CHANGED = "program_changed"  # an everyday change: a source, a reward, a text, a nudge, onboarding


class Actor(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    telegram_id: int
    name: str = ""
    role: str

    @classmethod
    def of(cls, staff: "StaffMember") -> "Actor":
        return cls(telegram_id=staff.telegram_id, name=staff.name, role=str(staff.role))


class Draft(BaseModel):
    """An action to record, before the log numbers and chains it."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    at: datetime
    actor: Actor
    action: Action
    session: str = Field(description="the console session's id, or `staff-chat` for a button in the staff chat")
    member_id: str | None = Field(default=None, description="whom it was about, as their keyed marker (Keyed.marker): "
                                  "the log outlives an erasure and must not name the person")
    subject: str | None = Field(default=None, description="what it was about besides a member: a staff id, a ticket")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


class Entry(Draft):
    seq: int = Field(ge=1)
    previous: str
    hash: str


def chained(draft: Draft, seq: int, previous: str) -> Entry:
    """`draft` as entry `seq`, after the entry whose hash is `previous`."""
    fields = {**draft.model_dump(mode="json", include=set(Draft.model_fields)), "seq": seq, "previous": previous}
    return Entry.model_validate({**fields, "hash": _digest(fields)})


def broken_at(entries: list[Entry]) -> int | None:
    """The first entry (by its number) where the chain does not hold, or None: numbered 1, 2, 3… and each hashing
    its content and the hash before it."""
    previous, expected = GENESIS, 1
    for entry in entries:
        fields = {key: value for key, value in entry.model_dump(mode="json").items() if key != "hash"}
        if entry.seq != expected or entry.previous != previous or entry.hash != _digest(fields):
            return expected
        previous, expected = entry.hash, expected + 1
    return None


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()
