"""Send queued messages to Telegram, each exactly once, honouring Telegram's answers.

The outbox keeps each chat's messages in order (a FIFO group per chat). A 429 leaves the message in the queue until
Telegram's `retry_after` has passed, its chat's later messages behind it, while other chats go on. A shopper who
blocked the bot (403) is logged and dropped; a request Telegram rejects as malformed (400) is dead-lettered with
Telegram's reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.contracts import OutboundMessage
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater, parse_body
from loyalty.flows.ports import MessageSink, Once, Pacer, SentMessages
from loyalty.observability import logger, metrics


class TelegramSender:
    def __init__(self, bot: MessageSink, once: Once, pace: Pacer | None = None, sent: SentMessages | None = None):
        self.bot = bot
        self.sent = sent  # the last message each shopper got: support may resend it from the console
        self.send_once = once(self._send)  # once per dedupe_key (wiring/senders.py keeps the key long enough)
        self.idempotency = once.config
        self.pace = pace  # shared with the campaign sender: together they stay under Telegram's limit

    def handle_record(self, record: SQSRecord) -> None:
        self.send_once(message=parse_body(record, OutboundMessage))

    def _send(self, message: OutboundMessage) -> dict[str, Any]:
        log = {"dedupe_key": message.dedupe_key, "chat_id": message.chat_id}
        if self.pace is not None:
            self.pace.wait()
        try:
            if message.photo:
                message_id = self.bot.send_photo(message.chat_id, message.photo, message.text, message.reply_markup)
            else:
                message_id = self.bot.send_message(message.chat_id, message.text, message.reply_markup,
                                                   "HTML" if message.html else None)
        except RateLimited as error:
            raise Deferred("telegram rate limit", error.retry_after_seconds) from error
        except ChatBlocked as error:
            logger.info("shopper blocked the bot; message dropped", extra={**log, "reason": str(error)})
            metrics.add_metric(name="MessagesToBlockedChats", unit="Count", value=1)
            return {"delivered": False}
        except MessageRejected as error:
            raise PermanentFailure(f"telegram rejected the message: {error}") from error
        except TelegramUnavailable as error:
            raise RetryLater(f"telegram unreachable: {error}") from error
        metrics.add_metric(name="MessagesSent", unit="Count", value=1)
        if self.sent is not None and message.chat_id > 0:  # a shopper's private chat, not the staff chat
            self.sent.remember_sent(message)
        return {"delivered": True, "message_id": message_id}
