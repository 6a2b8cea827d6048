"""A receipt a shopper sends the bot: a QR code's text, a photo or a file.

It is counted in their submission limits before anything is paid for (the receipt service charges per fetch), kept
until they share their phone, or handed on to be checked. The webhook does this for a photo or a file; a QR code's
text goes from the webhook's edge (flows/edge.py) to the point accrual, which does it there with the same code,
then checks and credits the receipt in the same invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import Incoming, ReceiptSubmitted, Shopper, TelegramFile
from loyalty.domain import fraud
from loyalty.domain.keyed import Keyed, username_marker
from loyalty.domain.messages import render
from loyalty.domain.qr_text import is_qr
from loyalty.domain.texts import language_of
from loyalty.flows import keyboards
from loyalty.observability import logger, metrics

if TYPE_CHECKING:
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.flows.ports import Members
    from loyalty.flows.replies import Replies


class NotCounted:
    """A submission not counted in the limits yet (the member was read before it was known to be one)."""


NOT_COUNTED = NotCounted()


def update_key(update_id: int) -> str:
    """What a step taken for one Telegram update is keyed on: a redelivered update takes none twice."""
    return f"tg-update:{update_id}"


def phone_keyboard(shopper: Shopper) -> dict[str, Any]:
    return keyboards.phone_keyboard(render("share_phone_button", shopper.language))


def shopper_of(message: Incoming, member: Member | None) -> Shopper:
    """The person who sent `message`, as the flows address them: in the language they chose, else Telegram's."""
    language = (member.language_choice if member and member.language_choice else None) \
        or language_of(message.language_code)
    return Shopper(member_id=str(message.user_id), chat_id=message.chat_id, language=language,
                   suspect=tuple(member.suspect) if member else (),
                   invited_by=member.referred_by if member else None)


class Submissions:
    def __init__(self, program: Program, members: Members, replies: Replies, keyed: Keyed):
        self.program = program
        self.members = members
        self.replies = replies
        self.keyed = keyed

    def member(self, message: Incoming, key: str) -> tuple[Member | None, str | NotCounted | None]:
        """The member who sent `message`; a receipt's QR text is also counted in their submission limits by the same
        request (Members.admit), the full window returned (None: counted). Anything else: NOT_COUNTED yet."""
        member_id = str(message.user_id)
        if message.file is not None or message.text is None or not is_qr(message.text):
            return self.members.get(member_id), NOT_COUNTED
        return self.members.admit(member_id, key, *self._limits())

    def admit(self, shopper: Shopper, member: Member | None, key: str, full: str | NotCounted | None,
              qr: str | None = None, file: TelegramFile | None = None
              ) -> tuple[ReceiptSubmitted | None, dict[str, Any]]:
        """The receipt to check (None: over a limit, or waiting for the member's phone, and they were told so), and
        what was done."""
        counted = self.members.admit(shopper.member_id, key, *self._limits())[1] if isinstance(full, NotCounted) \
            else full  # a photo or a file: counted now
        throttled = self._throttled(shopper, key, counted)
        if throttled is not None:
            return None, throttled
        submitted = ReceiptSubmitted(submission_id=key, shopper=shopper, qr=qr, file=file)
        if member is None or not member.phone:
            if member is None:
                self.members.join(shopper.member_id, shopper.chat_id, shopper.language)
            self.members.keep_pending(shopper.member_id, submitted.model_dump_json())
            self.replies.send(shopper, key, "phone_needed", phone_keyboard(shopper))
            return None, {"action": "phone_needed"}
        seen = shopper.model_copy(update={"seen": member.seen()})  # the ledger writes from it first, with no read
        return submitted.model_copy(update={"shopper": seen}), {"action": "receipt_submitted"}

    def noticed(self, member: Member | None, message: Incoming, with_username: bool = True) -> None:
        """Keep the member's first name and the keyed marker of their @username when either changed (a write only
        then). `with_username` False: the message does not say the username (the edge's forward leaves it out)."""
        if member is None or member.erased_at:
            return
        marker = username_marker(self.keyed, message.username) if message.username else None
        if with_username and marker != member.username_marker:
            self.members.note_username(member.member_id, marker)
        if message.first_name and message.first_name != member.name:
            self.members.note_name(member.member_id, message.first_name)

    def _limits(self) -> tuple[dict[str, str], dict[str, int]]:
        """The windows a submission now counts in, and each one's limit."""
        limits = self.program.fraud.submissions
        return ({str(window): value for window, value in fraud.windows(clock.now()).items()},
                {"minute": limits.per_minute, "day": limits.per_day})

    def _throttled(self, shopper: Shopper, key: str, full: str | None) -> dict[str, Any] | None:
        """Over a limit of submissions, a polite answer that says when to try again, and nothing more. A
        member-to-be (no member yet) is not counted: their receipt waits for their phone."""
        if full is None:
            return None
        limits, now = self.program.fraud.submissions, clock.now()
        wait = fraud.retry_after(fraud.Window(full), now)
        if full == fraud.Window.MINUTE:
            self.replies.send(shopper, key, "submissions_per_minute", seconds=max(int(wait.total_seconds()), 1))
        else:
            self.replies.send(shopper, key, "submissions_per_day", limit=limits.per_day)
        logger.warning("receipt submissions over the limit", extra={"member_id": shopper.member_id, "window": full})
        metrics.add_metric(name="SubmissionsThrottled", unit="Count", value=1)
        return {"action": "throttled", "window": full}


class SentQr:
    """A receipt's QR code a shopper sent as text, which the webhook's edge acknowledged and forwarded (QrSent): the
    point accrual counts it, reads the member with that same write, and gets the receipt to check from it."""

    def __init__(self, submissions: Submissions):
        self.submissions = submissions

    def admitted(self, message: Incoming) -> ReceiptSubmitted | None:
        """The receipt to check now (None: the shopper was told why not: a limit, their phone)."""
        key = update_key(message.update_id)
        member, full = self.submissions.member(message, key)
        submitted, outcome = self.submissions.admit(shopper_of(message, member), member, key, full, qr=message.text)
        self.submissions.noticed(member, message, with_username=False)
        logger.info("update handled", extra={"member_id": str(message.user_id), "update_id": message.update_id,
                                             **outcome})  # as the webhook says of every other update
        return submitted
