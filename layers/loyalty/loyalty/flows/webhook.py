"""What the bot does with one Telegram update: join, share the phone, submit a receipt.

Nothing slow happens here: the receipt goes to AccrualQueue and every reply to the outbox (a receipt's acknowledgement
in the webhook's own answer), so the webhook answers Telegram in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.adapters import bot_api_update, telegram
from loyalty.adapters.bot_api_update import MalformedUpdate
from loyalty.contracts import Incoming, PromoRequested, Shopper, TelegramFile
from loyalty.domain.console import LINK_MINUTES
from loyalty.domain.errors import AlreadyInProgress, Contended, InvalidQr, StorageUnavailable
from loyalty.domain.messages import render
from loyalty.domain.qr import parse_qr
from loyalty.domain.qr_text import is_qr
from loyalty.flows import keyboards
from loyalty.flows.account import Account
from loyalty.flows.community import CommunityDoor
from loyalty.flows.conversations import Conversations
from loyalty.flows.edge import MAX_UPDATE_CHARACTERS, secret_matches, send_in_answer
from loyalty.flows.joining import Joining
from loyalty.flows.menu import Menu, menu_command
from loyalty.flows.replies import Replies
from loyalty.flows.submissions import NotCounted, Submissions, phone_keyboard, shopper_of, update_key
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.flows.console import SignInLinks
    from loyalty.flows.crm_feed import CrmFeed
    from loyalty.flows.ports import BotMemory, DeadLetters, Ledger, Members, Once, Outbox, Queue


class Webhook:
    """The HTTP edge: check the secret, drop redelivered updates, never answer 500 for a bad update.

    A malformed update, or one that makes our code fail, is parked in the dead-letter queue with the
    reason and answered 200: a non-2xx would make Telegram redeliver it for hours. Only when AWS itself
    fails (nothing could be stored) do we answer 500, so that Telegram keeps the update and retries.
    """

    def __init__(self, bot: Bot, once: Once, expected_secret: Callable[[], str], dead_letters: DeadLetters):
        self.bot = bot
        self._handle_once = once(bot.handle)  # once per update_id
        self.idempotency = once.config
        self.expected_secret = expected_secret  # read per call: a rotated secret is picked up without a deploy
        self.dead_letters = dead_letters

    def receive(self, secret_token: str | None, body: str | None) -> tuple[int, dict[str, Any]]:
        """Handle one webhook call; returns the HTTP status and the body to answer with. A tapped button's callback
        query is acknowledged right in that answer (Telegram runs a method given there), at no extra call; so is the
        acknowledgement of a receipt (Replies.acknowledge)."""
        if not secret_matches(secret_token, self.expected_secret()):
            logger.warning("webhook call without the right secret token")
            return 403, {}
        if body is not None and len(body) > MAX_UPDATE_CHARACTERS:  # Telegram's updates are a few KB
            return self._park(body, f"update too large: {len(body)} characters"), {}
        try:
            update = bot_api_update.checked(json.loads(body or ""))
        except MalformedUpdate as error:  # refused at the edge, naming the fields
            return self._park(body, f"malformed update: {str(error)[:500]}", _update_id(body)), {}
        except (ValueError, RecursionError) as error:  # not JSON, or JSON nested thousands deep
            return self._park(body, f"malformed update: {type(error).__name__}: {str(error)[:200]}"), {}
        try:
            outcome = self.bot.handle(update) if submits_receipt(update) else self._handle_once(update=update)
        except AlreadyInProgress:
            # Not 200: the other handling may have died without clearing its mark (the store failing as it tried),
            # and a 200 would make Telegram drop the update for good. Telegram retries; by then the first handling
            # has finished (its answer is replayed) or its mark has expired (it is handled again).
            logger.warning("update already being handled; Telegram will redeliver",
                           extra={"update_id": update["update_id"]})
            return 503, {}
        except (StorageUnavailable, Contended):  # nothing was written: the same update later goes through
            logger.exception("AWS failed; Telegram will redeliver", extra={"update_id": update["update_id"]})
            return 500, {}
        except Exception as error:
            logger.exception("update failed", extra={"update_id": update["update_id"]})
            return self._park(body, f"{type(error).__name__}: {error}", str(update["update_id"])), {}
        logger.info("update handled", extra={"update_id": update["update_id"],
                                             **{name: value for name, value in outcome.items() if name != "reply"}})
        tapped, notice = outcome.get("answer"), outcome.get("notice")
        if outcome.get("call"):  # a join request: approved or declined as Telegram takes the answer
            return 200, dict(outcome["call"])
        if not tapped:
            reply = outcome.get("reply")
            return 200, send_in_answer(update["message"]["chat"]["id"], reply) if reply else {}
        answer = {"method": "answerCallbackQuery", "callback_query_id": tapped}
        return 200, answer | {"text": notice, "show_alert": True} if notice else answer

    def _park(self, body: str | None, reason: str, update_id: str = "") -> int:
        logger.error("update dead-lettered", extra={"reason": reason, "update_id": update_id})
        self.dead_letters.park(body or "", reason, update_id=update_id)
        return 200


def _update_id(body: str | None) -> str:
    """The update_id of a refused update, for the parked message's attributes ("" when there is none to read)."""
    try:
        found = json.loads(body or "").get("update_id")
    except (ValueError, RecursionError, AttributeError):
        return ""
    return str(found) if type(found) is int else ""


