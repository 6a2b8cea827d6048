"""Each function's flow with the real adapters it runs with, built from its settings.

A handler module calls one of these once, at cold start; a flow never builds an adapter itself, so a flow
test passes in-memory fakes instead (tests/fakes.py). Loading the program here means a bad or unsafe
program file stops the function at cold start, not at its first message. The webhook's flow is imported
only by its builder: a function that never speaks to Telegram never pays for python-telegram-bot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar

from loyalty import clock
from loyalty.adapters.audit_log import AuditLog
from loyalty.adapters.bot_table import BotTable, LastMessages
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.idempotency import OncePerKey
from loyalty.adapters.ledger import LedgerRepository, ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.mindbox import MindboxClient
from loyalty.adapters.pacing import Pace
from loyalty.adapters.program_file import cached_program
from loyalty.adapters.promo_codes import PromoCodes
from loyalty.adapters.queues import ChatOrderedQueue, DeadLetterQueue, FifoQueue, SqsQueue
from loyalty.adapters.receipt_service import Proverkacheka
from loyalty.adapters.secrets import secret
from loyalty.adapters.signed_webhook import SignedWebhook
from loyalty.domain.keyed import Keyed
from loyalty.domain.program import Program
from loyalty.domain.staff import Role
from loyalty.flows.accrual import PointAccrual
from loyalty.flows.campaign_sender import CampaignSender
from loyalty.flows.campaigns import Campaigns, Touches
from loyalty.flows.composer import Composer, ConsoleRead
from loyalty.flows.console import Console, SignInLinks, StaffDirectory
from loyalty.flows.conversations import Conversations
from loyalty.flows.crm_feed import CrmFeed, Reported
from loyalty.flows.crm_sync import CrmSync
from loyalty.flows.dashboards import Dashboards
from loyalty.flows.erasure import Erasure
from loyalty.flows.everyday import Everyday
from loyalty.flows.figures import FigureKeeper
from loyalty.flows.followups import FollowUps
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.flows.link_clicks import LinkClicks
from loyalty.flows.miniapp import MiniApp
from loyalty.flows.outbox import TelegramSender
from loyalty.flows.ports import CrmTarget, FileSource, Ledger, ReceiptService
from loyalty.flows.queue import TicketQueue
from loyalty.flows.reach import ReachCounter
from loyalty.flows.receipt_check import ReceiptCheck
from loyalty.flows.redemption import Redemption
from loyalty.flows.replies import Replies
from loyalty.flows.schedule import PointsSchedule
from loyalty.flows.support import MemberReach, SupportDesk
from loyalty.settings import (
    CampaignSenderSettings,
    CampaignsSettings,
    ConsoleSettings,
    CrmSyncSettings,
    FiguresSettings,
    LinkClicksSettings,
    PointAccrualSettings,
    PointsScheduleSettings,
    ReceiptParserSettings,
    RedemptionSettings,
    TelegramSenderSettings,
    WebAppSettings,
    WebhookSettings,
)

if TYPE_CHECKING:
    from loyalty.flows.webhook import Webhook

# Telegram redelivers a failed update for up to a day; remember update ids a little longer than that.
_UPDATE_DEDUPE_SECONDS = 26 * 3600
_MESSAGE_DEDUPE_SECONDS = 7 * 24 * 3600  # longer than any message can sit in the outbox and its DLQ
_BOT_PACE = "telegram"  # one pace for everything the bot sends: transactional and campaign messages alike
T = TypeVar("T")


def stack_key(secret_name: str) -> Keyed:
    """Ids and markers keyed with the stack's secret (read once per container, when the first one is made)."""
    return Keyed(cache(lambda: secret(secret_name)))


def crm_feed(program: Program, queue_url: str) -> CrmFeed | None:
    """Where changes are reported to the CRM; None when the program syncs none (nothing is queued)."""
    return CrmFeed(FifoQueue(queue_url)) if program.crm.kind != "none" else None


