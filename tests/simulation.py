"""A simulated month on the in-memory adapters: generated members join and buy at any hour, and the points schedule,
the campaigns and the postman run hour by hour as a deployed stack runs them. Every message that is not a direct
answer is recorded with the moment it left, so the contact policy can be checked on what members actually got
(tests/unit/flows/test_simulated_month.py), and `make bench` can tell how many messages a member gets a week.

The month is denser than a real one on purpose: points expire ten days after they become available (so reminders and
expiries happen inside it), and three broadcasts land on days that already carry onboarding, nudges and surveys.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from loyalty.adapters.program_file import load_program
from loyalty.contracts import (
    BirthdayGiven,
    BonusGranted,
    CampaignMessage,
    OutboundMessage,
    PurchaseLine,
    ReceiptAccepted,
    Shopper,
)
from loyalty.domain import contact
from loyalty.domain.campaigns import Campaign
from loyalty.domain.community import entitled
from loyalty.domain.contact import Caps, Contact, QuietHours
from loyalty.domain.ledger import Kind
from loyalty.domain.program import Program
from loyalty.flows.accrual import PointAccrual
from loyalty.flows.campaigns import Campaigns, Touches
from loyalty.flows.community import CommunityDoor
from loyalty.flows.draw import PrizeDraw
from loyalty.flows.draw_seeds import publish
from loyalty.flows.followups import FollowUps
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.flows.outbox import TelegramSender
from loyalty.flows.replies import Replies
from loyalty.flows.schedule import PointsSchedule
from tests.conftest import ROOT
from tests.fakes import (
    STACK_KEY,
    MemoryBooks,
    MemoryBotTable,
    MemoryCampaigns,
    MemoryDraw,
    MemoryOutbox,
    MemoryPromoCodes,
    MemorySentMessages,
    MemoryTelegram,
)

START = datetime(2026, 11, 30, 21, tzinfo=UTC)  # 1 December, midnight in Moscow
DAYS = 30
DRAIN_DAYS = 4  # after the month, runs go on without purchases: the last win-backs, what fell due late
END = START + timedelta(days=DAYS + DRAIN_DAYS)
_CHANNELS = [("wildberries", "marketplace", "Wildberries"), ("ozon", "marketplace", "Ozon"),
             ("golden_apple", "retail", "Золотое Яблоко"), ("d2c", "d2c", "Лепесток")]
_GOODS = [PurchaseLine(name="Лепесток крем для рук 50 мл", sum_kopecks=45_000),
          PurchaseLine(name="Лепесток сыворотка для лица 30 мл", sum_kopecks=129_000, category="face")]


def month_program(policy: bool = True) -> Program:
    """The shipped program, with points that expire within the month and three broadcasts on busy days. Without
    `policy`, every letter goes when it falls due (the baseline `make bench` compares with).

    Its games and perks play as shipped, but for the community: it opens at «Ценитель» (5 receipts and a review),
    re-checked every 14 days, so within a month members are let in and some are shown out again."""
    seed = load_program(ROOT / "program" / "program.yaml")
    assert seed.community is not None
    levels = [level.model_copy(update={"downgrade_every_days": 14}) if level.id == "connoisseur" else level
              for level in seed.levels]
    seed = seed.model_copy(update={"levels": levels, "community": seed.community.model_copy(
        update={"min_level": "connoisseur"})})
    if not policy:
        seed = seed.model_copy(update={"contact": Contact(
            quiet_hours=QuietHours(start=time(0), end=time(0)), spacing_minutes=0,
            marketing=Caps(per_day=10_000, per_week=10_000),
            max_delay_hours=dict.fromkeys(contact.Kind, 24 * 365))})
    expiry = seed.earning.expiry.model_copy(update={"after_days": 10, "end_of": None, "reminder_days": 3})
    broadcasts = [Campaign.model_validate({
        "name": name, "kind": "broadcast", "segment": "reachable", "at": START + timedelta(days=day, hours=hour),
        "messages": {"ru": {"text": f"Новость бренда ({name}). На счёте {{balance}} {{balance_word}}."}}})
        for name, day, hour in (("news_a", 9, 11), ("news_b", 9, 12), ("news_c", 16, 19))]
    return seed.model_copy(update={
        "earning": seed.earning.model_copy(update={"expiry": expiry}),
        "receipts": seed.receipts.model_copy(update={"max_per_day": 10}),
        "campaigns": [*seed.campaigns, *broadcasts]})


@dataclass(frozen=True)
class Delivered:
    """A letter as it left: to whom, when, and whether it counts toward the caps."""

    member_id: str
    at: datetime
    marketing: bool
    what: str


class Recorded(MemoryOutbox):
    """A queue that notes the simulated moment of each message put in it."""

    def __init__(self, month: Month) -> None:
        super().__init__()
        self.month = month
        self.at: list[datetime] = []

    def put(self, message: BaseModel) -> None:
        super().put(message)
        self.at.append(self.month.now)


@dataclass
class Member:
    member_id: str
    language: str
    zone: str | None  # chosen with /timezone, else the language's
    joins_at: datetime
    buys_at: list[datetime] = field(default_factory=list)
    birthday: tuple[int, int] | None = None  # (month, day) given when they join
    reviews_at: list[datetime] = field(default_factory=list)  # reviews the staff approved
    spins: bool = False  # spins every spin a receipt or a challenge gives, within the hour


class Month:
    """The flows wired as the stack wires them (loyalty/wiring/), on the fakes: the schedule's notices and every
    campaign message are letters; the postman sends them."""

    def __init__(self, members: int = 1000, seed: int = 26, policy: bool = True) -> None:
        self.program = program = month_program(policy)
        self.now = START
        self.books, self.table, self.campaigns = MemoryBooks(program), MemoryBotTable(), MemoryCampaigns()
        self.answers = Recorded(self)  # direct answers: a receipt's points, a level reached by it
        self.letters_out, self.campaign_queue = Recorded(self), Recorded(self)  # what the postman sent
        self.schedule_out = Recorded(self)  # the schedule's own outbox: must stay empty, all it says is a letter
        letters = Letters(self.table, STACK_KEY)
        posting = Touches(program, self.books, self.campaigns, CampaignLetters(letters, program))
        self.accrual = PointAccrual(program, self.books, self.answers, MemoryPromoCodes(), STACK_KEY, posting,
                                    self.table)
        self.campaign_runs = Campaigns(program, self.books, self.campaigns, posting)
        self.withdrawn = MemoryOutbox()
        self.postman = FollowUps(program, self.table, self.books,
                                 Touches(program, self.books, self.campaigns, self.campaign_queue),
                                 "https://api.example", outbox=self.letters_out, accrual_queue=self.withdrawn)
        self.members = _generate(program, members, random.Random(seed))
        self.runs: Counter[str] = Counter()
        # the games and perks: the wheel (its seeds published the day before the month), the community's door
        # (what Telegram does with its answers: `in_community`), the birthdays
        seeds = random.Random(seed)
        self.draws = MemoryDraw(lambda: seeds.randbytes(32))
        publish(self.draws, START - timedelta(days=1))
        self.wheel = PrizeDraw(program, self.books, self.draws, STACK_KEY, Replies(self.answers), self.table)
        self.schedule = PointsSchedule(program, self.books, self.schedule_out, posting, letters, self.draws, self.table)
        self.community_out = MemoryOutbox()
        self.door = CommunityDoor(program, self.books, self.books, self.community_out, self.table)
        self.telegram = MemoryTelegram()
        self.in_community: set[int] = set()
        self.spun: list[tuple[str, int]] = []
        self.requests = 0
        self.removals_seen = 0  # the schedule's outbox messages shown out so far

    def live(self) -> Month:
        """Every hour of the month and the drain after it: joins and purchases due in the hour, then the runs."""
        joins = sorted(((m.joins_at, m) for m in self.members), key=lambda pair: pair[0])
        buys = sorted([*((at, m) for m in self.members for at in m.buys_at),
                       *((at, m) for m in self.members for at in m.reviews_at)], key=lambda pair: pair[0])
        for hour in range(int((END - START) / timedelta(hours=1))):
            self.now = START + timedelta(hours=hour)
            until = self.now + timedelta(hours=1)
            while joins and joins[0][0] < until:
                at, member = joins.pop(0)
                self._join(member, at)
            while buys and buys[0][0] < until:
                at, member = buys.pop(0)
                if at in member.reviews_at:
                    self._review(member, at)
                else:
                    self._buy(member, at)
                self._play(member, at + timedelta(minutes=1))
            for name, outcome in self.postman.run(self.now).items():
                self.runs[name] += outcome
            self.schedule.run(self.now)
            self.campaign_runs.run(self.now)
            self.show_out()
        return self

    def _join(self, member: Member, at: datetime) -> None:
        self.now = at
        self.books.join(member.member_id, language=member.language, phone=f"+7900{member.member_id}")
        if member.zone:
            self.books.choose_time_zone(member.member_id, member.zone)
        self.accrual.bonus(BonusGranted(shopper=self.shopper(member), bonus="welcome", reference=member.member_id),
                           at)
        if member.birthday is not None:
            month, day = member.birthday
            self.accrual.birthday(BirthdayGiven(request_id=f"sim:{member.member_id}", shopper=self.shopper(member),
                                                month=month, day=day), at)

    def _review(self, member: Member, at: datetime) -> None:
        self.now = at
        self.accrual.bonus(BonusGranted(shopper=self.shopper(member), bonus="review",
                                        reference=f"sim-review:{member.member_id}:{at.timestamp():.0f}"), at)

    def _play(self, member: Member, at: datetime) -> None:
        """After a receipt or a review: the member spins what they have (if they play), and asks to join the
        community when their level opens it; Telegram lets in whom the bot approves."""
        self.now = at
        while member.spins and self.books.read(member.member_id)[0].spins > 0:
            outcome = self.wheel.spin(self.shopper(member), at)
            self.spun.append((member.member_id, outcome.number))
        if int(member.member_id) in self.in_community or not entitled(self.program, self.books.read(
                member.member_id)[0]):
            return  # the Mini App offers the invite link at the level that opens it
        self.requests += 1
        answer = self.door.request(self.requests, {
            "chat": {"id": self.community_id}, "from": {"id": int(member.member_id)},
            "user_chat_id": int(member.member_id)})
        if answer.get("call", {}).get("method") == "approveChatJoinRequest":
            self.in_community.add(int(member.member_id))

    @property
    def community_id(self) -> int:
        assert self.program.community is not None
        return self.program.community.chat_id

    def show_out(self) -> None:
        """The removals the schedule (a downgrade) queued on the outbox since the last run, as the sender runs them
        against Telegram: who is in the community after."""
        removals = self.schedule_out.messages[self.removals_seen:]
        self.removals_seen = len(self.schedule_out.messages)
        if not removals:
            return
        self.telegram.members[self.community_id] = set(self.in_community)
        sender = TelegramSender(self.telegram, MemorySentMessages())
        for message in removals:
            assert isinstance(message, OutboundMessage) and message.removes_from == self.community_id
            self.telegram.open(message.chat_id)
            sender.handle_record(SQSRecord({"messageId": "m", "body": message.model_dump_json()}))
        self.in_community = set(self.telegram.members[self.community_id])

    def _buy(self, member: Member, at: datetime) -> None:
        self.now = at
        rng = random.Random(f"{member.member_id}:{at.isoformat()}")
        channel, kind, store = rng.choice(_CHANNELS)
        lines = tuple(rng.sample(_GOODS, rng.randint(1, 2)))
        self.accrual.accrue(ReceiptAccepted(
            submission_id=f"sim:{member.member_id}:{at.timestamp():.0f}", shopper=self.shopper(member),
            fiscal_key=f"9960440300000001:{member.member_id}{at.timestamp():.0f}:1", channel=channel,
            channel_kind=kind, store=store, brand_sum_kopecks=sum(line.sum_kopecks for line in lines), lines=lines,
            issued_at=at), at)

    @staticmethod
    def shopper(member: Member) -> Shopper:
        return Shopper(member_id=member.member_id, chat_id=int(member.member_id), language=member.language)

    # ------------------------------------------------------------------ what happened
    def delivered(self) -> list[Delivered]:
        """Every letter that left, in order: the merged notices and every campaign, onboarding, nudge and survey."""
        reminder = self.program.expiry_reminder
        found = [Delivered(str(message.chat_id), at, False, "notices")
                 for message, at in zip(self.letters_out.messages, self.letters_out.at, strict=True)
                 if isinstance(message, OutboundMessage)]
        for message, at in zip(self.campaign_queue.messages, self.campaign_queue.at, strict=True):
            assert isinstance(message, CampaignMessage)
            transactional = reminder is not None and message.campaign == reminder.name
            found.append(Delivered(message.member_id, at, not transactional, message.campaign))
        return sorted(found, key=lambda one: (one.at, one.member_id))

    def zone(self, member_id: str) -> Any:
        member = self.books.get(member_id)
        assert member is not None
        return self.program.contact.zone(member.language, member.time_zone)

    def facts(self) -> dict[str, list[tuple[str, str, datetime]]]:
        """The transactional facts the ledger holds: points that became available and points that expired, as
        (member, entry id, when)."""
        found: dict[str, list[tuple[str, str, datetime]]] = {"activation": [], "expiry": []}
        for member_id in self.books.accounts:
            for entry in self.books.entries(member_id):
                if entry.kind == Kind.ACTIVATION and entry.details.activated:
                    found["activation"].append((member_id, entry.entry_id, entry.created_at))
                elif entry.kind == Kind.EXPIRY and entry.details.expired:
                    found["expiry"].append((member_id, entry.entry_id, entry.created_at))
        return found

    def per_week(self) -> dict[str, Counter[int]]:
        """How many members got how many letters (all, and marketing only) in each of the month's four weeks."""
        counts: dict[tuple[str, int], Counter[str]] = {}
        for one in self.delivered():
            week = (one.at - START).days // 7
            if week < 4:
                counts.setdefault((one.member_id, week), Counter())["all"] += 1
                counts[(one.member_id, week)]["marketing"] += one.marketing
        histogram: dict[str, Counter[int]] = {"all": Counter(), "marketing": Counter()}
        for member in self.members:
            for week in range(4):
                got = counts.get((member.member_id, week), Counter())
                for which in histogram:
                    histogram[which][got[which]] += 1
        return histogram


