"""earning.purchase_credit: what a purchase credits a member, with each rule it applied (no I/O)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from loyalty.adapters.program_file import load_program
from loyalty.contracts import PurchaseLine
from loyalty.domain import postings
from loyalty.domain import wallet as w
from loyalty.domain.earning import purchase_credit
from loyalty.domain.wallet import Wallet
from tests.conftest import ROOT

SEED = load_program(ROOT / "program" / "program.yaml")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CREAM = PurchaseLine(name="Лепесток крем для рук 50 мл", sum_kopecks=90_000, quantity="2", category="care")
SERUM = PurchaseLine(name="Лепесток сыворотка для лица 30 мл", sum_kopecks=129_000, category="face")


def test_each_line_carries_its_rule_and_the_fraction_is_dropped_once() -> None:
    credit = purchase_credit(SEED, Wallet(), [CREAM, SERUM], "wildberries", "marketplace", NOW)
    assert [(line.rule, line.points) for line in credit.lines] == [
        (None, Decimal(90)), ("category face: ×1.5 the rate", Decimal("193.5"))]
    assert (credit.level, credit.percent, credit.earned, credit.points, credit.cap) == (
        "registered", Decimal(10), 283, 283, None)
    assert credit.available_at == NOW + timedelta(days=14) and credit.pending and credit.first_purchase


def test_the_level_the_caps_and_debt_come_from_the_wallet() -> None:
    busy = w.record(Wallet(level="insider"), "2026-11-23", receipts=3, earned=2_900)
    credit = purchase_credit(SEED, busy.model_copy(update={"balance": w.Balance(debt=40)}), [CREAM, SERUM], "d2c",
                             "d2c", NOW)
    assert (credit.percent, credit.earned) == (Decimal(15), 425)
    assert (credit.points, credit.cap) == (100, "3000 points a day")
    step = postings.purchase(SEED, busy.model_copy(update={"balance": w.Balance(debt=40)}), "receipt#1", credit,
                             219_000, "Лепесток")
    assert (step.details.credited, step.details.debt_paid, step.change.available) == (100, 40, 60)
    assert not credit.pending and not credit.first_purchase


def test_an_unlisted_seller_waits_the_default_pending_days_and_a_first_purchase_pays_the_invitation() -> None:
    program = SEED.model_copy(update={"earning": SEED.earning.model_copy(
        update={"pending_days": {"marketplace": 14, "default": 3}})})
    credit = purchase_credit(program, Wallet(), [CREAM], "other", "other", NOW, referred_by="42")
    assert credit.available_at == NOW + timedelta(days=3)
    assert credit.referral is not None and (credit.referral.inviter, credit.referral.referred,
                                            credit.referral.referrer) == ("42", 200, 200)
    again = purchase_credit(program, w.record(Wallet(), "2026-11-01", receipts=1), [CREAM], "other", "other", NOW,
                            referred_by="42")
    assert again.referral is None  # only the first purchase pays it
