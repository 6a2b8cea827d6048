"""The daily figures on the local stack: generated books written to the tables, FiguresFunction reading their
streams as Lambda would, and what it kept equals what a scan of the books computes — for every day, every figure.
A batch delivered again counts once; a record no model reads is parked with its reason; `loyalty figures verify`
finds figures that drifted from the books and `loyalty figures backfill` rebuilds them."""

import functools
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty.adapters.bot_table import BotTable
from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.figures_table import FiguresTable
from loyalty.adapters.ledger import LedgerRepository, ledger_for
from loyalty.adapters.program_file import load_program
from loyalty.adapters.queues import DeadLetterQueue
from loyalty.domain.conversation import FollowUp
from loyalty.domain.daily import NO_PAST, Past, day_of
from loyalty.domain.details import Details
from loyalty.domain.facts import Facts
from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.wallet import Balance, Step, Wallet
from loyalty.domain.wallet import credit as credit_lot
from loyalty.flows.figures import Change, FigureKeeper
from loyalty_tools.local.stack import LocalStack
from loyalty_tools.report_cli import Tables, all_stored, scanned
from tests.conftest import TEST_PROGRAM, worker_stack
from tests.integration.conftest import drain

TABLES = Tables(members="MembersTable", ledger="LedgerTable", campaigns="CampaignsTable", bot="BotTable",
                figures="FiguresTable")
START = datetime(2025, 12, 1, 9, tzinfo=UTC)
CHANNELS = ("wildberries", "ozon", "d2c", "golden_apple")


@pytest.fixture
def stack(aws_env: Path) -> Iterator[LocalStack]:
    yield worker_stack().redeploy(receipts_dir=aws_env, program_file=TEST_PROGRAM, event_sources=True,
                                  retry_base_seconds=0)


def entry(member: str, entry_id: str, kind: Kind, at: datetime, points: int = 0, pending: bool = False,
          **details: Any) -> Entry:
    change = Balance(pending=points) if pending else Balance(available=points)
    return Entry(member_id=member, entry_id=entry_id, kind=kind, points=points, change=change,
                 balance_after=Balance(), created_at=at, details=Details(**details))


def wallet_credit(wal: Wallet, lot: str, points: int, at: datetime) -> Step:
    return credit_lot(wal, lot, points, at, at, None)


def generate_books(stack: LocalStack, members: int, seed: int) -> None:
    """A year of a small program: members joining from several sources, purchases in every channel (some held,
    some refunded), bonuses, orders paid with points, expiry; campaign touches delivered and converted; rated
    surveys; and one member who deleted their account, whose books moved under a pseudonym."""
    rng = random.Random(seed)
    dynamodb, ledger = stack.aws("dynamodb"), LedgerRepository("LedgerTable", "MembersTable")
    for n in range(members):
        member, joined = f"gen-{seed}-{n}", START + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 9))
        via = rng.choice([{"joined_via": "insert:wb"}, {"joined_via": "pack:pack"}, {"referred_by": "gen-0"}, {}])
        erased = n == 0
        dynamodb.put_item(TableName="MembersTable", Item=to_item({
            "member_id": member, "joined_at": joined.isoformat(), "version": 1, **via,
            **({"erased_at": (joined + timedelta(days=200)).isoformat()} if erased else {})}))
        at = joined
        ledger.put_entry(entry(member, "bonus#welcome", Kind.BONUS, at, 100))
        for k in range(rng.randint(0, 7)):
            at += timedelta(days=rng.choice([0, 1, 3, 20, 45, 100]), hours=rng.randint(1, 5))
            channel = rng.choice(CHANNELS)
            held = rng.random() < 0.1
            ledger.put_entry(entry(member, f"receipt#{n}-{k}", Kind.ACCRUAL, at, rng.randint(10, 300), pending=True,
                                   channel=channel, brand_sum_kopecks=rng.randint(100, 9000) * 100,
                                   held_by=["till"] if held else []))
            if held:
                ledger.put_entry(entry(member, f"held#{n}-{k}", Kind.HELD_DECISION, at + timedelta(hours=5),
                                       approved=rng.random() < 0.5, channel=channel, brand_sum_kopecks=5_000))
            if rng.random() < 0.15:
                ledger.put_entry(entry(member, f"refund#{n}-{k}", Kind.REFUND, at + timedelta(days=2), -10,
                                       channel=channel, brand_sum_kopecks=1_000))
        if rng.random() < 0.4:
            ledger.put_entry(entry(member, f"commit#promo:{n}", Kind.COMMIT, at + timedelta(hours=1), spent=50,
                                   order_kopecks=300_000))
        if rng.random() < 0.3:
            ledger.put_entry(entry(member, f"expire#{n}", Kind.EXPIRY, at + timedelta(days=30), -20))
        touch = {"campaign": "winback", "key": f"touch#{member}#1", "member_id": member, "step": 0,
                 "status": "queued", "queued_at": at.isoformat()}
        dynamodb.put_item(TableName="CampaignsTable", Item=to_item(touch))
        dynamodb.put_item(TableName="CampaignsTable", Item=to_item(
            {**touch, "status": "delivered", "delivered_at": (at + timedelta(hours=1)).isoformat()}))
        if rng.random() < 0.5:
            dynamodb.update_item(TableName="CampaignsTable", Key=to_item({"campaign": "winback", "key": touch["key"]}),
                                 UpdateExpression="SET converted_at = :at, revenue_kopecks = :r",
                                 ExpressionAttributeValues=to_item({":at": (at + timedelta(days=1)).isoformat(),
                                                                    ":r": 129_000}))
        bot = BotTable("BotTable")
        bot.schedule(FollowUp(id=f"survey-{member}", member_id=member, kind="survey", name="survey", due_at=at,
                              channel=rng.choice(CHANNELS), goods=["Крем", "Сыворотка"][:rng.randint(1, 2)]))
        bot.rate(f"survey-{member}", rng.randint(1, 5))
        if erased:
            ledger.put_entry(entry(member, "erase#account", Kind.FORFEIT, joined + timedelta(days=200), -50))
            assert CampaignStore("CampaignsTable").forget_member(member, f"anon-{seed}") == 1
            assert ledger.rekey(member, f"anon-{seed}")


