"""What `loyalty receipt explain` says a receipt earns is what the ledger credits for it, on moto.

Random programs (levels and their rates, goods rules, caps, pending days, expiry, referral bonuses), random
receipts (a marketplace, a retail chain, the brand's site, an unlisted seller) and random member states
(earlier purchases that set the level and fill the caps, debt left by a refund, an inviter). Explain reads
the member from moto as `--member` does; then the receipt goes through point_accrual's check (settle) and
point_accrual's accrue, and the entry they write must carry exactly the explained credit.
"""

import itertools
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.adapters.ledger import LedgerRepository, ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.contracts import PurchaseLine, ReceiptAccepted, Shopper
from loyalty.domain import postings
from loyalty.domain.earning import purchase_credit
from loyalty.domain.keyed import Keyed
from loyalty.domain.ledger import Kind, referrer_bonus_entry
from loyalty.domain.program import Program
from loyalty.domain.receipt import normalise_one
from loyalty.domain.wallet import Step, Wallet
from loyalty.observability import metrics
from loyalty.settings import PointAccrualSettings
from loyalty.wiring.accrual import point_accrual
from loyalty_tools.local.receipts import marketplace_receipt, shop_receipt
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.receipt_cli import Tables, explanation, read_member
from tests.conftest import TEST_PROGRAM
from tests.integration.conftest import accepted_only, bodies

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SUPPLIER, BRAND_INN = "7700000024", "7700000017"
# (name, GTIN, category): two catalog goods with marking codes, one known by name, and a stranger's goods
GOODS = [("Тест-Бренд крем для рук 50 мл", "04601234567893", "care"),
         ("Тест-Бренд сыворотка для лица 30 мл", "04601234567800", "face"),
         ("Тест-Бренд маска тканевая", None, "mask"), ("Хлеб бородинский", None, None)]
_ids = itertools.count(1)
_examples = itertools.count()

percents = st.decimals(min_value=0, max_value=25, places=1)


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(TEST_PROGRAM.read_text(encoding="utf-8"))
    document["brand"]["catalog"] = [{"name": name, "gtin": gtin, "category": category}
                                    for name, gtin, category in GOODS[:3]]
    levels = [{"id": f"level{index}", "title": f"Уровень {index}", "percent": str(draw(percents)),
               "perks": [], **({"entry": [{"receipts": draw(st.integers(1, 4))}]} if index else {})}
              for index in range(draw(st.integers(0, 3)))]
    rules = []
    for target in draw(st.lists(st.sampled_from([("category", "care"), ("category", "face"), ("category", "mask"),
                                                  ("gtin", GOODS[0][1]), ("gtin", GOODS[1][1])]),
                                unique=True, max_size=3)):
        rule = draw(st.one_of(st.fixed_dictionaries({"accrual_multiplier": st.decimals(0, 3, places=2).map(str)}),
                              st.fixed_dictionaries({"accrual_points": st.integers(0, 50)})))
        rules.append({target[0]: target[1], **rule})
    caps = {name: value for name, value in (("per_day", draw(st.none() | st.integers(1, 400))),
                                            ("per_month", draw(st.none() | st.integers(1, 1500)))) if value}
    document["earning"] = {
        "base_percent": str(draw(percents)), "goods": rules, "caps": caps,
        "pending_days": draw(st.dictionaries(st.sampled_from(["marketplace", "retail", "d2c", "other", "wildberries",
                                                              "default"]), st.integers(0, 20), max_size=4)),
        "expiry": draw(st.fixed_dictionaries({}, optional={"after_days": st.integers(1, 400),
                                                           "end_of": st.sampled_from(["month", "year"])})),
    }
    document["levels"] = levels
    document["bonuses"] = {"referred": draw(st.integers(0, 300)), "referrer": draw(st.integers(0, 300))}
    document["receipts"] = {"max_age_days": 30}
    return document


lines = st.lists(st.tuples(st.sampled_from(GOODS), st.integers(1, 400_000), st.integers(1, 3)), min_size=1,
                 max_size=4)


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    where = draw(st.sampled_from(["wildberries", "golden_apple", "d2c", "unlisted"]))
    goods, fd = draw(lines), next(_ids)
    issued_at = NOW - timedelta(hours=draw(st.integers(1, 200)))
    if where in ("wildberries", "unlisted"):
        seller: dict[str, dict[str, Any]] = {
            "wildberries": {}, "unlisted": {"seller_inn": "7800000003", "retail_place": "agregator.example"}}
        return marketplace_receipt(SUPPLIER, [(name, price, qty) for (name, _, _), price, qty in goods], fd=fd,
                                   fn="7380440800000055", issued_at=issued_at, **seller[where])
    seller_inn = BRAND_INN if where == "d2c" else "6671156423"
    return shop_receipt(seller_inn, "Продавец", "магазин", [(name, price, qty, gtin) for (name, gtin, _), price, qty
                                                          in goods], fd=fd, fn="7380440800000062", issued_at=issued_at)


