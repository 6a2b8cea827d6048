"""What a member decides about their account: the language, /stop and /start for offers, exchanging points for a
reward, and /delete."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import BirthdayGiven, MemberErased, RewardRequested, Shopper
from loyalty.domain.birthday import Unreadable
from loyalty.domain.birthday import parse as parse_birthday
from loyalty.domain.bot_program import words
from loyalty.domain.contact import known_zone
from loyalty.domain.messages import render
from loyalty.flows import keyboards
from loyalty.flows.joining import erasure_markers
from loyalty.flows.menu import daytime, menu_keyboard
from loyalty.flows.submissions import phone_keyboard
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.flows.crm_feed import CrmFeed
    from loyalty.flows.ports import Invitations, Members, Queue
    from loyalty.flows.replies import Replies


_ANSWER_WITHIN = timedelta(hours=1)  # a question the bot asked waits this long for its answer


class Account:
    def __init__(self, program: Program, members: Members, replies: Replies, accrual_queue: Queue,
                 table: Invitations, keyed: Keyed, crm: CrmFeed | None):
        self.program = program
        self.keyed = keyed
        self.members = members
        self.replies = replies
        self.accrual_queue = accrual_queue
        self.table = table
        self.crm = crm

    def language(self, shopper: Shopper, member: Member | None, key: str, language: str) -> dict[str, Any]:
        """/language: the member's choice wins over their Telegram app's language from now on."""
        if member is None:
            self.members.join(shopper.member_id, shopper.chat_id, language)
        self.members.choose_language(shopper.member_id, language)
        chosen = shopper.model_copy(update={"language": language})
        joined = member is not None and bool(member.phone)
        self.replies.send(chosen, key, "language_set", menu_keyboard(language) if joined else None)
        return {"action": "language", "language": language}

    def birthday(self, shopper: Shopper, key: str, text: str) -> dict[str, Any]:
        """/birthday [date], or the answer to the bot's question: a date read is queued for the ledger (which answers
        when the gift comes); no date, or one the bot cannot read, asks (again) and waits an hour for the answer."""
        if text.strip():
            try:
                month, day = parse_birthday(text)
            except Unreadable:
                self._ask_birthday(shopper, key, "birthday_unreadable")
                return {"action": "birthday_unreadable"}
            self.members.answered(shopper.member_id)
            self.accrual_queue.put(BirthdayGiven(request_id=key, shopper=shopper, month=month, day=day))
            return {"action": "birthday_given"}
        self._ask_birthday(shopper, key, "birthday_ask")
        return {"action": "birthday_asked"}

    def _ask_birthday(self, shopper: Shopper, key: str, text_key: str) -> None:
        self.members.await_answer(shopper.member_id, "birthday", "", clock.stamp(clock.now() + _ANSWER_WITHIN))
        self.replies.send(shopper, key, text_key)

    def time_zone(self, shopper: Shopper, key: str, zone: str) -> dict[str, Any]:
        """A city tapped under /timezone: letters keep to its daytime from now on."""
        policy = self.program.contact
        choice = policy.zone_choice(zone)
        if choice is None:  # a button from before the brand changed its list
            self.replies.send(shopper, key, "button_expired")
            return {"action": "button_expired"}
        self.members.choose_time_zone(shopper.member_id, choice.zone)
        here = clock.now().astimezone(known_zone(choice.zone))
        self.replies.send(shopper, key, "time_zone_set", zone=words(choice.title, shopper.language),
                          time=f"{here:%H:%M}", **daytime(policy))
        return {"action": "time_zone", "zone": choice.zone}

    def stop(self, shopper: Shopper, key: str) -> dict[str, Any]:
        """/stop: no campaign, reminder, nudge or survey reaches the member (receipts and their messages go on);
        /start turns them back on."""
        self.members.unsubscribe(shopper.member_id)
        if self.crm is not None:
            self.crm.unsubscribed(shopper.member_id, key, clock.now())
        self.replies.send(shopper, key, "marketing_stopped")
        return {"action": "stopped"}

    def exchange(self, shopper: Shopper, member: Member, key: str, reward_id: str, offer: str, order: str
                 ) -> dict[str, Any]:
        """The confirmation's "Exchange": its order id must be the one the bot issued to this member for this reward
        (menu.py's `reward_offer`), so a modified client can neither choose an order id nor reuse another's."""
        if self.program.bot.reward(reward_id) is None or not self.keyed.issued(order, "order", shopper.member_id,
                                                                                 reward_id, offer):
            self.replies.send(shopper, key, "button_expired")
            return {"action": "button_expired"}
        if not member.phone:  # the brand hands a reward over to someone it can reach
            self.replies.send(shopper, key, "phone_needed_first", phone_keyboard(shopper))
            return {"action": "phone_needed"}
        self.accrual_queue.put(RewardRequested(shopper=shopper, reward_id=reward_id, order_id=order))
        return {"action": "reward_requested", "reward": reward_id}

    def confirm_delete(self, shopper: Shopper, member: Member, key: str) -> dict[str, Any]:
        buttons = [[(render("button_delete", shopper.language), "delete:yes"),
                    (render("button_cancel", shopper.language), "delete:no")]]
        self.replies.send(shopper, key, "delete_confirm", keyboards.inline_keyboard(buttons),
                          balance=member.available + member.pending + member.held)
        return {"action": "delete_asked"}

    def delete(self, shopper: Shopper, member: Member, key: str, confirmed: bool) -> dict[str, Any]:
        """Erase the personal data at once (the CRM is told to erase it too); the points left are written off by the
        ledger, in an anonymised entry, so the books still add up and the liability is right. The receipts stay
        claimed: nobody can register them again."""
        if not confirmed:
            self.replies.send(shopper, key, "delete_cancelled")
            return {"action": "delete_cancelled"}
        self.replies.send(shopper, key, "delete_done", keyboards.keyboard_removed())
        self.members.erase(shopper.member_id)
        self.table.forget_invitations(shopper.member_id)
        for marker in erasure_markers(self.keyed, shopper.member_id, member.phone):
            self.table.mark_erased(marker)
        if self.crm is not None:
            self.crm.deleted(shopper.member_id, key, clock.now())
        self.accrual_queue.put(MemberErased(member_id=shopper.member_id))
        logger.info("member erased their account", extra={"member_id": shopper.member_id})
        return {"action": "deleted"}
