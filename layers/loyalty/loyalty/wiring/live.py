"""A flow built on the program as the console changed it, read once a minute."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from loyalty import clock
from loyalty.adapters.console_table import ConsoleTable
from loyalty.adapters.program_file import cached_program
from loyalty.flows.console_read import ConsoleRead

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.settings import ProgramFiles

T = TypeVar("T")


def program_of(settings: ProgramFiles) -> Program:
    """The function's program file, from the build's snapshot where it has one (adapters/program_file.py)."""
    return cached_program(settings.PROGRAM_FILE, settings.PROGRAM_SNAPSHOT)


class Live(Generic[T]):
    """A flow built on the program as the console changed it (flows/console_read.py): built again after a
    change, read at most once a minute, so a new source, a restocked reward or a reworded text reaches the function
    within a minute with no deploy. Without the console's table: the program file's, built once."""

    def __init__(self, base: Program, console_table: str, build: Callable[[Program, ConsoleRead | None], T]):
        self.read = ConsoleRead(base, ConsoleTable(console_table)) if console_table else None
        self.build = build
        self._program, self._built = base, build(base, self.read)

    def __call__(self) -> T:
        if self.read is not None:
            program = self.read.program(clock.now())
            if program is not self._program:
                self._program, self._built = program, self.build(program, self.read)
        return self._built
