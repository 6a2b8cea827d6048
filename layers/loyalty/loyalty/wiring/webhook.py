"""The webhook's bot, with python-telegram-bot's parsing behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.adapters.audit_log import AuditLog
from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.idempotency import OncePerKey
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.queues import ChatOrderedQueue, DeadLetterQueue, SqsQueue
from loyalty.adapters.secrets import secret
from loyalty.flows.console import SignInLinks, StaffDirectory
from loyalty.flows.webhook import Bot, Webhook
from loyalty.wiring.books import crm_feed
from loyalty.wiring.keys import stack_key
from loyalty.wiring.live import Live, program_of

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.settings import WebhookSettings

# Telegram redelivers a failed update for up to a day; remember update ids a little longer than that.
_UPDATE_DEDUPE_SECONDS = 26 * 3600


def webhook(settings: WebhookSettings) -> Live[Webhook]:
    return Live(program_of(settings), settings.CONSOLE_TABLE, lambda program, _: _webhook(settings, program))


def _webhook(settings: WebhookSettings, program: Program) -> Webhook:
    bot = Bot(program, MembersRepository(settings.MEMBERS_TABLE),
              LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE),
              ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), SqsQueue(settings.ACCRUAL_QUEUE_URL),
              BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME),
              crm_feed(program, settings.CRM_QUEUE_URL))
    if settings.CONSOLE_TABLE:  # the console's staff decide in the staff chat too, and it is audited the same
        table = ConsoleTable(settings.CONSOLE_TABLE)
        directory = StaffDirectory(table, program, settings.CONSOLE_OWNER_TELEGRAM_ID or None)
        bot.console = SignInLinks(directory, table, settings.LINK_BASE_URL)
        bot.talk.staff_of = directory.member
    if settings.AUDIT_TABLE:
        bot.talk.audit = AuditLog(settings.AUDIT_TABLE)
    return Webhook(bot, OncePerKey("update", "update_id", settings.IDEMPOTENCY_TABLE, _UPDATE_DEDUPE_SECONDS),
                   lambda: secret(settings.WEBHOOK_SECRET_NAME), DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL))
