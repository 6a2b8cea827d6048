"""The figures function (DynamoDB Streams of the ledger, members, campaigns and bot tables): each batch of
changes folded into day tallies (domain/daily.py) and added to the figures table once.

Exactly once: a batch's tallies and a marker naming its first and last record are written in one transaction; a
batch delivered again (Lambda retries a stream's batch from its first record) finds the marker and adds only what
came after it. A record that cannot be counted (an item no model reads) is parked in the dead-letter queue with
the reason; the others are counted, and the stream moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import ValidationError

from loyalty.domain.daily import (
    DAYS_PER_WRITE,
    Tally,
    changed,
    entry_days,
    fold,
    member_tally,
    rating_tally,
    touch_tally,
)
from loyalty.domain.ledger import Entry, Kind
from loyalty.domain.program import Program
from loyalty.observability import logger, metrics


@dataclass(frozen=True)
class Change:
    """One stream record: which table, its place in the stream, the item before and after (None: absent)."""

    table: str  # ledger | members | campaigns | bot
    sequence: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


class FiguresStore(Protocol):
    def applied_up_to(self, stream: str, first: str) -> str | None: ...
    def apply_once(self, stream: str, first: str, last: str, days: Mapping[date, Tally]) -> bool: ...


class Purchases(Protocol):
    def entries(self, member_id: str) -> list[Entry]: ...


class Parking(Protocol):
    def park(self, body: str, reason: str, group: str | None = None, **context: str) -> None: ...


class FigureKeeper:
    def __init__(self, program: Program, store: FiguresStore, ledger: Purchases, parked: Parking):
        self.program = program
        self.store = store
        self.ledger = ledger
        self.parked = parked
        self._tallies: dict[str, Callable[[Change], dict[date, Tally]]] = {
            "ledger": self._entry, "members": _diff(member_tally), "campaigns": _diff(touch_tally),
            "bot": _diff(rating_tally)}

    def keep_all(self, streams: Mapping[str, Sequence[Change]]) -> int:
        return sum(self.keep(stream, changes) for stream, changes in streams.items())

    def keep(self, stream: str, changes: Sequence[Change]) -> int:
        """Count a batch of one stream's records, in stream order; how many were counted now (not before)."""
        pending, counted = list(changes), 0
        while pending:
            done = self.store.applied_up_to(stream, pending[0].sequence)
            if done is not None:  # a delivery before got this far
                pending = [change for change in pending if int(change.sequence) > int(done)]
                continue
            chunk, days = self._chunk(pending)
            if self.store.apply_once(stream, chunk[0].sequence, chunk[-1].sequence, days):
                counted += len(chunk)
                pending = pending[len(chunk):]
        metrics.add_metric(name="FigureChanges", unit="Count", value=counted)
        return counted

    def _chunk(self, pending: list[Change]) -> tuple[list[Change], dict[date, Tally]]:
        """The records from the first on whose tallies touch at most DAYS_PER_WRITE days (always one at least)."""
        days: dict[date, Tally] = {}
        taken: list[Change] = []
        for change in pending:
            tallies = self._tally(change)
            if taken and len(set(days) | set(tallies)) > DAYS_PER_WRITE:
                break
            for day, tally in tallies.items():
                fold(days, day, tally)
            taken.append(change)
        return taken, days

    def _tally(self, change: Change) -> dict[date, Tally]:
        try:
            return self._tallies[change.table](change)
        except (ValidationError, ValueError, TypeError, KeyError) as error:
            reason = f"{type(error).__name__}: {error}"
            logger.error("stream record not counted", extra={"table": change.table, "sequence": change.sequence,
                                                            "reason": reason[:500]})
            self.parked.park(repr({"old": change.old, "new": change.new})[:200_000], reason, None,
                             table=change.table, sequence=change.sequence)
            return {}

    def _entry(self, change: Change) -> dict[date, Tally]:
        """A new ledger entry. Entries never change once written; an erased member's move under a pseudonym
        (`moved`) copies entries already counted and deletes them under the old key, which counts nothing."""
        if change.old is not None or change.new is None or change.new.get("moved"):
            return {}
        entry = Entry.model_validate(change.new)
        earlier: list[Entry] = []
        if entry.kind == Kind.ACCRUAL:
            earlier = [e for e in self.ledger.entries(entry.member_id) if e.kind == Kind.ACCRUAL]
            if not any(e.entry_id == entry.entry_id for e in earlier):
                logger.warning("purchase counted without its member's earlier ones: the books moved since",
                               extra={"entry_id": entry.entry_id})
        return entry_days(self.program, entry, earlier)


def _diff(tally: Callable[[Mapping[str, Any] | None], dict[date, Tally]]) -> Callable[[Change], dict[date, Tally]]:
    """An item's tallies after the change less its tallies before: what the change counts."""
    return lambda change: changed(tally(change.old), tally(change.new))