def test_the_figures_kept_from_the_streams_equal_the_books_scanned(stack: LocalStack) -> None:
    with stack.as_operator():  # written as an operator would: no function runs meanwhile in this process's environment
        generate_books(stack, members=30, seed=1)
    stack.wait_idle()
    program = load_program(TEST_PROGRAM)
    books = scanned(program, TABLES)
    kept = all_stored("FiguresTable")
    assert sum(tally["receipts:wildberries"] for tally in books.values()) > 0  # the books have something to count
    differ = {day: (kept.get(day), books.get(day)) for day in set(kept) | set(books)
              if kept.get(day) != books.get(day)}
    assert not differ, list(differ.items())[:3]
    assert all(kept[day] == books[day] for day in kept), [day for day in kept if kept[day] != books[day]][:3]
    code, out, err = stack.operator("figures", "verify", "--program", str(TEST_PROGRAM))
    assert code == 0 and "agree" in out, out + err
    code, out, _ = stack.operator("report", "--json", "--since", "2025-12-01", "--until", "2026-12-01",
                                  "--program", str(TEST_PROGRAM))
    code_scan, out_scan, _ = stack.operator("report", "--json", "--scan", "--since", "2025-12-01", "--until",
                                            "2026-12-01", "--program", str(TEST_PROGRAM))
    assert code == code_scan == 0 and json.loads(out) == json.loads(out_scan)
    touches = [from_item(item) for item in stack.aws("dynamodb").scan(TableName="CampaignsTable")["Items"]]
    delivered = [t for t in touches if date(2025, 12, 1) <= day_of(datetime.fromisoformat(t["delivered_at"]))
                 < date(2026, 12, 1)]
    assert len(touches) == 30 and any(t["member_id"].startswith("anon-") for t in touches)  # the erased one's moved
    assert json.loads(out)["figures"]["campaigns"]["winback"]["delivered"] == len(delivered) > 10


