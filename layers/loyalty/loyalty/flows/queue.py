"""The console's queue: the tickets the staff chat gets — complaints, review proofs, reward orders and held
receipts — listed by state, and handled from the console through the same steps as the chat's buttons and
replies (flows/conversations.py), so each has one state wherever it was handled: open, answered, approved,
rejected, delivered."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain import console
from loyalty.domain.console import Permission, Refused, Session
from loyalty.domain.receipt import MOSCOW
from loyalty.flows.conversations import Acting, Conversations

if TYPE_CHECKING:
    from loyalty.domain.conversation import Ticket
    from loyalty.domain.staff import StaffMember

KINDS = {"complaint": ("жалоба", "complaint"), "review": ("отзыв", "review"),
         "reward": ("заказ награды", "reward order"), "receipt": ("задержанный чек", "held receipt")}
STATES = {"open": ("открыт", "open"), "answered": ("отвечен", "answered"), "approved": ("одобрен", "approved"),
          "rejected": ("отклонён", "rejected"), "delivered": ("выдан", "delivered")}
# What each kind's ticket may have done to it, in the console as in the chat
VERBS = {"complaint": ("answer",), "review": ("approve", "reject", "answer"), "reward": ("answer", "deliver"),
         "receipt": ("approve", "reject")}
_REFUSALS = {"staff_not_allowed": (403, "your role may not do this to this ticket"),
             "staff_unknown_ticket": (404, "no such ticket"),
             "staff_decided_before": (409, "the ticket was handled before (in the console or the staff chat)"),
             "staff_reply_undeliverable": (409, "the member is gone: the answer cannot reach them")}


class QueueItem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    kind: str
    kind_words: str
    status: str
    status_words: str
    opened_at: str
    member_id: str
    receipt: str | None = None  # a held receipt's fiscal key
    verbs: list[str] = Field(description="what may be done to it now")


class Handling(BaseModel):
    model_config = ConfigDict(defer_build=True)

    verb: Literal["approve", "reject", "answer", "deliver"]
    text: str | None = Field(default=None, min_length=1, max_length=2000, description="an answer's text")
    request_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class TicketStore(Protocol):
    def queue(self, status: str | None = None, limit: int = 100) -> list[Ticket]: ...
    def ticket(self, ticket_id: str) -> Ticket | None: ...


class TicketQueue:
    def __init__(self, table: TicketStore, conversations: Conversations):
        self.table = table
        self.conversations = conversations

    def items(self, staff: StaffMember, status: str | None, language: str = "ru") -> list[QueueItem]:
        console.allow(staff.role, Permission.VIEW)
        if status is not None and status not in STATES:
            raise Refused(f"no state {status!r}: open, answered, approved, rejected or delivered", status=422)
        index = 0 if language == "ru" else 1
        return [QueueItem(id=t.id, kind=t.kind, kind_words=KINDS.get(t.kind, (t.kind, t.kind))[index],
                          status=t.status, status_words=STATES.get(t.status, (t.status, t.status))[index],
                          opened_at=_moment(t.opened_at), member_id=t.member_id,
                          receipt=t.followup_id if t.kind == "receipt" else None,
                          verbs=list(VERBS.get(t.kind, ())) if t.status in ("open", "answered") else [])
                for t in self.table.queue(status)]

    def handle(self, session: Session, staff: StaffMember, ticket_id: str, handling: Handling,
               now: datetime) -> dict[str, Any]:
        """Do to the ticket what its button or a reply in the staff chat does; refused as the chat refuses."""
        console.allow(staff.role, Permission.VIEW)  # the staff rights (domain/staff.py) decide the rest
        ticket = self.table.ticket(ticket_id)
        if ticket is None:
            raise Refused("no such ticket", status=404)
        if handling.verb not in VERBS.get(ticket.kind, ()):
            raise Refused(f"a {ticket.kind} cannot be {handling.verb}d", status=422)
        acting = Acting(staff, staff.telegram_id, staff.name, session.id)
        key = f"console:{handling.request_key}"
        if handling.verb in ("approve", "reject"):
            outcome = self.conversations.decide(acting, ticket_id, ticket.kind, handling.verb == "approve", key)
        elif handling.verb == "deliver":
            outcome = self.conversations.deliver(acting, ticket_id, key)
        elif not handling.text:
            raise Refused("an answer needs its text", status=422)
        else:
            outcome = self.conversations.answer_ticket(acting, ticket, handling.text, key)
        refused = _REFUSALS.get(str(outcome.get("action")))
        if refused is not None:
            raise Refused(refused[1], status=refused[0])
        return {"action": outcome.get("action"), "ticket": ticket_id}


def _moment(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")
    except ValueError:
        return stamp or "—"