def reported_ledger(program: Program, ledger_table: str, members_table: str, crm_queue_url: str) -> Ledger:
    """The ledger a flow writes through: every entry reported to the CRM in the same step, when there is one."""
    ledger = ledger_for(program, ledger_table, members_table)
    feed = crm_feed(program, crm_queue_url)
    return Reported(ledger, feed) if feed is not None else ledger


class Live(Generic[T]):
    """A flow built on the program as the console changed it (flows/composer.py: ConsoleRead): built again after a
    change, read at most once a minute, so a new source, a restocked reward or a reworded text reaches the function
    within a minute with no deploy. Without the console's table: the program file's, built once."""

    def __init__(self, program_file: str, console_table: str, build: Callable[[Program, ConsoleRead | None], T]):
        base = cached_program(program_file)
        self.read = ConsoleRead(base, ConsoleTable(console_table)) if console_table else None
        self.build = build
        self._program, self._built = base, build(base, self.read)

    def __call__(self) -> T:
        if self.read is not None:
            program = self.read.program(clock.now())
            if program is not self._program:
                self._program, self._built = program, self.build(program, self.read)
        return self._built


def point_accrual(settings: PointAccrualSettings) -> Live[PointAccrual]:
    return Live(settings.PROGRAM_FILE, settings.CONSOLE_TABLE,
                lambda program, read: _point_accrual(settings, program, read))


def _point_accrual(settings: PointAccrualSettings, program: Program, read: ConsoleRead | None) -> PointAccrual:
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    keyed = stack_key(settings.STACK_KEY_NAME)
    triggered = CampaignLetters(Letters(BotTable(settings.BOT_TABLE), keyed), program,  # a triggered campaign's letter
                                settings.LINK_BASE_URL)
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), triggered,
                      MembersRepository(settings.MEMBERS_TABLE))
    erasure = Erasure(ledger, ledger_for(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE),
                      ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE),
                      MembersRepository(settings.MEMBERS_TABLE),
                      (BotTable(settings.BOT_TABLE), CampaignStore(settings.CAMPAIGNS_TABLE)))
    return PointAccrual(program, ledger, ChatOrderedQueue(settings.OUTBOX_QUEUE_URL),
                        PromoCodes(settings.PROMO_CODES_TABLE), keyed, touches,
                        BotTable(settings.BOT_TABLE), erasure, live=read.program if read else None)


def campaigns(settings: CampaignsSettings, read: ConsoleRead | None = None) -> Campaigns:
    """The campaigns run, on the program file's campaigns and the console's live ones (read through `read`, the
    postman's in the same function: the console is read once a minute for both)."""
    program = cached_program(settings.PROGRAM_FILE)
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    store = CampaignStore(settings.CAMPAIGNS_TABLE)
    letters = CampaignLetters(Letters(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME)),
                              program, settings.LINK_BASE_URL)
    members = MembersRepository(settings.MEMBERS_TABLE)
    read = read or ConsoleRead(program, ConsoleTable(settings.CONSOLE_TABLE))
    return Campaigns(program, members, store, Touches(program, ledger, store, letters, members), read.program)


def followups(settings: CampaignsSettings) -> Live[FollowUps]:
    """The campaigns run's second job, the postman: the letters that are due, as the contact policy lets them go."""
    return Live(settings.PROGRAM_FILE, settings.CONSOLE_TABLE,
                lambda program, read: _followups(settings, program, read))


def _followups(settings: CampaignsSettings, program: Program, read: ConsoleRead | None) -> FollowUps:
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), SqsQueue(settings.CAMPAIGN_QUEUE_URL))
    postman = FollowUps(program, BotTable(settings.BOT_TABLE), ledger, touches, settings.LINK_BASE_URL,
                        outbox=ChatOrderedQueue(settings.OUTBOX_QUEUE_URL),
                        accrual_queue=SqsQueue(settings.ACCRUAL_QUEUE_URL))
    postman.stopped = read.stopped if read else None
    return postman


