"""What the bot does with one Telegram update: join, share the phone, submit a receipt.

Nothing slow happens here: the receipt goes to ReceiptQueue and every reply to the outbox, so the webhook
answers Telegram in milliseconds.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any, ClassVar

from loyalty import clock
from loyalty.adapters import telegram
from loyalty.adapters.idempotency import OncePerKey
from loyalty.adapters.members import Member, MembersRepository, imported_member_id
from loyalty.adapters.queues import DeadLetterQueue
from loyalty.adapters.telegram import Incoming
from loyalty.contracts import BonusGranted, MembersMerged, PromoRequested, ReceiptSubmitted, Shopper, TelegramFile
from loyalty.domain.errors import AlreadyInProgress, InvalidQr, StorageUnavailable
from loyalty.domain.history import history_lines
from loyalty.domain.messages import language_of, render, with_commands
from loyalty.domain.program import Program
from loyalty.domain.qr import parse_qr
from loyalty.flows.crm_feed import CrmFeed
from loyalty.flows.ports import Ledger, Queue
from loyalty.flows.replies import Replies
from loyalty.observability import logger


class Webhook:
    """The HTTP edge: check the secret, drop redelivered updates, never answer 500 for a bad update.

    A malformed update, or one that makes our code fail, is parked in the dead-letter queue with the
    reason and answered 200: a non-2xx would make Telegram redeliver it for hours. Only when AWS itself
    fails (nothing could be stored) do we answer 500, so that Telegram keeps the update and retries.
    """

    def __init__(self, bot: Bot, once: OncePerKey, expected_secret: Callable[[], str], dead_letters: DeadLetterQueue):
        self.bot = bot
        self._handle_once = once(bot.handle)  # once per update_id
        self.idempotency = once.config
        self.expected_secret = expected_secret  # read per call: a rotated secret is picked up without a deploy
        self.dead_letters = dead_letters

    def receive(self, secret_token: str | None, body: str | None) -> int:
        """Handle one webhook call; returns the HTTP status to answer."""
        if not secret_matches(secret_token, self.expected_secret()):
            logger.warning("webhook call without the right secret token")
            return 403
        try:
            update = json.loads(body or "")
            if not isinstance(update, dict) or type(update.get("update_id")) is not int:
                raise ValueError("no integer update_id")
        except ValueError as error:
            return self._park(body, f"malformed update: {error}")
        try:
            outcome = self._handle_once(update=update)
        except AlreadyInProgress:
            logger.info("update already being handled", extra={"update_id": update["update_id"]})
            return 200
        except StorageUnavailable:
            logger.exception("AWS failed; Telegram will redeliver", extra={"update_id": update["update_id"]})
            return 500
        except Exception as error:
            logger.exception("update failed", extra={"update_id": update["update_id"]})
            return self._park(body, f"{type(error).__name__}: {error}", str(update["update_id"]))
        logger.info("update handled", extra={"update_id": update["update_id"], **outcome})
        return 200

    def _park(self, body: str | None, reason: str, update_id: str = "") -> int:
        logger.error("update dead-lettered", extra={"reason": reason, "update_id": update_id})
        self.dead_letters.park(body or "", reason, update_id=update_id)
        return 200


def secret_matches(received: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    return received is not None and hmac.compare_digest(received.encode(), expected.encode())


class Bot:
    def __init__(self, program: Program, members: MembersRepository, ledger: Ledger, outbox: Queue,
                 receipt_queue: Queue, accrual_queue: Queue, crm: CrmFeed | None = None):
        self.program = program
        self.crm = crm  # None: the program syncs no CRM
        self.members = members
        self.ledger = ledger
        self.replies = Replies(outbox)
        self.receipt_queue = receipt_queue
        self.accrual_queue = accrual_queue

    def handle(self, update: dict[str, Any]) -> dict[str, Any]:
        """Act on one update. Returns a short summary of what was done (kept by the idempotency store)."""
        return self._act(telegram.incoming(update))

    def _act(self, message: Incoming | None) -> dict[str, Any]:
        if message is None:  # not a message from a person in a private chat
            return {"action": "ignored"}
        shopper = Shopper(member_id=str(message.user_id), chat_id=message.chat_id,
                          language=language_of(message.language_code))
        reply_key = f"tg-update:{message.update_id}"
        command, argument = _command(message.text)
        if command == "/start":
            return self._start(shopper, reply_key, argument)
        if command in self._commands:
            return self._commands[command](self, shopper, reply_key, argument)
        if message.contact_phone is not None:
            return self._contact(shopper, message, reply_key)
        if message.text:
            return self._text(shopper, message.text, reply_key)
        if message.file is not None:
            return self._receipt(shopper, reply_key, file=message.file)
        self._help(shopper, reply_key, "")
        return {"action": "unsupported"}

    def _start(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        """/start, /start ref_<member> from an invitation link, or /start c_<campaign> from a campaign's link
        (where they came from is kept only for a shopper new to the bot)."""
        inviter = argument[len(_INVITE_PREFIX):] if argument.startswith(_INVITE_PREFIX) else None
        campaign = argument[len(_CAMPAIGN_PREFIX):] if argument.startswith(_CAMPAIGN_PREFIX) else None
        before = self.members.get(shopper.member_id) if self.crm is not None else None
        self.members.join(shopper.member_id, shopper.chat_id, shopper.language, referred_by=inviter,
                          via=f"campaign:{campaign[:64]}" if campaign else None)
        if self.crm is not None and before is not None and not before.subscribed:  # back after blocking the bot
            self.crm.updated(shopper.member_id, reply_key, clock.now(), subscribed=True)
        brand = self.program.brand.name
        self.replies.send(shopper, reply_key, "welcome", self._phone_keyboard(shopper), brand=brand)
        return {"action": "welcomed", "invited": inviter is not None}

    def _history(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        entries = self.ledger.history(shopper.member_id, _HISTORY_LENGTH)
        titles = {level.id: level.title for level in self.program.levels}
        lines = history_lines(entries, shopper.language, titles)
        if not lines:
            self.replies.send(shopper, reply_key, "history_empty")
        else:
            title = render("history_title", shopper.language)
            self.replies.send_text(shopper, reply_key, "\n".join([title, *lines]))
        return {"action": "history", "entries": len(lines)}

    def _balance(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        member = self.members.get(shopper.member_id) or self.members.join(
            shopper.member_id, shopper.chat_id, shopper.language)
        program, language = self.program, shopper.language
        level = program.level(member.level) or (program.levels[0] if program.levels else None)
        percent = level.percent if level else program.earning.base_percent
        self.replies.send(
            shopper, reply_key, "balance", title=level.title if level else program.brand.name,
            percent=f"{percent.normalize():f}", balance=member.available,
            pending_line=render("balance_pending", language, pending=member.pending) if member.pending else "",
            held_line=render("balance_held", language, held=member.held) if member.held else "",
        )
        return {"action": "balance"}

    def _promo(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        points = None
        if argument:
            if not argument.isdigit() or int(argument) <= 0:
                self.replies.send(shopper, reply_key, "promo_usage")
                return {"action": "promo_usage"}
            points = int(argument)
        member = self.members.get(shopper.member_id)
        if member is None or not member.phone:
            self.replies.send(shopper, reply_key, "phone_needed_first", self._phone_keyboard(shopper))
            return {"action": "phone_needed"}
        self.accrual_queue.put(PromoRequested(request_id=reply_key, shopper=shopper, points=points))
        return {"action": "promo_requested"}

    def _invite(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        program = self.program
        username = program.brand.bot_username or "bot"
        self.replies.send(shopper, reply_key, "invite",
                          link=f"https://t.me/{username}?start={_INVITE_PREFIX}{shopper.member_id}",
                          referrer=program.bonuses.referrer, referred=program.bonuses.referred)
        return {"action": "invite"}

    def _stop(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        """/stop: no campaign, reminder or offer reaches the member (receipts and their messages go on); /start
        turns them back on."""
        if self.members.get(shopper.member_id) is None:
            return self._help(shopper, reply_key, argument)
        self.members.unsubscribe(shopper.member_id)
        if self.crm is not None:
            self.crm.unsubscribed(shopper.member_id, reply_key, clock.now())
        self.replies.send(shopper, reply_key, "marketing_stopped")
        return {"action": "stopped"}

    def _help(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        self.replies.send_text(shopper, reply_key, with_commands("unsupported_message", shopper.language))
        return {"action": "help"}

    _commands: ClassVar[dict[str, Callable[[Bot, Shopper, str, str], dict[str, Any]]]] = {
        "/history": _history, "/balance": _balance, "/promo": _promo, "/invite": _invite, "/help": _help,
        "/stop": _stop,
    }

    def _contact(self, shopper: Shopper, message: Incoming, reply_key: str) -> dict[str, Any]:
        if message.contact_phone is None or message.contact_user_id != int(shopper.member_id):
            self.replies.send(shopper, reply_key, "phone_not_yours", self._phone_keyboard(shopper))
            return {"action": "foreign_contact"}
        self.members.join(shopper.member_id, shopper.chat_id, shopper.language)
        member = self.members.save_phone(shopper.member_id, _e164(message.contact_phone))
        self.replies.send_text(shopper, reply_key, with_commands("phone_saved", shopper.language),
                               telegram.keyboard_removed())
        self._report_phone(member, reply_key)
        adopted = self._adopt_imported(shopper, member.phone)
        # Welcome is for a new member: not for one the brand imported (by Telegram id or, adopted, by phone).
        if self.program.bonuses.welcome and not member.phone_before and not adopted and member.joined_via != "import":
            self.accrual_queue.put(BonusGranted(shopper=shopper, bonus="welcome", reference=shopper.member_id))
        if member.pending_receipt:
            self._submit(ReceiptSubmitted.model_validate_json(member.pending_receipt))
        logger.info("member shared phone", extra={"member_id": shopper.member_id})
        return {"action": "phone_saved", "pending_receipt": bool(member.pending_receipt)}

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

    def _report_phone(self, member: Member, reply_key: str) -> None:
        """A first phone (or the same one again) registers the member in the CRM; another phone updates them."""
        if self.crm is None or member.phone is None:
            return
        if member.phone_before in (None, member.phone):
            self.crm.registered(member.member_id, member.phone, clock.now(), telegram_id=member.chat_id,
                                source=member.joined_via, language=member.language, referred_by=member.referred_by)
        else:
            self.crm.updated(member.member_id, reply_key, clock.now(), phone=member.phone)

    def _text(self, shopper: Shopper, text: str, reply_key: str) -> dict[str, Any]:
        try:
            parse_qr(text)
        except InvalidQr as error:
            logger.info("text is not a receipt QR", extra={"reason": str(error), "member_id": shopper.member_id})
            self.replies.send(shopper, reply_key, "not_a_receipt")
            return {"action": "not_a_receipt"}
        return self._receipt(shopper, reply_key, qr=text)

    def _receipt(self, shopper: Shopper, reply_key: str, qr: str | None = None,
                 file: TelegramFile | None = None) -> dict[str, Any]:
        submitted = ReceiptSubmitted(submission_id=reply_key, shopper=shopper, qr=qr, file=file)
        member = self.members.get(shopper.member_id)
        if member is None or not member.phone:
            if member is None:
                self.members.join(shopper.member_id, shopper.chat_id, shopper.language)
            self.members.keep_pending(shopper.member_id, submitted.model_dump_json())
            self.replies.send(shopper, reply_key, "phone_needed", self._phone_keyboard(shopper))
            return {"action": "phone_needed"}
        self._submit(submitted)
        return {"action": "receipt_submitted"}

    def _submit(self, submitted: ReceiptSubmitted) -> None:
        self.receipt_queue.put(submitted)
        self.replies.send(submitted.shopper, f"{submitted.submission_id}:accepted", "receipt_accepted")
        logger.info("receipt submitted", extra={"member_id": submitted.shopper.member_id,
                                                "submission_id": submitted.submission_id})

    @staticmethod
    def _phone_keyboard(shopper: Shopper) -> dict[str, Any]:
        return telegram.phone_keyboard(render("share_phone_button", shopper.language))


_HISTORY_LENGTH = 10
_INVITE_PREFIX = "ref_"
_CAMPAIGN_PREFIX = "c_"  # t.me/<bot>?start=c_<campaign>: a link in an ad, a post, a package insert


def _command(text: str | None) -> tuple[str, str]:
    """("/promo", "300") for "/promo@brand_bot 300"; ("", "") for text that is not a command."""
    if not text or not text.startswith("/"):
        return "", ""
    head, _, argument = text.strip().partition(" ")
    return head.split("@")[0].lower(), argument.strip()


def _e164(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}"
