"""Flows on in-memory adapters (tests/fakes.py): each test runs in milliseconds, on the shipped program
(with up to ten receipts a day, so one test day holds the six purchases level 3 needs)."""

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty.adapters.program_file import load_program
from loyalty.contracts import BonusGranted, PromoRequested, PurchaseLine, ReceiptAccepted, Shopper
from loyalty.domain.ledger import Posting
from loyalty.domain.member import Member
from loyalty.domain.program import Program
from loyalty.flows.accrual import PointAccrual
from loyalty.flows.campaigns import Campaigns, Touches
from loyalty.flows.crm_feed import CrmFeed, Reported
from loyalty.flows.redemption import Redemption
from loyalty.flows.schedule import PointsSchedule
from tests.conftest import ROOT, present
from tests.fakes import (
    STACK_KEY,
    MemoryBooks,
    MemoryBotTable,
    MemoryCampaigns,
    MemoryFifoQueue,
    MemoryOutbox,
    MemoryPromoCodes,
    MemoryQueue,
)

SEED = load_program(ROOT / "program" / "program.yaml")
# The shipped program without its challenges: a test of points, levels or campaigns counts what those pay alone; the
# challenges' own tests (test_accrual_flow, test_challenges_flow) add theirs.
PROGRAM = SEED.model_copy(update={"receipts": SEED.receipts.model_copy(update={"max_per_day": 10}), "challenges": []})
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)  # noon in Moscow
CREAM = PurchaseLine(name="Лепесток крем для рук 50 мл", sum_kopecks=45_000)  # 45 points at 10%, 54 at 12%
SERUM = PurchaseLine(name="Лепесток сыворотка для лица 30 мл", sum_kopecks=129_000, category="face")  # ×1.5
_fiscal = itertools.count(1)


class World:
    """One program's members, ledger, promo codes and queues, and the flows that share them."""

    def __init__(self, program: Program = PROGRAM, bot_table: MemoryBotTable | None = None) -> None:
        """`bot_table`: news (what is not the answer to the member's own act) becomes letters in it, for the contact
        policy to send; without one it goes out at once, as an answer does."""
        self.books, self.outbox, self.codes = MemoryBooks(program), MemoryOutbox(), MemoryPromoCodes()
        self.accrual_queue, self.campaign_queue, self.campaigns = MemoryQueue(), MemoryOutbox(), MemoryCampaigns()
        self.crm_queue = MemoryFifoQueue()
        ledger = Reported(self.books, CrmFeed(self.crm_queue))  # as wiring builds it for a program with a CRM
        touches = Touches(program, ledger, self.campaigns, self.campaign_queue, self.books)
        self.accrual = PointAccrual(program, ledger, self.outbox, self.codes, STACK_KEY, touches, bot_table)
        self.schedule = PointsSchedule(program, ledger, self.outbox, touches)
        self.redemption = Redemption(program, ledger, self.books, self.codes, self.accrual_queue, self.campaigns)
        self.campaign_runs = Campaigns(program, self.books, self.campaigns, touches)

    def join(self, member_id: str, referred_by: str | None = None, phone: str | None = None,
             now: datetime = NOW) -> str:
        self.books.join(member_id, referred_by=referred_by, phone=phone)
        self.accrual.bonus(BonusGranted(shopper=shopper(member_id), bonus="welcome", reference=member_id), now)
        return member_id

    def buy(self, member_id: str, *lines: PurchaseLine, channel: str = "wildberries", now: datetime = NOW,
            fiscal_key: str | None = None, purchased_at: datetime | None = None) -> Posting:
        """A purchase receipt_check accepted: Wildberries (a marketplace) or the brand's own site (d2c)."""
        lines = lines or (CREAM,)
        d2c = channel == "d2c"
        return self.accrual.accrue(ReceiptAccepted(
            submission_id=f"tg-update:{next(_fiscal)}", shopper=shopper(member_id),
            fiscal_key=fiscal_key or f"7380440800000017:{next(_fiscal)}:1", channel=channel,
            channel_kind="d2c" if d2c else "marketplace", store="lepestok.ru" if d2c else "Wildberries",
            brand_sum_kopecks=sum(line.sum_kopecks for line in lines), lines=lines, issued_at=purchased_at), now)

    def review(self, member_id: str, review_id: str, now: datetime = NOW) -> Posting:
        granted = BonusGranted(shopper=shopper(member_id), bonus="review", reference=review_id)
        return present(self.accrual.bonus(granted, now))

    def promo(self, member_id: str, request_id: str, points: int | None = None, now: datetime = NOW) -> Posting | None:
        return self.accrual.promo(PromoRequested(request_id=request_id, shopper=shopper(member_id), points=points), now)

    def member(self, member_id: str) -> Member:
        return present(self.books.get(member_id))

    def texts(self, member_id: str) -> list[str]:
        """What the member was told (the outbox: receipts, points, levels)."""
        return self.outbox.texts(int(member_id))

    def campaign_texts(self, member_id: str) -> list[Any | str]:
        """What campaigns queued for the member (CampaignQueue)."""
        return [message.text for message in self.campaign_queue.messages if message.member_id == member_id]


def shopper(member_id: str) -> Shopper:
    return Shopper(member_id=member_id, chat_id=int(member_id), language="ru")


@pytest.fixture
def world() -> World:
    return World()
