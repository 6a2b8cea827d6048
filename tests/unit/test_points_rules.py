"""Program rules for points, as pure functions: rates, goods rules, caps, pending, expiry, levels, wallets."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from loyalty.adapters.program_file import ProgramError, load_program
from loyalty.contracts import PurchaseLine
from loyalty.domain import levels, postings, wallet
from loyalty.domain.bot_program import words
from loyalty.domain.errors import HoldExpired, HoldNotFound, InsufficientPoints
from loyalty.domain.history import history_lines
from loyalty.domain.ledger import Entry
from loyalty.domain.points import capped, expiry_of, payable_points, pending_days, purchase_points
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.wallet import Wallet
from tests.conftest import ROOT, present

SEED = load_program(ROOT / "program" / "program.yaml")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def line(sum_kopecks: int, category: str | None = None, gtin: str | None = None, quantity: str = "1") -> PurchaseLine:
    return PurchaseLine(name="x", sum_kopecks=sum_kopecks, category=category, gtin=gtin, quantity=quantity)


def test_the_seed_ships_four_levels_with_growing_rates() -> None:
    assert [(level.id, level.percent) for level in SEED.levels] == [
        ("registered", Decimal(10)), ("friend", Decimal(10)), ("connoisseur", Decimal(12)), ("insider", Decimal(15))]
    assert "закрытое сообщество" in [words(perk, "ru") for perk in SEED.levels[3].perks]
    assert "a private community" in [words(perk, "en") for perk in SEED.levels[3].perks]


def test_goods_rules_multiply_or_fix_accrual_and_cap_what_points_pay() -> None:
    program = SEED.model_copy(update={"earning": SEED.earning.model_copy(update={"goods": [
        *SEED.earning.goods, SEED.earning.goods[0].model_copy(update={
            "category": None, "gtin": "04600000000099", "accrual_multiplier": None, "accrual_points": 30})]})})
    # face ×1.5 on 1290 ₽ at 10% = 193.5; plain 450 ₽ = 45; fixed 30 a unit × 2; the fraction is dropped once
    assert purchase_points([line(129_000, "face"), line(45_000), line(10_000, gtin="04600000000099", quantity="2")],
                           program, Decimal(10)) == 193 + 45 + 60
    assert payable_points(line(90_000, gtin="04600000000017"), SEED) == 450  # 50% of its price
    assert payable_points(line(90_000, "face"), SEED) == 900  # the program's 100%


def test_caps_pending_days_and_expiry() -> None:
    assert capped(500, SEED, earned_today=2800, earned_this_month=0) == (200, "3000 points a day")
    assert capped(500, SEED, earned_today=0, earned_this_month=9900) == (100, "10000 points a month")
    assert capped(500, SEED, earned_today=2800, earned_this_month=9900) == (100, "10000 points a month")
    assert capped(500, SEED, earned_today=0, earned_this_month=0) == (500, None)
    assert pending_days(SEED, "wildberries", "marketplace") == 14 and pending_days(SEED, "d2c", "d2c") == 0
    # 365 days after it became available, then to the end of that month (Moscow)
    assert expiry_of(SEED, NOW) == datetime(2027, 12, 1, tzinfo=MOSCOW)


def test_a_bad_program_names_the_bad_key(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
    document["levels"][2]["percent"] = "twelve"
    document["earning"]["goods"][0]["accrual_points"] = 5
    bad = tmp_path / "program.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProgramError) as error:
        load_program(bad)
    assert "levels.2.percent" in str(error.value) and "earning.goods.0" in str(error.value)


def test_a_span_of_days_too_long_for_a_date_is_refused_at_load_naming_its_key(tmp_path: Path) -> None:
    """Found by the program fuzzer: a receipt window of a billion days loaded, then overflowed the first receipt's
    age check (OverflowError) instead of being refused with the program file."""
    document = yaml.safe_load((ROOT / "program" / "program.yaml").read_text(encoding="utf-8"))
    document["receipts"]["max_age_days"] = 1_000_000_000
    document["earning"]["pending_days"]["default"] = 10**12
    bad = tmp_path / "program.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProgramError) as error:
        load_program(bad)
    assert "receipts.max_age_days" in str(error.value) and "earning.pending_days" in str(error.value)


def test_levels_go_up_at_once_and_down_only_at_a_review_on_the_last_n_days() -> None:
    member = Wallet()
    for day in range(5):
        member = wallet.record(member, f"2026-11-{10 + day}", receipts=1, spend_kopecks=45_000)
    assert present(levels.evaluate(SEED, member, NOW)[0]).id == "friend"
    member = wallet.record(member, "2026-11-20", reviews=1)
    found, move = levels.evaluate(SEED, member, NOW)
    level = present(found)
    assert (level.id, move) == ("connoisseur", "up")
    member = levels.with_level(member, level, move, NOW, reviewed=False)
    assert levels.review_due(SEED, member) == NOW + timedelta(days=365)
    assert levels.evaluate(SEED, member, NOW + timedelta(days=300))[1] == "kept"  # not due yet
    found, move = levels.evaluate(SEED, member, NOW + timedelta(days=366))  # nothing bought in the last year
    assert (present(found).id, move) == ("friend", "down")


def test_a_wallet_spends_the_points_that_expire_first_and_a_release_gives_back_exactly_those() -> None:
    w = wallet.credit(Wallet(), "late", 100, NOW, NOW, NOW + timedelta(days=300)).wallet
    w = wallet.credit(w, "soon", 100, NOW, NOW, NOW + timedelta(days=10)).wallet
    held = wallet.hold(w, "h", 150, NOW, NOW + timedelta(minutes=30))
    assert held.details.lots == {"soon": 100, "late": 50}
    with pytest.raises(InsufficientPoints):
        wallet.hold(held.wallet, "h2", 51, NOW, NOW + timedelta(minutes=30))
    back = wallet.release(held.wallet, "h", NOW + timedelta(days=11))  # "soon" expired meanwhile
    assert (back.details.returned, back.details.expired, back.wallet.balance.available) == (50, 100, 100)
    with pytest.raises(HoldNotFound):
        wallet.commit(back.wallet, "h", NOW)
    with pytest.raises(HoldExpired):
        wallet.commit(held.wallet, "h", NOW + timedelta(hours=1))


def test_a_refund_of_spent_points_becomes_debt_paid_by_the_next_credit() -> None:
    w = wallet.credit(Wallet(), "a", 100, NOW, NOW, None).wallet
    w = wallet.deduct(w, 80, NOW).wallet
    reversed_ = wallet.reverse(w, "a", 100, NOW)
    assert reversed_.change.model_dump() == {"available": -20, "pending": 0, "held": 0, "debt": 80}
    paid = wallet.credit(reversed_.wallet, "b", 50, NOW, NOW, None)
    assert (paid.details.debt_paid, paid.wallet.balance.available, paid.wallet.balance.debt) == (50, 0, 30)


def test_due_actions_come_in_order_and_reminders_wait_for_noon() -> None:
    w = wallet.credit(Wallet(), "p", 40, NOW, NOW + timedelta(days=14), NOW + timedelta(days=30)).wallet
    w = wallet.credit(w, "x", 10, NOW, NOW, NOW + timedelta(days=8)).wallet
    w = wallet.hold(w, "h", 5, NOW, NOW + timedelta(minutes=30)).wallet
    early_morning = datetime(2026, 11, 24, 1, tzinfo=MOSCOW)  # the reminder day for "x", before noon
    assert [a.kind for a in postings.due_actions(SEED, w, early_morning)] == ["release"]
    assert [a.entry_id for a in postings.due_actions(SEED, w, early_morning + timedelta(hours=12))] == [
        "release#h", "remind#x"]
    assert postings.next_due(SEED, w) == NOW + timedelta(minutes=30)


def test_history_is_plain_russian_and_skips_what_the_shopper_need_not_read() -> None:
    entries = [
        _entry("expiry_reminder", "remind#x", 0, "2026-11-23T10:00:00+00:00"),
        _entry("commit", "commit#A-1", 0, "2026-11-23T10:00:00+00:00", order_id="A-1", spent=300),
        _entry("refund_reversal", "refund#r", -20, "2026-11-22T10:00:00+00:00", store="Ozon", shortfall=80),
    ]
    assert history_lines(entries, "ru", SEED) == [
        "23.11  -300  заказ A-1 оплачен баллами", "22.11  -20  возврат на Ozon, ещё 80 спишутся с будущих баллов"]


def test_a_spending_shows_once_in_history_with_its_minus_sign() -> None:
    """A promo code reserves the points, the site's order spends them: one line, the spending; a code not spent yet
    is its reserve, and one given back shows as such."""
    entries = [
        _entry("commit", "commit#p1", 0, "2026-11-24T10:00:00+00:00", order_id="lepestok-1042", spent=300, hold="p1"),
        _entry("hold", "hold#p2", -150, "2026-11-24T09:00:00+00:00", code="NEXTCODE"),
        _entry("hold", "hold#p1", -300, "2026-11-23T10:00:00+00:00", code="S7RF29CL"),
    ]
    assert history_lines(entries, "ru", SEED) == ["24.11  -300  заказ lepestok-1042 оплачен промокодом S7RF29CL",
                                                "24.11  -150  промокод NEXTCODE"]


def test_history_names_bonuses_in_the_members_language() -> None:
    entries = [_entry("bonus", entry_id, 100, "2026-11-23T10:00:00+00:00", label="бонус")
               for entry_id in ("bonus#welcome", "bonus#review:wb-1", "bonus#referrer:42", "bonus#birthday")]
    assert history_lines(entries, "en", SEED) == [
        "23.11  +100  welcome bonus", "23.11  +100  review bonus", "23.11  +100  referral bonus", "23.11  +100  бонус"]
    assert history_lines(entries[:1], "ru", SEED) == ["23.11  +100  приветственный бонус"]


def _entry(kind: str, entry_id: str, points: int, created_at: str, **details: object) -> Entry:
    """An entry as the ledger table returns it (only what /history reads matters)."""
    return Entry.model_validate({"member_id": "1", "entry_id": entry_id, "kind": kind, "points": points,
                                 "change": {"available": points}, "balance_after": {}, "created_at": created_at,
                                 "details": details})
