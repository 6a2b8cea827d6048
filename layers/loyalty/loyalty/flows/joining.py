"""Joining in three taps: the /start link (where they came from, who invited them), then the contact button, which
shares the shopper's own phone and accepts the program rules in one go. A member who blocks and unblocks the bot,
or starts it again, stays the same member: the Telegram user id is the key.

A /start payload is dash-separated tokens: a source key from the program file (`wb`: Wildberries' insert card),
`ref_<code>` (an invitation: an opaque code, never the inviter's Telegram id) and `c_<campaign>` (a campaign's
link), e.g. `t.me/<bot>?start=wb-ref_K7Q2M9XA`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import BonusGranted, Incoming, MembersMerged, ReceiptSubmitted, Shopper
from loyalty.domain import fraud
from loyalty.domain.member import Member, imported_member_id
from loyalty.domain.messages import render, with_commands
from loyalty.flows.menu import menu_keyboard
from loyalty.flows.submissions import phone_keyboard
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program
    from loyalty.flows.crm_feed import CrmFeed
    from loyalty.flows.ports import Invitations, Members, Queue
    from loyalty.flows.replies import Replies

_INVITE = "ref_"
_CAMPAIGN = "c_"


class Joining:
    def __init__(self, program: Program, members: Members, replies: Replies, accrual_queue: Queue,
                 table: Invitations, keyed: Keyed, crm: CrmFeed | None):
        self.program = program
        self.keyed = keyed
        self.members = members
        self.replies = replies
        self.accrual_queue = accrual_queue
        self.table = table
        self.crm = crm  # None: the program syncs no CRM

    def start(self, shopper: Shopper, before: Member | None, key: str, payload: str) -> dict[str, Any]:
        """/start: a new shopper is welcomed and asked for the phone; a member is welcomed back to the menu (and,
        if they had blocked the bot or said /stop, offers reach them again)."""
        source, inviter = self.read_payload(payload, shopper.member_id)
        if inviter is not None and self._returning(shopper.member_id):
            inviter = None  # a person who erased their account comes back: an invitation pays nobody twice
        member = self.members.join(shopper.member_id, shopper.chat_id, shopper.language, referred_by=inviter,
                                   via=source)
        if self.crm is not None and before is not None and not before.subscribed and not before.erased_at:
            self.crm.updated(shopper.member_id, key, clock.now(), subscribed=True)
        if member.phone:
            self.replies.send(shopper, key, "welcome_back", menu_keyboard(shopper.language), balance=member.available)
            return {"action": "welcomed_back"}
        rules = self.program.bot.rules_url
        invited = member.referred_by is not None and self.program.bonuses.referred > 0
        self.replies.send(
            shopper, key, "welcome", phone_keyboard(shopper), brand=self.program.brand.name,
            rules_line=f": {rules}" if rules else "",
            invited_line=render("welcome_invited", shopper.language, referred=self.program.bonuses.referred)
            if invited else "")
        return {"action": "welcomed", "source": member.joined_via, "invited": member.referred_by is not None}

    def read_payload(self, payload: str, member_id: str) -> tuple[str | None, str | None]:
        """(where the member came from, who invited them) from a /start payload; unknown tokens are ignored."""
        source, inviter = None, None
        for token in payload.split("-")[:4] if payload else []:
            if token.startswith(_INVITE):
                found = self.table.inviter(token[len(_INVITE):])
                inviter = found if found != member_id else None
            elif token.startswith(_CAMPAIGN) and token[len(_CAMPAIGN):].replace("_", "").isalnum():
                source = f"campaign:{token[len(_CAMPAIGN):][:64]}"
            else:
                source = self.program.bot.source(token) or source
        return source, inviter

    def contact(self, shopper: Shopper, message: Incoming, key: str) -> dict[str, Any]:
        """The contact button: the shopper's own phone (a forwarded address-book card is refused), and with it the
        rules accepted."""
        if message.contact_phone is None or message.contact_user_id != int(shopper.member_id):
            self.replies.send(shopper, key, "phone_not_yours", phone_keyboard(shopper))
            return {"action": "foreign_contact"}
        self.members.join(shopper.member_id, shopper.chat_id, shopper.language)
        member = self.members.save_phone(shopper.member_id, _e164(message.contact_phone), self.program.bot.rules_url)
        self.replies.send_text(shopper, key, with_commands("phone_saved", shopper.language),
                               menu_keyboard(shopper.language))
        self._report_phone(member, key)
        adopted = self._adopt_imported(shopper, member.phone)
        # Welcome is for a new member: not for one the brand imported (by Telegram id or, adopted, by phone). The
        # same phone again is this update redelivered after a failure past save_phone, or the contact shared twice:
        # the bonus is granted again, and the ledger's entry key pays it once.
        first_phone = member.phone_before in (None, member.phone)
        returning = self._returning(shopper.member_id, member.phone)
        suspect = self._count_phone(shopper.member_id, member.phone)
        if returning and member.referred_by is not None:
            self.members.forget_inviter(shopper.member_id)  # the same phone came back on another account
        if self.program.bonuses.welcome and first_phone and not adopted and member.joined_via != "import" \
                and not returning:
            self.accrual_queue.put(BonusGranted(shopper=shopper, bonus="welcome", reference=shopper.member_id))
        if member.pending_receipt:
            pending = ReceiptSubmitted.model_validate_json(member.pending_receipt)
            shopper_now = pending.shopper.model_copy(update={
                "suspect": (*member.suspect, *suspect), "invited_by": None if returning else member.referred_by})
            self.submit(pending.model_copy(update={"shopper": shopper_now}))
        logger.info("member shared phone", extra={"member_id": shopper.member_id})
        return {"action": "phone_saved", "pending_receipt": bool(member.pending_receipt)}

    def _count_phone(self, member_id: str, phone: str | None) -> tuple[str, ...]:
        """Each account a phone has been behind is kept (keyed markers); past the program's threshold the account
        that shared it is suspect, and its receipts wait for the staff. The rule it now trips, if any."""
        if phone is None:
            return ()
        accounts = self.table.phone_accounts(self.keyed.marker("phone", phone), self.keyed.marker("member", member_id))
        if not fraud.phone_suspect(self.program.fraud.rules, accounts):
            return ()
        self.members.suspect(member_id, str(fraud.RuleName.PHONE_ACCOUNTS))
        logger.warning("a phone behind several accounts", extra={"member_id": member_id, "accounts": accounts})
        return (str(fraud.RuleName.PHONE_ACCOUNTS),)

    def _returning(self, member_id: str, phone: str | None = None) -> bool:
        """Whether this person (their Telegram id, or their phone) had a membership they erased."""
        return any(self.table.was_erased(marker) for marker in erasure_markers(self.keyed, member_id, phone))

    def submit(self, submitted: ReceiptSubmitted) -> None:
        self.accrual_queue.put(submitted)
        self.replies.acknowledge(submitted.shopper, f"{submitted.submission_id}:accepted", "receipt_accepted")
        logger.info("receipt submitted", extra={"member_id": submitted.shopper.member_id,
                                                "submission_id": submitted.submission_id})

    def _adopt_imported(self, shopper: Shopper, phone: str | None) -> bool:
        """A member imported with this phone and no Telegram id becomes this shopper: their points and level move
        over (once, through the ledger), and the imported member gives the phone up. True if one did."""
        source = imported_member_id(phone) if phone else None
        imported = self.members.get(source) if source else None
        if source is None or imported is None or imported.merged_into not in (None, shopper.member_id):
            return False
        self.accrual_queue.put(MembersMerged(shopper=shopper, source=source))
        self.members.retire(source, shopper.member_id)
        logger.info("imported member adopted", extra={"member_id": shopper.member_id, "source": source})
        return True

    def _report_phone(self, member: Member, key: str) -> None:
        """A first phone (or the same one again) registers the member in the CRM; another phone updates them."""
        if self.crm is None or member.phone is None:
            return
        if member.phone_before in (None, member.phone):
            self.crm.registered(member.member_id, member.phone, clock.now(), telegram_id=member.chat_id,
                                source=member.joined_via, language=member.language, referred_by=member.referred_by)
        else:
            self.crm.updated(member.member_id, key, clock.now(), phone=member.phone)


def erasure_markers(keyed: Keyed, member_id: str, phone: str | None) -> list[str]:
    """What is kept of an erased person, so the welcome and referral bonuses are paid once per person: keyed markers
    of their Telegram id and of their phone, which name nobody without the stack's key."""
    return [keyed.marker("member", member_id), *([keyed.marker("phone", phone)] if phone else [])]


def _e164(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}"