def submits_receipt(update: dict[str, Any]) -> bool:
    """A private message that is a receipt: a QR code's text, a photo or a file. Its handling needs no idempotency
    record (two writes): the data model makes each step once by the update's id, the submission's counting in the
    limits (Members.admit), the receipt's claim (a redelivered submission finds its own claim and replays it), the
    points (keyed on the receipt) and every reply (keyed on the update). A redelivery costs a second fetch from the
    receipt service at most, and Telegram redelivers only an update it had no 200 for."""
    message = update.get("message") or {}
    if (message.get("chat") or {}).get("type") != "private":
        return False
    if message.get("photo") or message.get("document"):
        return True
    return is_qr(str(message.get("text") or ""))


class Bot:
    """Routes one update: a command, a menu button, a tapped inline button, a contact, a receipt, an answer the bot
    asked for, or a message in the brand's staff chat."""

    def __init__(self, program: Program, members: Members, ledger: Ledger, outbox: Outbox,
                 accrual_queue: Queue, table: BotMemory, keyed: Keyed,
                 crm: CrmFeed | None = None):
        self.program = program
        self.replies = Replies(outbox)
        self.accrual_queue = accrual_queue
        self.menu = Menu(program, ledger, self.replies, table, keyed)
        self.joining = Joining(program, members, self.replies, accrual_queue, table, keyed, crm)
        self.account = Account(program, members, self.replies, accrual_queue, table, keyed, crm)
        self.talk = Conversations(program, members, self.replies, accrual_queue, table, keyed)
        self.submissions = Submissions(program, members, self.replies, keyed)
        self.community = CommunityDoor(program, members, ledger, outbox, table)
        self.console: SignInLinks | None = None  # the staff console's sign-in links (none: no console deployed)

    def console_link(self, shopper: Shopper, key: str) -> dict[str, Any]:
        """/console: a staff member gets a one-time sign-in link; anyone else, the help a shopper gets."""
        link = self.console.issue(int(shopper.member_id), clock.now()) if self.console else None
        if link is None:
            return self.menu.help(shopper, key) | {"action": "console_refused"}
        self.replies.send(shopper, key, "console_link", keyboards.inline_keyboard(
            [[(render("console_button", shopper.language), link)]]), minutes=LINK_MINUTES)
        logger.info("console link issued", extra={"telegram_id": shopper.member_id})
        return {"action": "console_link"}

    def handle(self, update: dict[str, Any]) -> dict[str, Any]:
        """Act on one update. Returns a short summary of what was done (kept by the idempotency store); its
        `answer` is the callback query the webhook's HTTP answer acknowledges; `call`, a join request's approval or
        refusal, the Bot API call the answer makes."""
        if "chat_join_request" in update:
            return self.community.request(int(update["update_id"]), update["chat_join_request"])
        message = telegram.incoming(update, self.program.bot.staff_chat_id)
        if message is None:  # not from a person in a private chat or the staff chat, or an edit
            return {"action": "ignored"}
        key = update_key(message.update_id)
        with self.replies.answering(None if message.callback_id else message.chat_id) as answer:
            outcome = self._route(message, key)
        reply = answer.text()
        if reply is not None:  # kept with the outcome: a repeat of the update is answered the same
            outcome = {**outcome, "reply": reply}
        return {**outcome, "answer": message.callback_id} if message.callback_id else outcome

    def _route(self, message: Incoming, key: str) -> dict[str, Any]:
        if message.staff:
            return self.talk.staff(message, key)
        member, full = self.submissions.member(message, key)
        outcome = self._act(shopper_of(message, member), member, message, key, full)
        self.submissions.noticed(member, message)
        return outcome

    def _act(self, shopper: Shopper, member: Member | None, message: Incoming, key: str,
             full: str | NotCounted | None) -> dict[str, Any]:
        if message.callback_data is not None:
            return self._tapped(shopper, member, message.callback_data, key)
        command, argument = _command(message.text)
        command = command or menu_command(message.text or "") or ""
        if command == "/start":
            return self.joining.start(shopper, member, key, argument)
        if command in _NEEDS_NOTHING:
            return _NEEDS_NOTHING[command](self, shopper, key)
        if command:
            if member is None or member.erased_at:
                return self.joining.start(shopper, member, key, "")
            return self._command(command, argument, shopper, member, key)
        if message.contact_phone is not None:
            return self.joining.contact(shopper, message, key)
        if member is not None and _awaits_birthday(member) and message.text and not is_qr(message.text):
            return self.account.birthday(shopper, key, message.text)
        if member is not None and member.awaiting and self.talk.is_answer(member, message):
            return self.talk.answer(shopper, member, message, key)
        if message.text:
            return self._text(shopper, member, message.text, key, full)
        if message.file is not None:
            return self._receipt(shopper, member, key, full, file=message.file)
        return self.menu.help(shopper, key) | {"action": "unsupported"}

    def _command(self, command: str, argument: str, shopper: Shopper, member: Member, key: str) -> dict[str, Any]:
        if command == "/balance":
            return self.menu.balance(shopper, key, member)
        if command == "/level":
            return self.menu.level(shopper, key, member)
        if command == "/history":
            return self.menu.history(shopper, key)
        if command == "/rewards":
            return self.menu.rewards(shopper, key)
        if command == "/invite":
            return self.menu.invite(shopper, key)
        if command == "/timezone":
            return self.menu.choose_time_zone(shopper, member, key)
        if command == "/birthday":
            return self.account.birthday(shopper, key, argument)
        if command == "/promo":
            return self._promo(shopper, member, key, argument)
        if command == "/stop":
            return self.account.stop(shopper, key)
        if command == "/delete":
            return self.account.confirm_delete(shopper, member, key)
        return self.menu.help(shopper, key)

    def _tapped(self, shopper: Shopper, member: Member | None, data: str, key: str) -> dict[str, Any]:
        """An inline button: its callback data names what to do (never the text of the message it sits under)."""
        action, _, argument = data.partition(":")
        if action == "lang" and argument in ("ru", "en"):
            return self.account.language(shopper, member, key, argument)
        if action == "guide":
            return self.menu.store_guide(shopper, key, argument)
        if member is None or member.erased_at:
            return self.joining.start(shopper, member, key, "")
        if action == "reward":
            return self.menu.reward_offer(shopper, key, argument)
        if action == "take":
            reward_id, _, issued = argument.partition(":")
            offer, _, order = issued.partition(":")
            return self.account.exchange(shopper, member, key, reward_id, offer, order)
        if action == "tz":
            return self.account.time_zone(shopper, key, argument)
        if action == "take_no":
            self.replies.send(shopper, key, "reward_cancelled")
            return {"action": "reward_cancelled"}
        if action == "delete":
            return self.account.delete(shopper, member, key, confirmed=argument == "yes")
        if action in ("rate", "nps", "review", "nudge_off"):
            return self.talk.tapped(shopper, member, action, argument, key)
        return self.menu.expired(shopper, key)

    def _promo(self, shopper: Shopper, member: Member, key: str, argument: str) -> dict[str, Any]:
        points = None
        if argument:
            if not argument.isdigit() or int(argument) <= 0:
                self.replies.send(shopper, key, "promo_usage")
                return {"action": "promo_usage"}
            points = int(argument)
        if not member.phone:
            self.replies.send(shopper, key, "phone_needed_first", phone_keyboard(shopper))
            return {"action": "phone_needed"}
        self.accrual_queue.put(PromoRequested(request_id=key, shopper=shopper, points=points))
        return {"action": "promo_requested"}

    def _text(self, shopper: Shopper, member: Member | None, text: str, key: str,
              full: str | NotCounted | None) -> dict[str, Any]:
        try:
            parse_qr(text)
        except InvalidQr as error:
            logger.info("text is not a receipt QR", extra={"reason": str(error), "member_id": shopper.member_id})
            self.replies.send(shopper, key, "not_a_receipt")
            return {"action": "not_a_receipt"}
        return self._receipt(shopper, member, key, full, qr=text)

    def _receipt(self, shopper: Shopper, member: Member | None, key: str, full: str | NotCounted | None,
                 qr: str | None = None, file: TelegramFile | None = None) -> dict[str, Any]:
        submitted, outcome = self.submissions.admit(shopper, member, key, full, qr=qr, file=file)
        if submitted is not None:
            self.joining.submit(submitted)
        return outcome


# Commands that work before joining: how to send a receipt, help, the language.
_NEEDS_NOTHING: dict[str, Callable[[Bot, Shopper, str], dict[str, Any]]] = {
    "/receipt": lambda bot, shopper, key: bot.menu.receipt_guide(shopper, key),
    "/help": lambda bot, shopper, key: bot.menu.help(shopper, key),
    "/language": lambda bot, shopper, key: bot.menu.choose_language(shopper, key),
    "/console": lambda bot, shopper, key: bot.console_link(shopper, key),
}


def _awaits_birthday(member: Member) -> bool:
    """Whether the bot asked the birthday within the hour: the member's next text is the date."""
    awaiting = member.awaiting or {}
    return awaiting.get("kind") == "birthday" and str(awaiting.get("until", "")) >= clock.stamp()


def _command(text: str | None) -> tuple[str, str]:
    """("/promo", "300") for "/promo@brand_bot 300"; ("", "") for text that is not a command."""
    if not text or not text.startswith("/"):
        return "", ""
    head, _, argument = text.strip().partition(" ")
    return head.split("@")[0].lower(), argument.strip()
