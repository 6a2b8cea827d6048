"""Each function's environment variables, as pydantic models (names exactly as in template.yaml).

A missing or malformed variable fails at cold start with the variable's name, not mid-request.
"""


import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T", bound=BaseModel)


class _Env(BaseModel):
    # Built at first use: a function reads its own settings only, and its cold start pays for no other's.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class ProgramFiles(_Env):
    PROGRAM_FILE: str
    PROGRAM_SNAPSHOT: str = ""  # the program as the build validated it (adapters/program_file.py); none: read the file


class WebhookSettings(ProgramFiles):
    MEMBERS_TABLE: str
    LEDGER_TABLE: str
    ACCRUAL_QUEUE_URL: str
    IDEMPOTENCY_TABLE: str
    OUTBOX_QUEUE_URL: str
    DEAD_LETTER_QUEUE_URL: str
    WEBHOOK_SECRET_NAME: str
    CRM_QUEUE_URL: str
    BOT_TABLE: str
    STACK_KEY_NAME: str
    CONSOLE_TABLE: str = ""  # none: /console is not offered
    AUDIT_TABLE: str = ""  # none: the staff chat's decisions are not audited
    CONSOLE_OWNER_TELEGRAM_ID: int = Field(default=0, ge=0)
    LINK_BASE_URL: str = ""


class _Consumer(_Env):
    DEAD_LETTER_QUEUE_URL: str
    RETRY_BASE_SECONDS: int = Field(ge=0)


class PointAccrualSettings(_Consumer, ProgramFiles):
    STACK_KEY_NAME: str
    ACCRUAL_QUEUE_URL: str  # a file's receipts go back to the queue one by one
    MEMBERS_TABLE: str
    CLAIMS_TABLE: str
    TELEGRAM_API_URL: str
    BOT_TOKEN_NAME: str
    RECEIPT_SERVICE_URL: str
    RECEIPT_SERVICE_TOKEN_NAME: str
    RECEIPT_FETCH_ATTEMPTS: int = Field(ge=1, le=8)  # no more than AccrualQueue's maxReceiveCount
    LEDGER_TABLE: str
    PROMO_CODES_TABLE: str
    CAMPAIGNS_TABLE: str
    CAMPAIGN_QUEUE_URL: str
    OUTBOX_QUEUE_URL: str
    CRM_QUEUE_URL: str
    BOT_TABLE: str
    CONSOLE_TABLE: str  # the console's live campaigns
    LINK_BASE_URL: str = ""  # the HTTP API's address: a campaign message's buttons go through /go/<letter>-<n>


class PointsScheduleSettings(ProgramFiles):
    STACK_KEY_NAME: str
    BOT_TABLE: str
    MEMBERS_TABLE: str
    LEDGER_TABLE: str
    OUTBOX_QUEUE_URL: str
    CAMPAIGNS_TABLE: str
    CAMPAIGN_QUEUE_URL: str
    CRM_QUEUE_URL: str


class CampaignsSettings(ProgramFiles):
    STACK_KEY_NAME: str
    OUTBOX_QUEUE_URL: str
    ACCRUAL_QUEUE_URL: str
    MEMBERS_TABLE: str
    LEDGER_TABLE: str
    CAMPAIGNS_TABLE: str
    CAMPAIGN_QUEUE_URL: str
    CRM_QUEUE_URL: str
    BOT_TABLE: str
    CONSOLE_TABLE: str  # the campaigns made in the console
    LINK_BASE_URL: str = ""  # the HTTP API's address: nudges' links go through /go/<id>, which counts the clicks


class WebAppSettings(ProgramFiles):
    MEMBERS_TABLE: str
    LEDGER_TABLE: str
    BOT_TABLE: str
    ACCRUAL_QUEUE_URL: str
    BOT_TOKEN_NAME: str
    STACK_KEY_NAME: str
    INIT_DATA_MAX_AGE_SECONDS: int = 3600  # how old Telegram's signature on initData may be
    CONSOLE_TABLE: str = ""  # the console's everyday changes (rewards, texts, nudges), read once a minute
    CRM_QUEUE_URL: str  # a spin's prize is a ledger entry, reported to the CRM like any
    OUTBOX_QUEUE_URL: str  # a reward won in the draw: the member's message and the staff's order
    TELEGRAM_API_URL: str = "https://api.telegram.org"  # an invitation prepared for the share sheet
    # The page's Telegram WebApp script: Telegram's own, or on a local stack the emulator's (its scanner, share sheet)
    TELEGRAM_WEB_APP_JS: str = "https://telegram.org/js/telegram-web-app.js"