def test_purchases_carry_their_members_past_so_the_figures_read_none_and_still_equal_the_books(
        stack: LocalStack) -> None:
    """Each purchase the ledger writes carries its member's past (kept on the member item), so the figures function
    reads no past of its own. A member who bought before pasts were carried has theirs folded from their entries
    at their next purchase, once."""
    program = load_program(TEST_PROGRAM)
    ledger, dynamodb = ledger_for(program, "LedgerTable", "MembersTable"), stack.aws("dynamodb")
    before_reads = stack.moto.counter.snapshot_by_function()  # the figures may run as soon as a record is written
    with stack.as_operator():
        for member in ("carry-1", "carry-2"):
            dynamodb.put_item(TableName="MembersTable", Item=to_item({
                "member_id": member, "joined_at": START.isoformat(), "version": 1}))
        before = entry("carry-2", "receipt#old", Kind.ACCRUAL, START + timedelta(days=3), 30, pending=True,
                       channel="ozon", brand_sum_kopecks=300_000)  # written as the ledger did before pasts
        LedgerRepository("LedgerTable", "MembersTable").put_entry(before)
        dynamodb.update_item(TableName="MembersTable", Key=to_item({"member_id": "carry-2"}),
                             UpdateExpression="SET wallet = :w", ExpressionAttributeValues=to_item({":w": Wallet(
                                 facts=Facts(first_purchase_at=before.created_at)).model_dump_json()}))
        for n, (member, days, channel) in enumerate([("carry-1", 10, "wildberries"), ("carry-1", 11, "d2c"),
                                                     ("carry-1", 40, "ozon"), ("carry-2", 12, "wildberries")]):
            at, lot = START + timedelta(days=days), f"receipt#c{n}"
            ledger.apply(member, lot, Kind.ACCRUAL, functools.partial(wallet_credit, lot=lot, points=50, at=at),
                         Details(channel=channel, brand_sum_kopecks=100_000 * (n + 1)), now=at)
    stack.wait_idle()
    reads = stack.moto.counter.snapshot_by_function() - before_reads
    assert reads[("FiguresFunction", "dynamodb", "BatchGetItem")] == 1  # for the one written before, only
    carried = {item["entry_id"]["S"]: Past.model_validate_json(item["past"]["S"])
               for item in dynamodb.scan(TableName="LedgerTable")["Items"] if "past" in item}
    assert set(carried) == {"receipt#c0", "receipt#c1", "receipt#c2", "receipt#c3"}
    assert carried["receipt#c0"] == NO_PAST and len(carried["receipt#c2"].purchases) == 2
    assert carried["receipt#c3"].purchases == ((day_of(before.created_at), 300_000),)  # folded from the old one
    assert scanned(program, TABLES) == all_stored("FiguresTable")


def test_figures_that_drifted_from_the_books_are_found_and_rebuilt(stack: LocalStack) -> None:
    with stack.as_operator():
        generate_books(stack, members=6, seed=2)
    stack.wait_idle()
    stack.park()  # what a stream that lost records would leave: an entry the figures never saw
    LedgerRepository("LedgerTable", "MembersTable").put_entry(
        entry("gen-2-1", "receipt#lost", Kind.ACCRUAL, datetime(2026, 3, 3, 9, tzinfo=UTC), 10, channel="ozon",
              brand_sum_kopecks=99_900))
    code, out, _ = stack.operator("figures", "verify", "--program", str(TEST_PROGRAM))
    assert code == 1 and "2026-03-03" in out, out
    code, out, err = stack.operator("figures", "backfill", "--program", str(TEST_PROGRAM))
    assert code == 0, err
    code, out, _ = stack.operator("figures", "verify", "--program", str(TEST_PROGRAM))
    assert code == 0, out


def test_a_batch_delivered_again_counts_once_and_a_bad_record_is_parked_with_its_reason(stack: LocalStack) -> None:
    stack.park()
    keeper = FigureKeeper(load_program(TEST_PROGRAM), FiguresTable("FiguresTable"),
                          DeadLetterQueue(stack.template.queue_url("FiguresDeadLetterQueue")))
    joined = [Change(table="members", sequence=str(100 + n), old=None,
                     new={"member_id": f"m{n}", "joined_at": "2026-11-10T10:00:00+00:00", "joined_via": "insert:wb"})
              for n in range(5)]
    assert keeper.keep("members", joined[:3]) == 3
    assert keeper.keep("members", joined[:3]) == 0  # Lambda retried the batch: it was counted
    assert keeper.keep("members", joined) == 2  # a retry that brought more: only those
    bad = Change(table="ledger", sequence="7", old=None, new={"member_id": "m1", "entry_id": "x", "kind": "nonsense",
                                                              "phone": "+79161234567"})
    assert keeper.keep("ledger", [bad]) == 1  # passed over, not retried for ever
    days, total = FiguresTable("FiguresTable").read(datetime(2026, 1, 1).date())
    assert total["joined:insert:wb"] == 5 and sum(t["joined:insert:wb"] for t in days.values()) == 5
    (parked,) = drain(stack, "FiguresDeadLetterQueue")
    body, attributes = parked
    assert "kind" in attributes["reason"] and attributes["table"] == "ledger"
    assert "+7916" not in json.dumps(body, ensure_ascii=False)  # the item's key only: no personal data parked

