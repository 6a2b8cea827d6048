"""The ledger on moto server: concurrent writers, replays, and `loyalty ledger verify`."""

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import deadline
from loyalty.adapters.dynamo import to_item
from loyalty.adapters.ledger import LedgerRepository, ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.contracts import PointsChanged
from loyalty.domain import postings, wallet
from loyalty.domain.errors import Contended, InsufficientPoints
from loyalty.domain.ledger import Kind
from loyalty.domain.wallet import Step, Wallet
from loyalty_tools import ledger_cli
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, present
from tests.integration.conftest import all_at_once

PROGRAM = load_program(TEST_PROGRAM)


def ledger() -> LedgerRepository:
    return ledger_for(PROGRAM, "LedgerTable", "MembersTable")


def verify() -> Any:
    out = io.StringIO()
    code = ledger_cli.verify("MembersTable", "LedgerTable", out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_twenty_threads_crediting_and_holding_on_one_member_lose_and_double_nothing(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("900", 900, "ru")
    books, now = ledger(), datetime.now(UTC)
    held, refused = [], []

    def ten(lot: str) -> Callable[[Wallet], Step]:
        return lambda wal: wallet.credit(wal, lot, 10, now, now, None)

    def seven(hold_id: str) -> Callable[[Wallet], Step]:
        return lambda wal: wallet.hold(wal, hold_id, 7, now, now + timedelta(minutes=30))

    def work(n: int) -> None:
        for round_ in range(3):
            lot = f"receipt#t{n}r{round_}"
            books.apply("900", lot, Kind.ACCRUAL, ten(lot))
            hold_id = f"h{n}r{round_}"
            try:
                books.apply("900", f"hold#{hold_id}", Kind.HOLD, seven(hold_id))
                held.append(hold_id)
            except InsufficientPoints:
                refused.append(hold_id)

    all_at_once(20, work)
    member = present(MembersRepository("MembersTable").get("900"))
    entries = books.entries("900")
    assert len(entries) == 60 + len(held)  # every credit and every successful hold, once
    assert (member.available, member.held) == (600 - 7 * len(held), 7 * len(held))
    assert len(held) == 60 - len(refused)
    code, report = verify()
    assert code == 0 and report[-1] == {"members": 1, "off": 0, "ok": True}


def test_a_member_seen_before_is_written_from_with_no_read_and_a_stale_one_is_mended_by_its_refusal(
        stack: LocalStack) -> None:
    """`seen` (the member as the webhook read them) is the first try: current, the entry goes with no read of the
    member; stale (the wallet changed since), the refusal brings the item as it is, and the step is judged on that
    one: a hold the stale wallet could not pay goes through on the points credited since."""
    members, books, now = MembersRepository("MembersTable"), ledger(), datetime.now(UTC)
    members.join("905", 905, "ru")

    def credit(lot: str, points: int) -> Callable[[Wallet], Step]:
        return lambda wal: wallet.credit(wal, lot, points, now, now, None)

    def member_reads() -> int:
        return stack.moto.counter.snapshot()[("functions", "dynamodb", "GetItem")]

    seen, before = present(members.get("905")).seen(), member_reads()
    assert books.apply("905", "receipt#s1", Kind.ACCRUAL, credit("receipt#s1", 10), seen=seen).applied
    assert member_reads() == before  # written from what was seen
    books.apply("905", "receipt#s2", Kind.ACCRUAL, credit("receipt#s2", 20))  # meanwhile, another writer
    stale, before = seen, member_reads()  # from before both: 0 points
    credited = books.apply("905", "receipt#s3", Kind.ACCRUAL, credit("receipt#s3", 5), seen=stale)
    assert credited.applied and credited.entry.balance_after.available == 35  # on the wallet as it is, not as seen
    assert member_reads() == before  # the refusal brought it: no read
    hold = books.apply("905", "hold#s4", Kind.HOLD, lambda wal: wallet.hold(wal, "s4", 35, now, now), seen=stale)
    assert hold.applied and (hold.entry.balance_after.available, hold.entry.balance_after.held) == (0, 35)
    assert member_reads() == before + 1  # the stale wallet could not pay it: judged again on one read
    code, report = verify()
    assert code == 0 and report[-1]["ok"]


def test_verify_names_the_member_whose_balance_was_changed_behind_the_ledger(stack: LocalStack) -> None:
    books, now = ledger(), datetime.now(UTC)
    for member in ("901", "902"):
        MembersRepository("MembersTable").join(member, int(member), "ru")
        books.apply(member, "bonus#welcome", Kind.BONUS,
                    lambda wal: postings.bonus(PROGRAM, wal, "bonus#welcome", 100, "приветственный бонус", now))
    assert verify()[0] == 0
    stack.aws("dynamodb").update_item(TableName="MembersTable", Key=to_item({"member_id": "902"}),
                                      UpdateExpression="SET available = :x",
                                      ExpressionAttributeValues=to_item({":x": 150}))
    code, report = verify()
    assert code == 1
    assert report[0]["member_id"] == "902"
    assert report[0]["problems"] == ["available: stored 150, ledger entries sum to 100, wallet says 100"]
    assert report[-1] == {"members": 2, "off": 1, "ok": False}


def test_a_manual_adjustment_keeps_the_reason_applies_once_and_never_takes_more_than_is_there(
        stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("903", 903, "ru")
    out = io.StringIO()
    for _ in range(2):
        assert ledger_cli.adjust("MembersTable", "LedgerTable", TEST_PROGRAM, "903", 50, "компенсация за задержку",
                                 "TICKET-7", out=out) == 0
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert (first["applied"], second["applied"], second["balance"]["available"]) == (True, False, 50)
    (entry,) = ledger().entries("903")
    assert entry.details.reason == "компенсация за задержку" and entry.kind == "adjustment"
    out = io.StringIO()
    assert ledger_cli.adjust("MembersTable", "LedgerTable", TEST_PROGRAM, "903", -80, "ошибка", "TICKET-8",
                             out=out) == 1
    assert json.loads(out.getvalue())["reason"] == "insufficient_points"


def test_a_replayed_hold_returns_the_first_hold_even_when_the_points_are_gone(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("904", 904, "ru")
    books, now = ledger(), datetime.now(UTC)
    books.apply("904", "receipt#a", Kind.ACCRUAL, lambda wal: wallet.credit(wal, "receipt#a", 100, now, now, None))
    place = lambda wal: wallet.hold(wal, "k1", 100, now, now + timedelta(minutes=30))  # noqa: E731
    first = books.apply("904", "hold#k1", Kind.HOLD, place)
    for _ in range(2):  # nothing is left to hold, yet the replay is recognised, not refused
        again = books.apply("904", "hold#k1", Kind.HOLD, place)
        assert (again.applied, again.entry.entry_id, again.points) == (False, "hold#k1", first.points)
    assert present(MembersRepository("MembersTable").get("904")).held == 100


def test_a_writer_that_keeps_losing_gives_up_retryably_before_the_invocation_ends(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("903", 903, "ru")
    dynamodb, now = stack.aws("dynamodb"), datetime.now(UTC)

    def meddled(wal: Wallet) -> Step:  # another writer changes the wallet every time this one has read it
        dynamodb.update_item(TableName="MembersTable", Key=to_item({"member_id": "903"}),
                             UpdateExpression="SET version = version + :one",
                             ExpressionAttributeValues=to_item({":one": 1}))
        return wallet.credit(wal, "receipt#x", 10, now, now, None)

    began = time.monotonic()
    with deadline.running_for(3.0), pytest.raises(Contended, match="kept changing"):
        ledger().apply("903", "receipt#x", Kind.ACCRUAL, meddled, now=now)
    assert 1.0 < time.monotonic() - began < 2.5  # it stopped with the margin left to report the failure
    assert ledger().entry("903", "receipt#x") is None
    assert present(MembersRepository("MembersTable").get("903")).available == 0


def test_a_manual_adjustment_reaches_the_crm_like_any_balance_change(stack: LocalStack) -> None:
    """With the shipped program (Mindbox), the operator's correction is reported on the stack's CrmQueue."""
    from loyalty.contracts import CrmBatch
    from tests.conftest import ROOT
    from tests.integration.conftest import drain

    MembersRepository("MembersTable").join("904", 904, "ru")
    assert ledger_cli.adjust("MembersTable", "LedgerTable", ROOT / "program" / "program.yaml", "904", 50,
                             "компенсация", "TICKET-9", out=io.StringIO()) == 0
    ((body, _),) = drain(stack, "CrmQueue")
    (event,) = CrmBatch.model_validate(body).events
    assert isinstance(event, PointsChanged)
    assert (event.type, event.kind, event.points, event.member_id) == ("points_changed", "adjustment", 50, "904")