def miniapp(settings: WebAppSettings) -> tuple[Live[MiniApp], Callable[[], str]]:
    """The Mini App's flow, and the bot token its requests are checked against (read at the first request)."""
    def build(program: Program, _: ConsoleRead | None) -> MiniApp:
        return MiniApp(program, MembersRepository(settings.MEMBERS_TABLE),
                       LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE), BotTable(settings.BOT_TABLE),
                       SqsQueue(settings.ACCRUAL_QUEUE_URL), stack_key(settings.STACK_KEY_NAME))
    return Live(settings.PROGRAM_FILE, settings.CONSOLE_TABLE, build), cache(lambda: secret(settings.BOT_TOKEN_NAME))


def link_clicks(settings: LinkClicksSettings) -> Live[LinkClicks]:
    def build(program: Program, _: ConsoleRead | None) -> LinkClicks:
        site = program.bot.site_url or f"https://t.me/{program.brand.bot_username or ''}"
        return LinkClicks(program, BotTable(settings.BOT_TABLE), CampaignStore(settings.CAMPAIGNS_TABLE), site)
    return Live(settings.PROGRAM_FILE, settings.CONSOLE_TABLE, build)


def campaign_sender(settings: CampaignSenderSettings) -> CampaignSender:
    from loyalty.adapters.telegram import TelegramBot

    program = cached_program(settings.PROGRAM_FILE)
    return CampaignSender(
        TelegramBot(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME),
        OncePerKey("message", "touch", settings.IDEMPOTENCY_TABLE, _MESSAGE_DEDUPE_SECONDS),
        Pace(settings.PACE_TABLE, _BOT_PACE, settings.MESSAGES_PER_SECOND),
        CampaignStore(settings.CAMPAIGNS_TABLE), MembersRepository(settings.MEMBERS_TABLE),
        SqsQueue(settings.ACCRUAL_QUEUE_URL), crm_feed(program, settings.CRM_QUEUE_URL),
        stopped=ConsoleRead(program, ConsoleTable(settings.CONSOLE_TABLE)).stopped)


def points_schedule(settings: PointsScheduleSettings) -> PointsSchedule:
    program = cached_program(settings.PROGRAM_FILE)
    ledger = reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE, settings.CRM_QUEUE_URL)
    letters = Letters(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME))
    touches = Touches(program, ledger, CampaignStore(settings.CAMPAIGNS_TABLE), CampaignLetters(letters, program))
    return PointsSchedule(program, ledger, ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), touches, letters)


def redemption(settings: RedemptionSettings) -> Redemption:
    program = cached_program(settings.PROGRAM_FILE)
    return Redemption(program, reported_ledger(program, settings.LEDGER_TABLE, settings.MEMBERS_TABLE,
                                               settings.CRM_QUEUE_URL),
                      MembersRepository(settings.MEMBERS_TABLE), PromoCodes(settings.PROMO_CODES_TABLE),
                      SqsQueue(settings.ACCRUAL_QUEUE_URL), CampaignStore(settings.CAMPAIGNS_TABLE),
                      ReceiptClaims(settings.CLAIMS_TABLE, settings.MEMBERS_TABLE))


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


def figures(settings: FiguresSettings) -> FigureKeeper:
    return FigureKeeper(cached_program(settings.PROGRAM_FILE), FiguresTable(settings.FIGURES_TABLE),
                        DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL))