class FiguresSettings(ProgramFiles):
    FIGURES_TABLE: str
    LEDGER_TABLE: str
    MEMBERS_TABLE: str
    CAMPAIGNS_TABLE: str
    BOT_TABLE: str
    DEAD_LETTER_QUEUE_URL: str

    def streams(self) -> dict[str, str]:
        """Which of the tables a stream's table name is (flows/figures.py names them so)."""
        return {self.LEDGER_TABLE: "ledger", self.MEMBERS_TABLE: "members", self.CAMPAIGNS_TABLE: "campaigns",
                self.BOT_TABLE: "bot"}


class ConsoleSettings(ProgramFiles):
    CONSOLE_TABLE: str
    AUDIT_TABLE: str
    MEMBERS_TABLE: str
    LEDGER_TABLE: str
    ACCRUAL_QUEUE_URL: str
    STACK_KEY_NAME: str
    BOT_TOKEN_NAME: str
    LINK_BASE_URL: str  # the HTTP API's address: sign-in links lead to /console/signin there
    FIGURES_TABLE: str  # the dashboard's daily figures
    CAMPAIGNS_TABLE: str  # a member's card: the campaigns that reached them
    BOT_TABLE: str  # … their letters and tickets, and the last message (support resends it)
    OUTBOX_QUEUE_URL: str
    CONSOLE_OWNER_TELEGRAM_ID: int = Field(default=0, ge=0)  # the first owner (0: none)
    INIT_DATA_MAX_AGE_SECONDS: int = 3600


class LinkClicksSettings(ProgramFiles):
    BOT_TABLE: str
    CAMPAIGNS_TABLE: str
    CONSOLE_TABLE: str = ""  # the console's everyday changes (rewards, texts, nudges), read once a minute


class CampaignSenderSettings(_Consumer, ProgramFiles):
    IDEMPOTENCY_TABLE: str
    MEMBERS_TABLE: str
    CAMPAIGNS_TABLE: str
    PACE_TABLE: str
    TELEGRAM_API_URL: str
    BOT_TOKEN_NAME: str
    MESSAGES_PER_SECOND: float = Field(gt=0, le=30)
    CRM_QUEUE_URL: str
    ACCRUAL_QUEUE_URL: str
    CONSOLE_TABLE: str  # the console's campaigns: a stopped one's messages are dropped


class _Paced(_Consumer):
    """A function that keeps a rate on its own (adapters/pacing.py: LocalPace): its event source runs at most
    CONCURRENCY containers at once (template.yaml's MaximumConcurrency, which tests/unit/test_template.py holds
    equal), each at its share of the rate."""

    CONCURRENCY: int = Field(ge=1)

    def share(self, per_second: float) -> float:
        return per_second / self.CONCURRENCY


class CrmSyncSettings(_Paced, ProgramFiles):
    MEMBERS_TABLE: str
    CRM_URL: str
    CRM_SECRET_NAME: str
    MAX_RETRY_SECONDS: int = Field(default=900, ge=1)


class RedemptionSettings(ProgramFiles):
    MEMBERS_TABLE: str
    CLAIMS_TABLE: str
    LEDGER_TABLE: str
    PROMO_CODES_TABLE: str
    CAMPAIGNS_TABLE: str
    ACCRUAL_QUEUE_URL: str
    CRM_QUEUE_URL: str


class TelegramSenderSettings(_Paced):
    TELEGRAM_API_URL: str
    BOT_TOKEN_NAME: str
    BOT_TABLE: str  # the last message each shopper got …
    STACK_KEY_NAME: str  # … kept under a keyed marker of the chat
    MESSAGES_PER_SECOND: float = Field(gt=0, le=30)
    MAX_RETRY_SECONDS: int = Field(default=60, ge=1)


@cache
def environment(model: type[T]) -> T:
    """The function's settings from its environment. pydantic validates them itself: Powertools' Parser, made for
    events, would bring its models of every AWS event into each cold start to read a dict."""
    return model.model_validate(dict(os.environ))
