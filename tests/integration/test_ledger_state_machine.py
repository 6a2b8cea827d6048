"""A hypothesis state machine drives one member's ledger on moto server with random accruals (pending or
not), holds, commits, releases, refunds, replays and the passing of time (activations, reminders,
expiries, stale holds). After every step the books must balance: no balance below zero, and the stored
balances equal the sum of the ledger entries and the wallet's lots and holds."""

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from hypothesis.strategies._internal.core import DataObject

from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.members import MembersRepository
from loyalty.adapters.program_file import load_program
from loyalty.domain import postings, wallet
from loyalty.domain.errors import DomainError
from loyalty.domain.ledger import Kind, Posting
from loyalty.domain.program import Expiry
from loyalty.domain.wallet import Balance, Step, Wallet
from loyalty_tools.local.stack import LocalStack
from tests.conftest import TEST_PROGRAM, present

BASE = load_program(TEST_PROGRAM)
PROGRAM = BASE.model_copy(update={"earning": BASE.earning.model_copy(
    update={"expiry": Expiry(after_days=30, reminder_days=7)})})
START = datetime(2026, 1, 10, 9, tzinfo=UTC)


class LedgerMachine(RuleBasedStateMachine):
    stack: LocalStack  # set by the test

    def __init__(self) -> None:
        super().__init__()
        # Empty tables for each run: moto copies every table on each transaction, so runs would slow down as
        # the tables filled (that is moto's cost, not the ledger's).
        self.stack.reset()
        self.member = f"sm-{uuid.uuid4().hex[:12]}"
        MembersRepository("MembersTable").join(self.member, 1, "ru")
        self.books = ledger_for(PROGRAM, "LedgerTable", "MembersTable")
        self.now = START
        self.ids = itertools.count()
        self.lots: list[str] = []
        self.holds: list[str] = []
        self.done: list[tuple[str, Kind, Callable[[Wallet], Step]]] = []  # (entry id, kind, step) for replays
        self.credited = 0

    def _apply(self, entry_id: str, kind: Kind, step: Callable[[Wallet], Step]) -> Posting | None:
        try:
            posting = self.books.apply(self.member, entry_id, kind, step, now=self.now)
        except DomainError:
            return None
        self.done.append((entry_id, kind, step))
        return posting

    @rule(points=st.integers(0, 500), pending_days=st.sampled_from([0, 0, 14]))
    def accrue(self, points: int, pending_days: int) -> None:
        lot, now = f"receipt#{next(self.ids)}", self.now
        available_at = now + timedelta(days=pending_days)
        posting = self._apply(lot, Kind.ACCRUAL, lambda wal: wallet.credit(wal, lot, points, now, available_at,
                                                                         now + timedelta(days=30)))
        # applied=False only if botocore retried a write moto had made but answered too slowly: still once.
        assert posting is not None and posting.entry.details.credited == points
        self.lots.append(lot)
        self.credited += points

    @rule(points=st.integers(1, 600))
    def hold(self, points: int) -> None:
        hold_id, now = f"h{next(self.ids)}", self.now
        posting = self._apply(f"hold#{hold_id}", Kind.HOLD,
                              lambda wal: wallet.hold(wal, hold_id, points, now, now + timedelta(minutes=30)))
        if posting is not None:
            self.holds.append(hold_id)

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), commit=st.booleans())
    def settle_hold(self, data: DataObject, commit: bool) -> None:
        hold_id, now = data.draw(st.sampled_from(self.holds)), self.now
        if commit:
            self._apply(f"commit#{hold_id}", Kind.COMMIT, lambda wal: wallet.commit(wal, hold_id, now))
        else:
            self._apply(f"release#{hold_id}", Kind.RELEASE, lambda wal: wallet.release(wal, hold_id, now))

    @precondition(lambda self: self.lots)
    @rule(data=st.data(), points=st.integers(0, 700))
    def refund(self, data: DataObject, points: int) -> None:
        lot, now = data.draw(st.sampled_from(self.lots)), self.now
        entry_id = f"refund#{next(self.ids)}"
        posting = self._apply(entry_id, Kind.REFUND, lambda wal: postings.refund(wal, lot, points, 0, False, now))
        assert posting is not None
        assert posting.details.reversed == points  # taken, or recorded as debt: never lost

    @rule(minutes=st.sampled_from([20, 60, 60 * 24, 60 * 24 * 8, 60 * 24 * 15, 60 * 24 * 31]))
    def time_passes(self, minutes: int) -> None:
        """The schedule runs: what fell due (stale holds, activations, reminders, expiries) is written."""
        self.now += timedelta(minutes=minutes)
        for _ in range(100):
            current, _, _ = self.books.read(self.member)
            actions = postings.due_actions(PROGRAM, current, self.now)
            if not actions:
                break
            assert self._apply(actions[0].entry_id, actions[0].kind, actions[0].apply) is not None
        assert not postings.due_actions(PROGRAM, self.books.read(self.member)[0], self.now)

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def replay(self, data: DataObject) -> None:
        """A redelivery of anything already written changes nothing."""
        entry_id, kind, step = data.draw(st.sampled_from(self.done))
        before = present(MembersRepository("MembersTable").get(self.member))
        posting = self.books.apply(self.member, entry_id, kind, step, now=self.now)
        assert not posting.applied
        after = present(MembersRepository("MembersTable").get(self.member))
        assert (after.available, after.pending, after.held, after.debt, after.version) == (
            before.available, before.pending, before.held, before.debt, before.version)

    @invariant()
    def books_balance(self) -> None:
        member = present(MembersRepository("MembersTable").get(self.member))
        stored = Balance(available=member.available, pending=member.pending, held=member.held, debt=member.debt)
        assert min(stored.available, stored.pending, stored.held, stored.debt) >= 0
        current, _, _ = self.books.read(self.member)
        changes = [entry.change for entry in self.books.entries(self.member)]
        assert wallet.audit(stored, current, changes) == []
        assert stored.available + stored.pending + stored.held <= self.credited  # no point is ever made up


def test_the_ledger_balances_after_every_step(stack: LocalStack) -> None:
    LedgerMachine.stack = stack
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=settings().max_examples // 8 or 1, stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck)))
