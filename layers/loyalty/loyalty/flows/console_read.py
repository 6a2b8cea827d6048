"""The console's changes as every function reads them: the program file's with the everyday changes and the live
campaigns, read at most once a minute. Kept apart from the console's composer (flows/composer.py), so a function
that only reads the console loads none of what composing a campaign needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from loyalty.domain import composer, console, everyday
from loyalty.domain.composer import State
from loyalty.domain.messages import use_brand_texts
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.composer import Made
    from loyalty.domain.everyday import Change
    from loyalty.domain.program import Program


class ConsoleChanges(Protocol):
    """What the functions read of the console (adapters/console_table.py): its campaigns and everyday changes."""

    def all_made(self) -> list[Made]: ...

    def changes(self) -> list[Change]: ...


class ConsoleRead:
    """The console's changes as a function sees them: read at most once a minute in a container. An everyday change
    (a source, a reward, a text, a nudge), an offer launched or a campaign stopped reaches the functions within a
    minute; a receipt or a message costs no request of its own for it. The program stays the same object while
    nothing changed, so what is built on it is built again only after a change."""

    def __init__(self, program: Program, drafts: ConsoleChanges, fresh_for: timedelta = timedelta(minutes=1)):
        self.base = program
        self.drafts = drafts
        self.fresh_for = fresh_for
        self._read_at: datetime | None = None
        self._source: tuple[list[Made], list[Change]] | None = None
        self._program = program

    def program(self, now: datetime) -> Program:
        """The program file's with the console's everyday changes and its live campaigns."""
        self._fresh(now)
        return self._program

    def stopped(self, campaign: str, now: datetime) -> bool:
        """Whether the console stopped `campaign` (a campaign of the program file never is)."""
        self._fresh(now)
        made = self._source[0] if self._source else []
        return any(one.name == campaign and one.state == State.STOPPED for one in made)

    def _fresh(self, now: datetime) -> None:
        if self._read_at is not None and timedelta(0) <= now - self._read_at < self.fresh_for:
            return
        source = (self.drafts.all_made(), self.drafts.changes())
        self._read_at = now
        if source == self._source:
            return
        self._source = source
        try:
            base = everyday.applied(self.base, source[1])
        except console.ChangeRefused as refused:  # a deploy changed the file under them: the file's sections run
            logger.error("the console's changes no longer fit the program file", extra={"reason": refused.reason})
            base = self.base
        self._program = composer.live(base, source[0])
        use_brand_texts(self._program.bot.texts)  # the bot's texts, as the console reworded them
