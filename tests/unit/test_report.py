"""The brand's report from ledger entries and member items, as a scan hands them over: in any order."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty.adapters.program_file import load_program
from loyalty.domain.details import Details
from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.report import ProgramReport, ReportBuilder
from loyalty.domain.wallet import Balance
from tests.conftest import ROOT

PROGRAM = load_program(ROOT / "program" / "program.yaml")
DAY = datetime(2026, 11, 10, 12, tzinfo=UTC)


def entry(member: str, entry_id: str, kind: str, points: int, at: datetime = DAY, **details: Any) -> Entry:
    return Entry(member_id=member, entry_id=entry_id, kind=kind, points=points, change=Balance(available=points),
                 balance_after=Balance(), created_at=at, details=Details(**details))


def purchase(member: str, key: str, channel: str, rubles: int, points: int, at: datetime = DAY) -> Entry:
    return entry(member, f"receipt#{key}", Kind.ACCRUAL, points, at, channel=channel,
                 brand_sum_kopecks=rubles * 100, purchased_at=at - timedelta(hours=1))


BOOKS = [
    entry("anna", "bonus#welcome", Kind.BONUS, 100),
    purchase("anna", "1", "wildberries", 450, 45),
    purchase("anna", "2", "d2c", 1290, 155, at=DAY + timedelta(days=3)),  # the site, after a marketplace
    entry("anna", "refund#2", Kind.REFUND, -77, DAY + timedelta(days=4), channel="d2c", brand_sum_kopecks=64_500),
    entry("anna", "commit#reward:X", Kind.COMMIT, 0, spent=300, reward="samples"),
    entry("anna", "commit#promo:Y", Kind.COMMIT, 0, spent=50),
    entry("boris", "bonus#welcome", Kind.BONUS, 100),
    purchase("boris", "3", "d2c", 1000, 100),  # the site first, then a marketplace: not "moved"
    purchase("boris", "4", "ozon", 500, 50, at=DAY + timedelta(days=1)),
    entry("boris", "campaign#winback:1:x", Kind.BONUS, 150),
    entry("boris", "bonus#review:R1", Kind.BONUS, 100),
    entry("boris", "expire#receipt#3", Kind.EXPIRY, -20),
    entry("vera", "erase#account", Kind.FORFEIT, -90),
    purchase("gala", "5", "wildberries", 300, 30, at=DAY - timedelta(days=30)),  # before the period
]
MEMBERS: list[dict[str, Any]] = [
    {"member_id": "anna", "joined_at": "2026-11-09T10:00:00.000+00:00", "joined_via": "insert:wb",
     "consented_at": "2026-11-09T10:01:00.000+00:00", "subscribed": True, "available": 100, "pending": 45},
    {"member_id": "boris", "joined_at": "2026-11-09T11:00:00.000+00:00", "referred_by": "anna",
     "consented_at": "2026-11-09T11:01:00.000+00:00", "subscribed": False, "available": 60, "held": 40},
    {"member_id": "erased-1", "joined_at": "2026-11-01T10:00:00.000+00:00", "erased_at": "2026-11-20T10:00:00+00:00"},
    {"member_id": "gala", "joined_at": "2026-10-01T10:00:00.000+00:00", "joined_via": "import", "available": 30},
]


def build(books: list[Entry], since: datetime | None = DAY - timedelta(days=2),
          until: datetime | None = DAY + timedelta(days=20)) -> ProgramReport:
    builder = ReportBuilder(PROGRAM, since, until)
    for item in MEMBERS:
        builder.member(item)
    builder.entries(books)
    return builder.report()


def test_the_report_adds_up_what_the_books_say() -> None:
    report = build(BOOKS)
    members = (report.members, report.members_with_phone, report.members_subscribed, report.members_erased)
    assert members == (4, 3, 1, 1)
    assert report.joined_in_period == {"insert:wb": 1, "referral": 1}  # gala came before; the erased one is gone
    assert (report.receipts, report.buyers, report.repeat_buyers) == (4, 2, 2)
    assert report.revenue_kopecks == (450 + 1290 + 1000 + 500) * 100 - 64_500  # the refund taken off
    assert report.by_channel["d2c"].model_dump() == {"receipts": 2, "buyers": 2, "revenue_kopecks": 164_500}
    assert report.by_channel["wildberries"].revenue_kopecks == 45_000
    assert list(report.by_channel) == ["d2c", "ozon", "wildberries"]  # the largest first
    assert report.moved_to_site == 1  # anna; boris bought on the site before the marketplace
    assert report.points_given == {"purchases": 350, "welcome": 200, "campaigns": 150, "review": 100}
    assert report.points_spent == {"rewards": 300, "site": 50}
    assert (report.points_taken_back, report.points_expired, report.points_written_off) == (77, 20, 90)
    assert report.liability_points == 100 + 45 + 60 + 40 + 30
    assert report.cost_percent == round(100 * (800 - 77) / 2595, 1)  # net of the refund, per rouble


def test_the_order_a_scan_reads_the_books_in_changes_nothing() -> None:
    shuffled = BOOKS[:]
    random.Random(7).shuffle(shuffled)
    assert build(shuffled) == build(BOOKS)


def test_a_period_counts_only_what_happened_in_it() -> None:
    later = build(BOOKS, since=DAY + timedelta(days=2))
    assert (later.receipts, later.revenue_kopecks, later.moved_to_site) == (1, 129_000 - 64_500, 0)
    assert later.joined_in_period == {} and later.liability_points == 275  # what is owed is as of now
    everything = build(BOOKS, since=None, until=None)
    assert everything.receipts == 5 and everything.joined_in_period["import"] == 1
