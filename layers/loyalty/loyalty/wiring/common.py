"""What every function's wiring shares: the stack's key, the CRM feed, the reported ledger, and a flow built on the
program as the console changed it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Generic, TypeVar

from loyalty import clock
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.ledger import ledger_for
from loyalty.adapters.program_file import cached_program
from loyalty.adapters.queues import FifoQueue
from loyalty.adapters.secrets import secret
from loyalty.domain.keyed import Keyed
from loyalty.domain.program import Program
from loyalty.flows.composer import ConsoleRead
from loyalty.flows.crm_feed import CrmFeed, Reported
from loyalty.flows.ports import Ledger

T = TypeVar("T")


def stack_key(secret_name: str) -> Keyed:
    """Ids and markers keyed with the stack's secret (read once per container, when the first one is made)."""
    return Keyed(cache(lambda: secret(secret_name)))


def crm_feed(program: Program, queue_url: str) -> CrmFeed | None:
    """Where changes are reported to the CRM; None when the program syncs none (nothing is queued)."""
    return CrmFeed(FifoQueue(queue_url)) if program.crm.kind != "none" else None


def reported_ledger(program: Program, ledger_table: str, members_table: str, crm_queue_url: str) -> Ledger:
    """The ledger a flow writes through: every entry reported to the CRM in the same step, when there is one."""
    ledger = ledger_for(program, ledger_table, members_table)
    feed = crm_feed(program, crm_queue_url)
    return Reported(ledger, feed) if feed is not None else ledger


class Live(Generic[T]):
    """A flow built on the program as the console changed it (flows/composer.py: ConsoleRead): built again after a
    change, read at most once a minute, so a new source, a restocked reward or a reworded text reaches the function
    within a minute with no deploy. Without the console's table: the program file's, built once."""

    def __init__(self, program_file: str, console_table: str, build: Callable[[Program, ConsoleRead | None], T]):
        base = cached_program(program_file)
        self.read = ConsoleRead(base, ConsoleTable(console_table)) if console_table else None
        self.build = build
        self._program, self._built = base, build(base, self.read)

    def __call__(self) -> T:
        if self.read is not None:
            program = self.read.program(clock.now())
            if program is not self._program:
                self._program, self._built = program, self.build(program, self.read)
        return self._built