def letter_status(month: Month, member_id: str, entry_id: str) -> str | None:
    """What became of the notice a ledger entry posted (its id is keyed on the entry, as Notices makes it)."""
    letter = month.table.followups.get(STACK_KEY.id("letter", f"ledger:{member_id}:{entry_id}"))
    return letter.status if letter else None


def marketing_kinds() -> set[str]:
    return {kind for kind in contact.Kind if contact.marketing(kind)}


def _generate(program: Program, count: int, rng: random.Random) -> list[Member]:
    """Members who join in the month's first three weeks, a tenth in English, a third in a zone they chose; most buy
    once to eight times, at any hour a shopper might (some at night), a few never, a tenth once and then lapse."""
    zones = [choice.zone for choice in program.contact.zone_choices]
    members = []
    for index in range(count):
        joins_at = START + timedelta(minutes=rng.randrange(21 * 24 * 60))
        member = Member(member_id=str(8_000_000 + index), language="en" if rng.random() < 0.1 else "ru",
                        zone=rng.choice(zones) if rng.random() < 0.33 else None, joins_at=joins_at)
        purchases = rng.choice([0, 1, 1, 2, 2, 3, 4, 6, 8])
        if rng.random() < 0.6:  # a birthday given; some of them fall in the month, a few in its first days
            member.birthday = (12, rng.randint(1, 31)) if rng.random() < 0.3 else (rng.randint(1, 12),
                                                                                     rng.randint(1, 28))
        member.spins = rng.random() < 0.7
        end = START + timedelta(days=DAYS)
        if rng.random() < 0.1:  # buys once on the first days and lapses: the win-back finds them a month later
            joins_at, purchases, end = START + timedelta(minutes=rng.randrange(2 * 24 * 60)), 1, START + \
                timedelta(days=3)
            member.joins_at = joins_at
        member.buys_at = sorted(joins_at + timedelta(minutes=5 + rng.randrange(max(int((end - joins_at)
                                                                                       .total_seconds() // 60) - 5, 1)))
                                for _ in range(purchases))
        if purchases >= 4 and rng.random() < 0.5:  # a regular writes a review: «Ценитель» needs one
            member.reviews_at = [member.buys_at[0] + timedelta(hours=2)]
        members.append(member)
    return members
