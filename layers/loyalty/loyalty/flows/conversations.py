"""The bot's two-way talk after a purchase: the survey's rating, what went wrong (to the brand's staff chat, and the
staff's reply back to the shopper), a review's proof (approved or rejected in the staff chat, its bonus paid once),
and "не интересно" under a nudge. A staff reply to any ticket (a complaint, a review, a reward order) opens a thread:
for a while the shopper's text goes back to the staff chat under the same ticket, so a delivery address or a
follow-up question reaches the people who asked.

The staff chat is a Telegram group whose id is in the program file: only buttons and replies there decide tickets,
and only from the staff the program names with a role that may (domain/staff.py), never on their own ticket.
A ticket is named by a short id (#K7Q2M9XAPB) in the staff's message, so a reply finds it with no lookup table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import BonusGranted, HeldReceiptDecided, Incoming, Shopper
from loyalty.domain import chat_limits
from loyalty.domain.audit import Action, Actor, Draft
from loyalty.domain.conversation import FollowUp, Ticket
from loyalty.domain.messages import render, render_fitted
from loyalty.domain.qr_text import is_qr
from loyalty.domain.staff import Right, StaffMember, may
from loyalty.flows import keyboards
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.flows.ports import AuditTrail, BotMemory, Members, Queue
    from loyalty.flows.replies import Replies

_ANSWER_HOURS = {"complaint": 48, "review": 24 * 7, "thread": 72}  # how long the bot waits for an answer
_TICKET = re.compile(r"#([A-Z2-9]{10})\b")
_STAFF_LANGUAGE = "ru"
_DECIDED = {("review", True): Action.REVIEW_APPROVED, ("review", False): Action.REVIEW_REJECTED,
            ("receipt", True): Action.RECEIPT_APPROVED, ("receipt", False): Action.RECEIPT_REJECTED}


@dataclass(frozen=True)
class Acting:
    """Who acts on a ticket, and from where: the staff chat (its session is `staff-chat`) or a console session."""

    person: StaffMember | None
    user_id: int
    who: str  # the name the staff chat shows
    session: str


class Conversations:
    def __init__(self, program: Program, members: Members, replies: Replies, accrual_queue: Queue,
                 table: BotMemory, keyed: Keyed):
        self.program = program
        self.keyed = keyed
        self.members = members
        self.replies = replies
        self.accrual_queue = accrual_queue
        self.table = table
        # Who may act in the staff chat: the console's staff directory where the console is deployed (the program
        # file's `bot.staff` otherwise); and the audit log every decision and answer there goes to, as in the console.
        self.staff_of: Callable[[int], StaffMember | None] = lambda user_id: self.program.bot.staff_member(user_id)
        self.audit: AuditTrail | None = None

    # ------------------------------------------------------------------ the shopper's side
    def tapped(self, shopper: Shopper, member: Member, action: str, argument: str, key: str) -> dict[str, Any]:
        if action == "rate":
            followup_id, _, rating = argument.partition(":")
            outcome = self._rated(shopper, followup_id, rating, key)
            if outcome["action"] in ("survey_bad", "survey_good") and self.program.bot.survey and \
                    self.program.bot.survey.nps:
                buttons = keyboards.inline_keyboard([[(str(n), f"nps:{followup_id}:{n}") for n in range(0, 6)],
                                                     [(str(n), f"nps:{followup_id}:{n}") for n in range(6, 11)]])
                self.replies.send(shopper, f"{key}:nps", "nps_question", buttons, brand=self.program.brand.name)
            return outcome
        if action == "nps":
            followup_id, _, score = argument.partition(":")
            return self._recommended(shopper, followup_id, score, key)
        if action == "nudge_off" and self.program.bot.nudge(argument) is not None:
            self.table.stop_nudge(shopper.member_id, argument, clock.now())
            self.replies.send(shopper, key, "nudge_stopped")
            return {"action": "nudge_stopped", "nudge": argument}
        self.replies.send(shopper, key, "button_expired")
        return {"action": "button_expired"}

    def _rated(self, shopper: Shopper, followup_id: str, rating: str, key: str) -> dict[str, Any]:
        followup = self.table.followup(followup_id)
        if followup is None or followup.member_id != shopper.member_id or rating not in "12345" or len(rating) != 1:
            self.replies.send(shopper, key, "button_expired")
            return {"action": "button_expired"}
        if not self.table.rate(followup_id, int(rating)):  # the first tap counts
            self.replies.send(shopper, key, "survey_thanks")
            return {"action": "survey_rated_before"}
        self.members.surveyed(shopper.member_id, rating=int(rating))
        until = clock.stamp(clock.now() + timedelta(hours=_ANSWER_HOURS["complaint" if int(rating) <= 3 else "review"]))
        if int(rating) <= 3:
            self.members.await_answer(shopper.member_id, "complaint", followup_id, until)
            self.replies.send(shopper, key, "survey_what_wrong", brand=self.program.brand.name)
            return {"action": "survey_bad", "rating": int(rating)}
        link = self._review_link(followup)
        self.members.await_answer(shopper.member_id, "review", followup_id, until)
        buttons = keyboards.inline_keyboard([[(render("button_write_review", shopper.language), link)]]) \
            if link else None
        self.replies.send(shopper, key, "survey_review_ask", buttons, points=self.program.bonuses.review)
        return {"action": "survey_good", "rating": int(rating)}

    def _recommended(self, shopper: Shopper, followup_id: str, score: str, key: str) -> dict[str, Any]:
        """How likely they are to recommend the brand, 0–10: the first tap counts."""
        followup = self.table.followup(followup_id)
        if followup is None or followup.member_id != shopper.member_id or not score.isdigit() or int(score) > 10:
            self.replies.send(shopper, key, "button_expired")
            return {"action": "button_expired"}
        if self.table.recommend(followup_id, int(score)):  # the first tap counts
            self.members.surveyed(shopper.member_id, recommends=int(score))
        self.replies.send(shopper, key, "survey_thanks")
        return {"action": "nps_answered", "score": int(score)}

    def _review_link(self, followup: FollowUp) -> str | None:
        links = self.program.bot.survey.review_links if self.program.bot.survey else {}
        return links.get(followup.channel) or links.get(self.program.channel_kind(followup.channel))

    def is_answer(self, member: Member, message: Incoming) -> bool:
        """Whether this message answers what the bot asked: a complaint's text; a review's screenshot or link. A
        receipt's QR text is a receipt, whatever the bot waits for."""
        awaiting = member.awaiting or {}
        if str(awaiting.get("until", "")) < clock.stamp():
            return False
        if message.text and is_qr(message.text):
            return False
        if awaiting.get("kind") in ("complaint", "thread"):
            return bool(message.text)
        return (message.file is not None and message.file.kind == "photo") or "http" in (message.text or "")

    def answer(self, shopper: Shopper, member: Member, message: Incoming, key: str) -> dict[str, Any]:
        awaiting = member.awaiting or {}
        if awaiting.get("kind") == "thread":
            return self._thread(shopper, member, message, key, str(awaiting.get("about", "")))
        followup = self.table.followup(str(awaiting.get("about", "")))
        self.members.answered(shopper.member_id)
        if followup is None or self.program.bot.staff_chat_id is None:
            self.replies.send(shopper, key, "button_expired")
            return {"action": "answer_lost"}
        context: dict[str, Any] = {
            "member": shopper.member_id, "level": self.program.level_title(member.level, _STAFF_LANGUAGE),
            "store": followup.store or "—", "goods": ", ".join(followup.goods) or "—"}
        if awaiting.get("kind") == "complaint":
            ticket = Ticket(id=self.keyed.id("complaint", followup.id), kind="complaint", member_id=shopper.member_id,
                            followup_id=followup.id)
            self.table.open_ticket(ticket)
            self._to_staff(key, "staff_complaint", ticket=ticket.id, rating=followup.rating or 0,
                           text=message.text or "", **context)
            self.replies.send(shopper, key, "complaint_forwarded", brand=self.program.brand.name)
            return {"action": "complaint_forwarded", "ticket": ticket.id}
        ticket = Ticket(id=self.keyed.id("review", followup.id, key), kind="review", member_id=shopper.member_id,
                        followup_id=followup.id)
        self.table.open_ticket(ticket)
        photo = message.file.file_id if message.file is not None else None
        proof = render("staff_review_screenshot", _STAFF_LANGUAGE) if photo else (message.text or "")
        buttons = keyboards.inline_keyboard([[(render("button_approve", _STAFF_LANGUAGE), f"review:{ticket.id}:ok"),
                                             (render("button_reject", _STAFF_LANGUAGE), f"review:{ticket.id}:no")]])
        self._to_staff(key, "staff_review", buttons, photo=photo, ticket=ticket.id, proof=proof if not photo else "",
                       **context)
        self.replies.send(shopper, key, "review_received")
        return {"action": "review_sent", "ticket": ticket.id}

    def _thread(self, shopper: Shopper, member: Member, message: Incoming, key: str, ticket_id: str
                ) -> dict[str, Any]:
        """The shopper writes back after a staff reply: to the staff chat under the same ticket, which a staff
        Reply answers again. The thread stays open until it times out, so an answer in two messages arrives whole."""
        ticket = self.table.ticket(ticket_id)
        if ticket is None or ticket.member_id != shopper.member_id or self.program.bot.staff_chat_id is None:
            self.members.answered(shopper.member_id)
            self.replies.send(shopper, key, "button_expired")
            return {"action": "answer_lost"}
        self._to_staff(key, "staff_thread", ticket=ticket.id, member=shopper.member_id, text=message.text or "",
                       level=self.program.level_title(member.level, _STAFF_LANGUAGE))
        self.replies.send(shopper, key, "complaint_forwarded", brand=self.program.brand.name)
        logger.info("shopper wrote back on a ticket", extra={"ticket": ticket.id, "member_id": shopper.member_id})
        return {"action": "thread_forwarded", "ticket": ticket.id}

    # ------------------------------------------------------------------ the staff chat
    def staff(self, message: Incoming, key: str) -> dict[str, Any]:
        """A button or a reply in the staff chat. Anything else said there is the staff's own talk: no answer."""
        acting = Acting(self.staff_of(message.user_id), message.user_id, message.user_name, "staff-chat")
        if message.callback_data is not None:
            action, _, argument = message.callback_data.partition(":")
            ticket_id, _, verdict = argument.partition(":")
            if action in ("review", "receipt") and verdict in ("ok", "no"):
                return self.decide(acting, ticket_id, action, verdict == "ok", key)
            return {"action": "staff_unknown_button"}
        found = _TICKET.search(message.reply_to_text or "")
        if not message.text or message.reply_to_text is None:
            return {"action": "staff_chatter"}
        ticket = self.table.ticket(found.group(1)) if found else None
        if ticket is None:
            self._to_staff(key, "staff_unknown_reply")
            return {"action": "staff_reply_unmatched"}
        return self.answer_ticket(acting, ticket, message.text, key)

    # ------------------------------------------------------------------ the staff's side, from the chat or the console
    def decide(self, acting: Acting, ticket_id: str, kind: str, approved: bool, key: str) -> dict[str, Any]:
        """Approve or reject a review or a held receipt, in the staff chat or the console: the first decision
        stands, wherever it was taken."""
        return self._decide(ticket_id, approved, acting, key) if kind == "review" \
            else self._decide_receipt(ticket_id, approved, acting, key)

    def answer_ticket(self, acting: Acting, ticket: Ticket, text: str, key: str) -> dict[str, Any]:
        """Answer a shopper's ticket (a complaint, a review's question, a reward order): the text reaches them."""
        person = acting.person
        if not may(person, Right.ANSWER, acting.user_id, ticket.member_id):
            self._to_staff(key, "staff_may_not_answer", ticket=ticket.id)
            logger.warning("a reply in the staff chat from someone who may not answer", extra={"ticket": ticket.id})
            return {"action": "staff_not_allowed", "ticket": ticket.id}
        member = self.members.get(ticket.member_id)
        if member is None or member.chat_id is None or member.erased_at:
            self._to_staff(key, "staff_member_gone", ticket=ticket.id)
            return {"action": "staff_reply_undeliverable", "ticket": ticket.id}
        shopper = Shopper(member_id=member.member_id, chat_id=member.chat_id, language=member.language)
        self.replies.send_text(shopper, f"{key}:to-shopper", render_fitted(
            "staff_reply", shopper.language, "text", brand=self.program.brand.name, text=text))
        self.table.close_ticket(ticket.id, "answered", was=("open", "answered"))
        if ticket.kind != "review":  # a review's proof may still be awaited: a new link goes to its buttons
            until = clock.stamp(clock.now() + timedelta(hours=_ANSWER_HOURS["thread"]))
            self.members.await_answer(member.member_id, "thread", ticket.id, until)
        self._to_staff(key, "staff_reply_delivered", ticket=ticket.id)
        self._audit(person, Action.TICKET_ANSWERED, ticket, {"status": "answered", "characters": len(text)},
                    acting.session)
        logger.info("staff replied to a ticket", extra={"ticket": ticket.id, "member_id": member.member_id})
        return {"action": "staff_replied", "ticket": ticket.id}

    def deliver(self, acting: Acting, ticket_id: str, key: str) -> dict[str, Any]:
        """A reward order handed over (the console's button): the shopper is told, once."""
        ticket = self.table.ticket(ticket_id)
        if ticket is None or ticket.kind != "reward":
            return {"action": "staff_unknown_ticket"}
        if not may(acting.person, Right.ANSWER, acting.user_id, ticket.member_id):
            return {"action": "staff_not_allowed", "ticket": ticket_id}
        if not self.table.close_ticket(ticket_id, "delivered", was=("open", "answered")):
            return {"action": "staff_decided_before", "ticket": ticket_id}
        self._audit(acting.person, Action.REWARD_DELIVERED, ticket, {"status": "delivered"}, acting.session)
        self._to_staff(key, "staff_reward_delivered", ticket=ticket_id, who=acting.who or "—")
        member = self.members.get(ticket.member_id)
        if member is not None and member.chat_id is not None and not member.erased_at:
            shopper = Shopper(member_id=member.member_id, chat_id=member.chat_id, language=member.language)
            self.replies.send(shopper, f"{key}:to-shopper", "reward_delivered")
        return {"action": "reward_delivered", "ticket": ticket_id}

    def _decide(self, ticket_id: str, approved: bool, message: Acting, key: str) -> dict[str, Any]:
        """Approve or reject a review once, by a staff member who may: the first decision stands, and the bonus is
        paid at most once (its ledger entry is keyed on the survey, whatever was sent as proof)."""
        ticket, refused = self._close(ticket_id, "review", Right.DECIDE_REVIEW, approved, message, key)
        if ticket is None:
            return refused
        member = self.members.get(ticket.member_id)
        if member is None or member.chat_id is None:
            return {"action": "staff_decided", "ticket": ticket_id, "member_gone": True}
        shopper = Shopper(member_id=member.member_id, chat_id=member.chat_id, language=member.language)
        if approved:
            self.accrual_queue.put(BonusGranted(shopper=shopper, bonus="review", reference=f"bot:{ticket.followup_id}"))
        else:
            until = clock.stamp(clock.now() + timedelta(hours=_ANSWER_HOURS["review"]))
            self.members.await_answer(member.member_id, "review", ticket.followup_id, until)
            self.replies.send(shopper, f"{key}:to-shopper", "review_rejected")
        return {"action": "review_approved" if approved else "review_rejected", "ticket": ticket_id}

    def _decide_receipt(self, ticket_id: str, approved: bool, message: Acting, key: str) -> dict[str, Any]:
        """Approve or reject a receipt a fraud rule held, once, by a staff member who may: the ledger releases its
        points or takes them back (the accrual flow's `decide`, keyed on the receipt)."""
        ticket, refused = self._close(ticket_id, "receipt", Right.DECIDE_RECEIPT, approved, message, key)
        if ticket is None:
            return refused
        self.accrual_queue.put(HeldReceiptDecided(member_id=ticket.member_id, fiscal_key=ticket.followup_id,
                                                  approved=approved))
        return {"action": "receipt_approved" if approved else "receipt_rejected", "ticket": ticket_id}

    def _close(self, ticket_id: str, kind: str, right: Right, approved: bool, acting: Acting, key: str
               ) -> tuple[Ticket | None, dict[str, Any]]:
        """The ticket, decided now by someone who may (the staff chat or the console told who), or None and why
        not."""
        ticket = self.table.ticket(ticket_id)
        if ticket is None or ticket.kind != kind:
            return None, {"action": "staff_unknown_ticket"}
        person = acting.person
        if not may(person, right, acting.user_id, ticket.member_id):
            logger.warning("a decision from someone who may not decide", extra={"ticket": ticket_id, "kind": kind})
            return None, {"action": "staff_not_allowed", "ticket": ticket_id,
                          "notice": render("staff_may_not_decide", _STAFF_LANGUAGE)}
        if not self.table.close_ticket(ticket_id, "approved" if approved else "rejected"):
            return None, {"action": "staff_decided_before", "ticket": ticket_id}
        self._audit(person, _DECIDED[(kind, approved)], ticket, {"status": "approved" if approved else "rejected"},
                    acting.session)
        decision = render("staff_approved" if approved else "staff_rejected", _STAFF_LANGUAGE)
        who = (person.name if person else "") or acting.who
        self._to_staff(key, "staff_decided", ticket=ticket_id, decision=decision, who=who or "—")
        return ticket, {}

    def _audit(self, person: StaffMember | None, action: Action, ticket: Ticket, after: dict[str, Any],
               session: str) -> None:
        """A staff action on a ticket, in the audit log, from the console's session or `staff-chat`."""
        if self.audit is None or person is None:
            return
        self.audit.append(Draft(at=clock.now(), actor=Actor.of(person),
                                action=action, session=session, subject=ticket.id,
                                member_id=self.keyed.marker("member", ticket.member_id),
                                before={"status": "open"}, after=after))

    def _to_staff(self, key: str, text_key: str, buttons: dict[str, Any] | None = None, photo: str | None = None,
                  **params: Any) -> None:
        chat = self.program.bot.staff_chat_id
        if chat is None:
            return
        spill = next((name for name in ("text", "proof") if name in params), None)  # what the shopper wrote
        limit = chat_limits.CAPTION if photo else chat_limits.TEXT
        text = render_fitted(text_key, _STAFF_LANGUAGE, spill, limit, **params) if spill else \
            render(text_key, _STAFF_LANGUAGE, **params)
        self.replies.to_chat(chat, f"{key}:staff", text, buttons, photo=photo)
