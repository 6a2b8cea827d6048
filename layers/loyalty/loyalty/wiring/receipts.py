"""The receipt parser's check: the receipt service, the claims, the queues on."""

from __future__ import annotations

from functools import cache

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.program_file import cached_program
from loyalty.adapters.queues import ChatOrderedQueue, SqsQueue
from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.adapters.secrets import secret
from loyalty.flows.ports import FileSource, ReceiptService
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty.settings import ReceiptParserSettings
from loyalty.wiring.keys import stack_key


def receipt_check(settings: ReceiptParserSettings) -> ReceiptCheck:
    @cache
    def receipt_service() -> ReceiptService:
        return Proverkacheka(settings.RECEIPT_SERVICE_URL, secret(settings.RECEIPT_SERVICE_TOKEN_NAME))

    @cache
    def telegram_files() -> FileSource:
        from loyalty.adapters.telegram import TelegramBot  # only files pay for python-telegram-bot

        return TelegramBot(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME)

    return ReceiptCheck(
        cached_program(settings.PROGRAM_FILE), ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE),
        ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), SqsQueue(settings.RECEIPT_QUEUE_URL),
        SqsQueue(settings.ACCRUAL_QUEUE_URL), receipt_service, telegram_files, settings.RECEIPT_FETCH_ATTEMPTS,
        stack_key(settings.STACK_KEY_NAME),
    )
