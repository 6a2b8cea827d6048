"""/delete on the ledger's side, on moto: written off once, moved to the pseudonym whole, finished by a repeat after a
crash half-way, and never applied to a member who came back in between."""

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import yaml

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.dynamo import from_item, to_item
from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.members import MembersRepository
from loyalty.domain import postings, wallet
from loyalty.domain.ledger import Kind
from loyalty.domain.program import Program
from loyalty.flows.erasure import Erasure
from loyalty_tools import ledger_cli
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, present

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def member_with_points(member_id: str) -> tuple[MembersRepository, LedgerRepository]:
    program = Program.model_validate(yaml.safe_load(TEST_PROGRAM.read_text(encoding="utf-8")))
    members, books = MembersRepository("MembersTable"), LedgerRepository("LedgerTable", "MembersTable")
    members.join(member_id, int(member_id), "ru")
    members.save_phone(member_id, f"+7916{member_id:0>7}")
    books.apply(member_id, "bonus#welcome", Kind.BONUS,
                lambda wal: postings.bonus(program, wal, "bonus#welcome", 300, "welcome", NOW), now=NOW)
    books.apply(member_id, "hold#promo:1", Kind.HOLD,  # a promo code given out, not used yet
                lambda wal: wallet.hold(wal, "promo:1", 100, NOW, NOW + timedelta(days=30), code="ABC"), now=NOW)
    return members, books


def erasure(books: LedgerRepository) -> Erasure:
    return Erasure(books, books, ReceiptClaims("ReceiptClaimsTable", "MembersTable"), MembersRepository("MembersTable"))


def items(stack: LocalStack, table: str) -> list[dict[str, str]]:
    return [from_item(item) for item in stack.aws("dynamodb").scan(TableName=table)["Items"]]


def test_an_erased_member_is_written_off_once_and_moved_whole_even_after_a_crash(stack: LocalStack) -> None:
    members, books = member_with_points("951")
    stack.aws("dynamodb").put_item(TableName="ReceiptClaimsTable", Item=to_item(
        {"fiscal_key": "fn:1:fp", "member_id": "951", "claimed_at": "2026-12-01T09:00:00.000+00:00"}))
    members.erase("951")
    pseudonym = present(present(members.get("951")).anonymous_id)
    members.erase("951")  # a repeated /delete keeps the first pseudonym
    assert present(members.get("951")).anonymous_id == pseudonym and pseudonym.startswith("erased-")

    real_rekey = books.rekey
    monkeypatch_rekey(books, lambda member_id, to: False)  # the function dies after the write-off and the claims
    erasure(books).erase("951", NOW)
    monkeypatch_rekey(books, real_rekey)
    assert erasure(books).erase("951", NOW) == pseudonym  # the redelivered message finishes the move
    assert erasure(books).erase("951", NOW) is None  # and a third delivery finds nothing to do

    assert members.get("951") is None and books.entries("951") == []
    moved = present(members.get(pseudonym))
    assert (moved.available, moved.pending, moved.held, moved.phone, moved.chat_id) == (0, 0, 0, None, None)
    kinds = [entry.kind for entry in books.entries(pseudonym)]
    assert sorted(kinds) == ["bonus", "forfeit", "hold"]  # one write-off, the history kept
    forfeit = next(entry for entry in books.entries(pseudonym) if entry.kind == "forfeit")
    # The promo code's hold released (its code pays nothing now), then all 300 written off.
    assert (forfeit.change.available, forfeit.change.held) == (-200, -100)
    assert [claim["member_id"] for claim in items(stack, "ReceiptClaimsTable")] == [pseudonym]
    out = io.StringIO()
    assert ledger_cli.verify("MembersTable", "LedgerTable", out) == 0, out.getvalue()


def test_a_member_who_came_back_before_the_move_is_left_alone(stack: LocalStack) -> None:
    members, books = member_with_points("952")
    members.erase("952")
    members.save_phone("952", "+79160000952")  # back in the bot and joined again before the queue got to it
    assert erasure(books).erase("952", NOW) is None
    assert present(members.get("952")).available == 200 and books.entries("952")


def monkeypatch_rekey(books: LedgerRepository, rekey: Callable[[str, str], bool]) -> None:
    """Swap the repository's rekey (a function that dies half-way, or the real one back)."""
    setattr(books, "rekey", rekey)  # noqa: B010 (mypy forbids assigning to a method)
