"""What the bot does with one Telegram update: join, share the phone, submit a receipt.

Nothing slow happens here: the receipt goes to ReceiptQueue and every reply to the outbox, so the webhook
answers Telegram in milliseconds.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any, ClassVar

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from botocore.exceptions import BotoCoreError, ClientError
from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from loyalty.adapters.idempotency import once_per_key
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import cached_program
from loyalty.adapters.queues import dead_letter, publish
from loyalty.adapters.secrets import secret
from loyalty.contracts import BonusGranted, PromoRequested, ReceiptSubmitted, Shopper, TelegramFile
from loyalty.domain.errors import InvalidQr
from loyalty.domain.history import history_lines
from loyalty.domain.messages import language_of, render, with_commands
from loyalty.domain.program import Program
from loyalty.domain.qr import parse_qr
from loyalty.flows.replies import Replies
from loyalty.observability import logger
from loyalty.settings import WebhookSettings

# Telegram redelivers a failed update for up to a day; remember update ids a little longer than that.
_UPDATE_DEDUPE_SECONDS = 26 * 3600


class Webhook:
    """The HTTP edge: check the secret, drop redelivered updates, never answer 500 for a bad update.

    A malformed update, or one that makes our code fail, is parked in the dead-letter queue with the
    reason and answered 200: a non-2xx would make Telegram redeliver it for hours. Only when AWS itself
    fails (nothing could be stored) do we answer 500, so that Telegram keeps the update and retries.
    """

    def __init__(self, settings: WebhookSettings):
        self.settings = settings
        self.bot = Bot(settings)
        self._handle_once, self.idempotency = once_per_key(
            self.bot.handle, "update", "update_id", settings.IDEMPOTENCY_TABLE, _UPDATE_DEDUPE_SECONDS
        )

    def receive(self, secret_token: str | None, body: str | None) -> int:
        """Handle one webhook call; returns the HTTP status to answer."""
        if not secret_matches(secret_token, secret(self.settings.WEBHOOK_SECRET_NAME)):
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
        except IdempotencyAlreadyInProgressError:
            logger.info("update already being handled", extra={"update_id": update["update_id"]})
            return 200
        except (BotoCoreError, ClientError):
            logger.exception("AWS failed; Telegram will redeliver", extra={"update_id": update["update_id"]})
            return 500
        except Exception as error:
            logger.exception("update failed", extra={"update_id": update["update_id"]})
            return self._park(body, f"{type(error).__name__}: {error}", str(update["update_id"]))
        logger.info("update handled", extra={"update_id": update["update_id"], **outcome})
        return 200

    def _park(self, body: str | None, reason: str, update_id: str = "") -> int:
        logger.error("update dead-lettered", extra={"reason": reason, "update_id": update_id})
        dead_letter(self.settings.DEAD_LETTER_QUEUE_URL, body or "", reason, update_id=update_id)
        return 200


def secret_matches(received: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    return received is not None and hmac.compare_digest(received.encode(), expected.encode())


class Bot:
    def __init__(self, settings: WebhookSettings):
        self.settings = settings
        cached_program(settings.PROGRAM_FILE)  # a bad or unsafe program stops the function at cold start
        self.members = MembersRepository(settings.MEMBERS_TABLE)
        self.ledger = LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE)
        self.replies = Replies(settings.OUTBOX_QUEUE_URL)

    def handle(self, update: dict[str, Any]) -> dict[str, Any]:
        """Act on one update. Returns a short summary of what was done (kept by the idempotency store)."""
        return self._act(Update.de_json(update, None))

    def _act(self, update: Update) -> dict[str, Any]:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or chat.type != "private" or user.is_bot:
            return {"action": "ignored"}
        shopper = Shopper(member_id=str(user.id), chat_id=chat.id, language=language_of(user.language_code))
        reply_key = f"tg-update:{update.update_id}"
        command, argument = _command(message.text)
        if command == "/start":
            return self._start(shopper, reply_key, argument)
        if command in self._commands:
            return self._commands[command](self, shopper, reply_key, argument)
        if message.contact:
            return self._contact(shopper, message, reply_key)
        if message.text:
            return self._text(shopper, message.text, reply_key)
        file = _receipt_file(message)
        if file is not None:
            return self._receipt(shopper, reply_key, file=file)
        self._help(shopper, reply_key, "")
        return {"action": "unsupported"}

    def _start(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        """/start, or /start ref_<member> from an invitation link (kept only for a shopper new to the bot)."""
        inviter = argument[len(_INVITE_PREFIX):] if argument.startswith(_INVITE_PREFIX) else None
        self.members.join(shopper.member_id, shopper.chat_id, shopper.language, referred_by=inviter)
        brand = self.program.brand.name
        self.replies.send(shopper, reply_key, "welcome", self._phone_keyboard(shopper), brand=brand)
        return {"action": "welcomed", "invited": inviter is not None}

    @property
    def program(self) -> Program:
        return cached_program(self.settings.PROGRAM_FILE)

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
        publish(self.settings.ACCRUAL_QUEUE_URL, PromoRequested(request_id=reply_key, shopper=shopper, points=points))
        return {"action": "promo_requested"}

    def _invite(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        program = self.program
        username = program.brand.bot_username or "bot"
        self.replies.send(shopper, reply_key, "invite",
                          link=f"https://t.me/{username}?start={_INVITE_PREFIX}{shopper.member_id}",
                          referrer=program.bonuses.referrer, referred=program.bonuses.referred)
        return {"action": "invite"}

    def _help(self, shopper: Shopper, reply_key: str, argument: str) -> dict[str, Any]:
        self.replies.send_text(shopper, reply_key, with_commands("unsupported_message", shopper.language))
        return {"action": "help"}

    _commands: ClassVar[dict[str, Callable[[Bot, Shopper, str, str], dict[str, Any]]]] = {
        "/history": _history, "/balance": _balance, "/promo": _promo, "/invite": _invite, "/help": _help,
    }

    def _contact(self, shopper: Shopper, message: Message, reply_key: str) -> dict[str, Any]:
        contact = message.contact
        if contact is None or contact.user_id != int(shopper.member_id):
            self.replies.send(shopper, reply_key, "phone_not_yours", self._phone_keyboard(shopper))
            return {"action": "foreign_contact"}
        self.members.join(shopper.member_id, shopper.chat_id, shopper.language)
        member = self.members.save_phone(shopper.member_id, _e164(contact.phone_number))
        self.replies.send_text(shopper, reply_key, with_commands("phone_saved", shopper.language),
                               ReplyKeyboardRemove().to_dict())
        if self.program.bonuses.welcome and not member.phone_before:
            publish(self.settings.ACCRUAL_QUEUE_URL, BonusGranted(shopper=shopper, bonus="welcome",
                                                                  reference=shopper.member_id))
        if member.pending_receipt:
            self._submit(ReceiptSubmitted.model_validate_json(member.pending_receipt))
        logger.info("member shared phone", extra={"member_id": shopper.member_id})
        return {"action": "phone_saved", "pending_receipt": bool(member.pending_receipt)}

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
        publish(self.settings.RECEIPT_QUEUE_URL, submitted)
        self.replies.send(submitted.shopper, f"{submitted.submission_id}:accepted", "receipt_accepted")
        logger.info("receipt submitted", extra={"member_id": submitted.shopper.member_id,
                                                "submission_id": submitted.submission_id})

    @staticmethod
    def _phone_keyboard(shopper: Shopper) -> dict[str, Any]:
        button = KeyboardButton(render("share_phone_button", shopper.language), request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True).to_dict()


_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download
_HISTORY_LENGTH = 10
_INVITE_PREFIX = "ref_"


def _command(text: str | None) -> tuple[str, str]:
    """("/promo", "300") for "/promo@brand_bot 300"; ("", "") for text that is not a command."""
    if not text or not text.startswith("/"):
        return "", ""
    head, _, argument = text.strip().partition(" ")
    return head.split("@")[0].lower(), argument.strip()


def _receipt_file(message: Message) -> TelegramFile | None:
    """A photo, an image sent as a file (uncompressed), or a JSON file from the FNS app."""
    if message.photo:
        return TelegramFile(file_id=message.photo[-1].file_id, kind="photo")  # the largest size is last
    document = message.document
    if document is None or (document.file_size or 0) > _MAX_DOWNLOAD_BYTES:
        return None
    name, mime = (document.file_name or "").lower(), (document.mime_type or "").lower()
    if mime in ("image/jpeg", "image/png", "image/webp") or name.endswith((".jpg", ".jpeg", ".png", ".webp")):
        return TelegramFile(file_id=document.file_id, kind="photo", file_name=document.file_name)
    if mime in ("application/json", "text/plain") or name.endswith((".json", ".txt")):
        return TelegramFile(file_id=document.file_id, kind="document", file_name=document.file_name)
    return None


def _e164(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}"
