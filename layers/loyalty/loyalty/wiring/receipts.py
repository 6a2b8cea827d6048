"""The receipts' check: the receipt service and Telegram's files, each made when first needed."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.adapters.secrets import secret
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty.wiring.keys import stack_key

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.ports import Claims, FileSource, Outbox, Queue, ReceiptService
    from loyalty.settings import PointAccrualSettings


def receipt_check(settings: PointAccrualSettings, program: Program, claims: Claims, outbox: Outbox, queue: Queue,
                  accepted: Queue) -> ReceiptCheck:
    @cache
    def receipt_service() -> ReceiptService:
        return Proverkacheka(settings.RECEIPT_SERVICE_URL, secret(settings.RECEIPT_SERVICE_TOKEN_NAME))

    @cache
    def telegram_files() -> FileSource:
        from loyalty.adapters.telegram import TelegramBot  # only files pay for python-telegram-bot

        return TelegramBot(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME)

    return ReceiptCheck(program, claims, outbox, queue, accepted, receipt_service, telegram_files,
                        settings.RECEIPT_FETCH_ATTEMPTS, stack_key(settings.STACK_KEY_NAME))
