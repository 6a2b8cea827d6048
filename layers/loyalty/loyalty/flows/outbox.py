"""Send queued messages to Telegram, each exactly once, honouring Telegram's answers.

429 comes back after the `retry_after` Telegram asks for; a shopper who blocked the bot (403) is logged
and dropped; a request Telegram rejects as malformed (400) is dead-lettered with Telegram's reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.adapters.idempotency import once_per_key
from loyalty.adapters.queues import PermanentFailure, RetryLater, parse_body
from loyalty.adapters.telegram import TelegramBot
from loyalty.contracts import OutboundMessage
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable
from loyalty.observability import logger, metrics
from loyalty.settings import TelegramSenderSettings

_DEDUPE_WINDOW_SECONDS = 7 * 24 * 3600  # longer than any message can sit in the queue and its DLQ


class TelegramSender:
    def __init__(self, settings: TelegramSenderSettings):
        self.bot = TelegramBot(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME)
        self.send_once, self.idempotency = once_per_key(
            self._send, "message", "dedupe_key", settings.IDEMPOTENCY_TABLE, _DEDUPE_WINDOW_SECONDS
        )

    def handle_record(self, record: SQSRecord) -> None:
        self.send_once(message=parse_body(record, OutboundMessage))

    def _send(self, message: OutboundMessage) -> dict[str, Any]:
        log = {"dedupe_key": message.dedupe_key, "chat_id": message.chat_id}
        try:
            message_id = self.bot.send_message(message.chat_id, message.text, message.reply_markup)
        except RateLimited as error:
            raise RetryLater("telegram rate limit", error.retry_after_seconds) from error
        except ChatBlocked as error:
            logger.info("shopper blocked the bot; message dropped", extra={**log, "reason": str(error)})
            metrics.add_metric(name="MessagesToBlockedChats", unit="Count", value=1)
            return {"delivered": False}
        except MessageRejected as error:
            raise PermanentFailure(f"telegram rejected the message: {error}") from error
        except TelegramUnavailable as error:
            raise RetryLater(f"telegram unreachable: {error}") from error
        metrics.add_metric(name="MessagesSent", unit="Count", value=1)
        return {"delivered": True, "message_id": message_id}