members = st.fixed_dictionaries({
    "earlier": st.lists(st.tuples(st.integers(0, 45), st.integers(100, 300_000)), max_size=4),  # (days ago, kopecks)
    "debt": st.integers(0, 400),
    "invited": st.booleans(),
})


def prepare(program: Program, state: dict[str, Any]) -> tuple[str, str | None]:
    """A member with that history, written through the ledger as the flows write it."""
    member_id = f"p{next(_ids)}"
    inviter: str | None = None
    if state["invited"]:
        inviter = f"p{next(_ids)}"
        MembersRepository("MembersTable").join(inviter, 1, "ru")
    MembersRepository("MembersTable").join(member_id, 2, "ru", referred_by=inviter)
    books = ledger_for(program, "LedgerTable", "MembersTable")
    for number, (days_ago, kopecks) in enumerate(sorted(state["earlier"], reverse=True)):
        when, lot = NOW - timedelta(days=days_ago, minutes=5), f"receipt#earlier{number}"
        line = [PurchaseLine(name=GOODS[0][0], sum_kopecks=kopecks, gtin=GOODS[0][1], category="care")]
        books.apply(member_id, lot, Kind.ACCRUAL, bought(lot, line, kopecks, when), now=when)
    if state["debt"]:
        before = NOW - timedelta(minutes=1)
        books.apply(member_id, "refund#earlier", Kind.REFUND, lambda wal: postings.refund(
            wal, "receipt#earlier0", wal.balance.points + state["debt"], 0, False, before), now=before)
    return member_id, inviter



def bought(lot: str, lines: list[PurchaseLine], kopecks: int, when: datetime) -> Callable[[Wallet], Step]:
    """An earlier purchase at Ozon, as the ledger applies it."""
    program = load_program(TEST_PROGRAM)
    return lambda wal: postings.purchase(program, wal, lot, purchase_credit(program, wal, lines, "ozon", "marketplace",
                                                                            when), kopecks, "Ozon")

@given(document=programs(), raw=receipts(), state=members)
def check_explain_equals_credit(stack: LocalStack, document: dict[str, Any], raw: dict[str, Any],
                                 state: dict[str, Any]) -> None:
    # Empty tables every 50 examples: moto copies every table on each transaction, so examples would slow down
    # (and its memory grow, to 10 GB over the deep profile) as the tables filled; that is moto's cost, not ours.
    if next(_examples) % 50 == 0:
        stack.reset()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as file:
        yaml.safe_dump(json.loads(json.dumps(document)), file, allow_unicode=True)
    program = load_program(file.name)
    member_id, inviter = prepare(program, state)
    receipt = normalise_one(raw)

    said = explanation(receipt, program, NOW, read_member(member_id, Tables()))

    accrual = point_accrual(PointAccrualSettings.model_validate({
        **stack.functions.environment("PointAccrualFunction"), "PROGRAM_FILE": file.name}))()
    check, queue = accepted_only(stack, file.name)
    check.settle(Shopper(member_id=member_id, chat_id=2, language="ru"), receipt, f"prop:{member_id}", NOW)
    accepted = [command for command in queue.messages if isinstance(command, ReceiptAccepted)]
    bodies(stack, "OutboxQueue")
    Path(file.name).unlink()
    if said["decision"] == "reject":
        assert accepted == [] and said["points"] == 0
        metrics.clear_metrics()
        return
    (command,) = accepted
    entry = accrual.accrue(command, NOW).entry
    credit, details = said["credit"], entry.details
    assert said["points"] == credit["points"]
    assert entry.points == credit["points"] - credit["debt_paid"]  # what pays off debt is not a new point
    assert (details.credited, details.earned, details.capped) == (
        credit["points"], credit["earned"], credit["earned"] - credit["points"])
    assert (details.available_at, details.expires_at, details.debt_paid) == (
        datetime.fromisoformat(credit["available_at"]),
        credit["expires_at"] and datetime.fromisoformat(credit["expires_at"]), credit["debt_paid"])
    assert (Decimal(details.percent or "-1"), details.level) == (Decimal(credit["percent"]), credit["level_after"])
    books = LedgerRepository("LedgerTable", "MembersTable")
    referred, referrer = books.entry(member_id, "bonus#referred"), inviter and books.entry(
        inviter, referrer_bonus_entry(Keyed(lambda: stack.stack_key).marker("member", member_id)))
    if credit["referral"]:
        assert (referred and referred.details.credited, referrer and referrer.details.credited) == (
            credit["referral"]["referred"] or None, credit["referral"]["referrer"] or None)
    else:
        assert referred is None and not referrer
    bodies(stack, "OutboxQueue")
    metrics.clear_metrics()  # what the handler's log_metrics does at the end of each invocation


def test_what_explain_says_a_receipt_earns_is_what_the_ledger_credits(stack: LocalStack) -> None:
    settings(max_examples=settings().max_examples // 4 or 1, deadline=None,
             suppress_health_check=list(HealthCheck))(check_explain_equals_credit)(stack)
