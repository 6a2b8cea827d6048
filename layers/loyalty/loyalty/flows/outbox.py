"""Send queued messages to Telegram, each exactly once, honouring Telegram's answers.

The outbox keeps each chat's messages in order (a FIFO group per chat). A 429 leaves the message in the queue until
Telegram's `retry_after` has passed, its chat's later messages behind it, while other chats go on. A shopper who
blocked the bot (403) is logged and dropped; a request Telegram rejects as malformed (400) is dead-lettered with
Telegram's reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty.contracts import OutboundMessage
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater, parse_body
from loyalty.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from loyalty.flows.ports import MessageSink, Pacer, SentMessages


class TelegramSender:
    """Each message once: before it goes, the chat's record of its last message (`sent`, which support reads too)
    takes the message's key, on the condition that it has not taken it in the last two days. A message SQS hands
    over again, or a producer queues again after SQS's five minutes of deduplication, finds its key there and is
    not sent twice. One write per message, where an idempotency record took two more; a send that fails gives
    the key back, so the retry goes. What this gives up: a container killed between the write and Telegram's answer
    (not an error we see: those give the key back) loses that message, where an idempotency record would have sent
    it twice."""

    def __init__(self, bot: MessageSink, sent: SentMessages, pace: Pacer | None = None):
        self.bot = bot
        self.sent = sent
        self.pace = pace  # this container's share of the bot's rate (adapters/pacing.py: LocalPace)

    def handle_record(self, record: SQSRecord) -> None:
        message = parse_body(record, OutboundMessage)
        if not self.sent.take(message):
            logger.info("message sent before; not sent again", extra={"dedupe_key": message.dedupe_key})
            return
        try:
            self._send(message)
        except BaseException:
            self.sent.give_back(message)
            raise

    def _send(self, message: OutboundMessage) -> dict[str, Any]:
        log = {"dedupe_key": message.dedupe_key, "chat_id": message.chat_id}
        if self.pace is not None:
            self.pace.wait()
        try:
            if message.removes_from is not None:
                self.bot.remove_from_chat(message.removes_from, message.chat_id)
                if not message.text:
                    return {"delivered": False, "removed": True}
            if message.photo:
                message_id = self.bot.send_photo(message.chat_id, message.photo, message.text, message.reply_markup)
            else:
                message_id = self.bot.send_message(message.chat_id, message.text, message.reply_markup,
                                                   "HTML" if message.html else None)
        except RateLimited as error:
            raise Deferred("telegram rate limit", error.retry_after_seconds) from error
        except ChatBlocked as error:
            logger.info("shopper blocked the bot; message dropped", extra={**log, "reason": str(error)})
            return {"delivered": False}
        except MessageRejected as error:
            raise PermanentFailure(f"telegram rejected the message: {error}") from error
        except TelegramUnavailable as error:
            raise RetryLater(f"telegram unreachable: {error}") from error
        metrics.add_metric(name="MessagesSent", unit="Count", value=1)
        return {"delivered": True, "message_id": message_id}
