"""The closed community's door: a join request approved at the level that opens it (declined, with what it takes,
below), and a member who drops below that level, or deletes their account, shown out.

Approval and refusal are the webhook's answer to the join request (the Bot API call Telegram runs as it takes the
answer), so a redelivered request is answered the same. Showing out is at once: a message on the outbox with no text
that removes the member from the chat (adapters/bot_api.py runs banChatMember, then unbanChatMember, so they may come
back when their level does); why is news, which the caller sends through the contact policy. The roll of members the
bot let in says whom there is to show out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import OutboundMessage
from loyalty.domain.bot_program import words
from loyalty.domain.community import entitled, opens
from loyalty.domain.messages import render
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.ports import CommunityRoll, Ledger, MemberDirectory, Outbox


class CommunityDoor:
    def __init__(self, program: Program, members: MemberDirectory | None, ledger: Ledger, outbox: Outbox,
                 roll: CommunityRoll):
        """`members`: who asks to join (the webhook's); None where only levels and erasures show members out."""
        self.program = program
        self.members = members
        self.ledger = ledger
        self.outbox = outbox
        self.roll = roll

    def request(self, update_id: int, request: dict[str, Any]) -> dict[str, Any]:
        """A join request: the outcome, with the Bot API `call` that answers it (None: not the program's community)."""
        community = self.program.community
        chat_id, user_id = int(request["chat"]["id"]), int(request["from"]["id"])
        if community is None or chat_id != community.chat_id:
            return {"action": "ignored"}
        member_id = str(user_id)
        assert self.members is not None, "a join request is the webhook's, which knows the members"
        member = self.members.get(member_id)
        joined = member is not None and bool(member.phone) and not member.erased_at
        wallet = self.ledger.read(member_id)[0] if joined else None
        answer = {"chat_id": chat_id, "user_id": user_id}
        if wallet is not None and entitled(self.program, wallet):
            self.roll.admit(member_id, clock.now())
            logger.info("community join approved", extra={"member_id": member_id})
            return {"action": "community_approved", "call": {"method": "approveChatJoinRequest", **answer}}
        language = member.language if member is not None else "ru"
        level = self.program.level_title(community.min_level, language)
        text = render("community_closed", language, title=words(community.title, language), level=level) \
            if joined else render("community_join_first", language, title=words(community.title, language))
        self.outbox.put(OutboundMessage(dedupe_key=f"community:request:{update_id}", chat_id=int(
            request.get("user_chat_id") or user_id), text=text))
        logger.info("community join declined", extra={"member_id": member_id, "joined": joined})
        return {"action": "community_declined", "call": {"method": "declineChatJoinRequest", **answer}}

    def level_changed(self, member_id: str, level_before: str | None, level: str | None, key: str) -> bool:
        """A level that no longer opens the community (a review's downgrade) shows the member out at once; True if
        it did (the caller tells them why, as news: `left_words`)."""
        if self.program.community is None or not opens(self.program, level_before) or opens(self.program, level):
            return False
        return self._show_out(member_id, key, "")

    def left_words(self, language: str) -> dict[str, str]:
        """What the `community_left` text names: the community and the level that opens it."""
        community = self.program.community
        assert community is not None
        return {"title": words(community.title, language),
                "level": self.program.level_title(community.min_level, language)}

    def erased(self, member_id: str, key: str) -> None:
        """A deleted account leaves the community, told nothing more (their goodbye was said)."""
        if self.program.community is not None:
            self._show_out(member_id, key, "")

    def _show_out(self, member_id: str, key: str, text: str) -> bool:
        if not self.roll.admitted(member_id):
            return False
        community = self.program.community
        assert community is not None
        self.outbox.put(OutboundMessage(dedupe_key=f"community:out:{key}", chat_id=int(member_id), text=text,
                                        removes_from=community.chat_id))
        self.roll.show_out(member_id)
        logger.info("community member shown out", extra={"member_id": member_id})
        return True