def console(settings: ConsoleSettings) -> tuple[Console, SupportDesk, Dashboards, TicketQueue, Composer, Everyday,
                                                Callable[[], str]]:
    """The staff console, its members desk, its dashboard, its queue of tickets, its campaigns, its everyday changes,
    and the bot's token (read when a Mini App's initData is first checked)."""
    program = cached_program(settings.PROGRAM_FILE)
    table, audit, keyed = ConsoleTable(settings.CONSOLE_TABLE), AuditLog(settings.AUDIT_TABLE), \
        stack_key(settings.STACK_KEY_NAME)
    directory = StaffDirectory(table, program, settings.CONSOLE_OWNER_TELEGRAM_ID or None)
    desk = SupportDesk(program, MembersRepository(settings.MEMBERS_TABLE),
                       LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE),
                       SqsQueue(settings.ACCRUAL_QUEUE_URL), audit, keyed)
    bot_table = BotTable(settings.BOT_TABLE)
    desk.reach = MemberReach(CampaignStore(settings.CAMPAIGNS_TABLE), bot_table, LastMessages(bot_table, keyed),
                             ChatOrderedQueue(settings.OUTBOX_QUEUE_URL))
    dashboards = Dashboards(program, FiguresTable(settings.FIGURES_TABLE), audit)
    talk = Conversations(program, MembersRepository(settings.MEMBERS_TABLE),
                         Replies(ChatOrderedQueue(settings.OUTBOX_QUEUE_URL)), SqsQueue(settings.ACCRUAL_QUEUE_URL),
                         bot_table, keyed)
    talk.staff_of, talk.audit = directory.member, audit  # the same rights and audit as in the staff chat
    return (Console(directory, table, audit, keyed), desk, dashboards, TicketQueue(bot_table, talk),
            Composer(program, table, audit, ReachCounter(program, MembersRepository(settings.MEMBERS_TABLE), bot_table),
                     ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), CampaignStore(settings.CAMPAIGNS_TABLE),
                     lambda: [one.telegram_id for one in directory.everyone() if one.role == Role.OWNER]),
            Everyday(program, table, audit, bot_table), cache(lambda: secret(settings.BOT_TOKEN_NAME)))


def webhook(settings: WebhookSettings) -> Live[Webhook]:
    return Live(settings.PROGRAM_FILE, settings.CONSOLE_TABLE, lambda program, _: _webhook(settings, program))


def _webhook(settings: WebhookSettings, program: Program) -> Webhook:
    from loyalty.flows.webhook import Bot, Webhook
    bot = Bot(program, MembersRepository(settings.MEMBERS_TABLE),
              LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE),
              ChatOrderedQueue(settings.OUTBOX_QUEUE_URL), SqsQueue(settings.RECEIPT_QUEUE_URL),
              SqsQueue(settings.ACCRUAL_QUEUE_URL), BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME),
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


def telegram_sender(settings: TelegramSenderSettings) -> TelegramSender:
    from loyalty.adapters.telegram import TelegramBot
    return TelegramSender(TelegramBot(settings.TELEGRAM_API_URL, settings.BOT_TOKEN_NAME),
                          OncePerKey("message", "dedupe_key", settings.IDEMPOTENCY_TABLE, _MESSAGE_DEDUPE_SECONDS),
                          Pace(settings.PACE_TABLE, _BOT_PACE, settings.MESSAGES_PER_SECOND),
                          LastMessages(BotTable(settings.BOT_TABLE), stack_key(settings.STACK_KEY_NAME)))


def crm_sync(settings: CrmSyncSettings) -> CrmSync:
    crm = cached_program(settings.PROGRAM_FILE).crm
    pace = Pace(settings.PACE_TABLE, "crm", crm.requests_per_minute / 60).wait

    @cache
    def crm_secret() -> str:  # read at the first event, not at cold start: a function with no CRM needs none
        return secret(settings.CRM_SECRET_NAME)

    target: CrmTarget | None = None
    if crm.kind == "mindbox" and crm.mindbox is not None:
        target = MindboxClient(settings.CRM_URL, crm_secret, crm.mindbox, pace)
    elif crm.kind == "webhook":
        target = SignedWebhook(settings.CRM_URL, crm_secret, crm.webhook, pace)
    return CrmSync(target, DeadLetterQueue(settings.DEAD_LETTER_QUEUE_URL), MembersRepository(settings.MEMBERS_TABLE))
