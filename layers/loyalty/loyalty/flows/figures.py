"""The figures function (DynamoDB Streams of the ledger, members, campaigns and bot tables): each batch of
changes folded into day tallies (domain/daily.py) and added to the figures table once.

Exactly once: a batch's tallies and a marker naming its first and last record are written in one transaction; a
batch delivered again (Lambda retries a stream's batch from its first record) finds the marker and adds only what
came after it. A record that cannot be counted (an item no model reads) is parked in the dead-letter queue with
the reason; the others are counted, and the stream moves on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from loyalty.domain.daily import (
    DAYS_PER_WRITE,
    NO_PAST,
    Past,
    Tally,
    changed,
    entry_days,
    fold,
    member_tally,
    rating_tally,
    touch_tally,
)
from loyalty.domain.ledger import Entry, Kind
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.program import Program


@dataclass(frozen=True)
class Change:
    """One stream record: which table, its place in the stream, the item before and after (None: absent)."""

    table: str  # ledger | members | campaigns | bot
    sequence: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


_KEYS = {"ledger": ("member_id", "entry_id"), "members": ("member_id",), "campaigns": ("campaign", "key"),
         "bot": ("pk", "sk")}


class FiguresStore(Protocol):
    def applied_up_to(self, stream: str, first: str) -> str | None: ...
    def pasts(self, member_ids: Iterable[str]) -> dict[str, Past]: ...
    def apply_once(self, stream: str, first: str, last: str, days: Mapping[date, Tally],
                   pasts: Mapping[str, Past | None]) -> bool: ...


class Parking(Protocol):
    def park(self, body: str, reason: str, group: str | None = None, **context: str) -> None: ...


class FigureKeeper:
    def __init__(self, program: Program, store: FiguresStore, parked: Parking):
        self.program = program
        self.store = store
        self.parked = parked
        self._tallies: dict[str, Callable[[Change], dict[date, Tally]]] = {
            "members": _diff(member_tally), "campaigns": _diff(touch_tally), "bot": _diff(rating_tally)}

    def keep_all(self, streams: Mapping[str, Sequence[Change]]) -> int:
        return sum(self.keep(stream, changes) for stream, changes in streams.items())

    def keep(self, stream: str, changes: Sequence[Change]) -> int:
        """Count a batch of one stream's records, in stream order; how many were taken now (not by a delivery
        before), those that changed nothing included."""
        pending, counted = list(changes), 0
        while pending:
            chunk, days, pasts = self._chunk(pending)
            # Nothing these records change (a touch queued, a letter rated before) needs no write; the rest is
            # written unless a delivery before wrote it. Only then is its marker read: how far that one got.
            if (days or pasts) and not self.store.apply_once(stream, chunk[0].sequence, chunk[-1].sequence, days,
                                                             pasts):
                done = self.store.applied_up_to(stream, chunk[0].sequence)
                if done is None:
                    raise RuntimeError(f"figures of {stream} from {chunk[0].sequence}: refused, yet no marker")
                pending = [change for change in pending if int(change.sequence) > int(done)]
                continue
            counted += len(chunk)
            pending = pending[len(chunk):]
        logger.info("figures kept", extra={"stream": stream, "records": len(changes), "counted": counted})
        return counted

    def _chunk(self, pending: list[Change]) -> tuple[list[Change], dict[date, Tally], dict[str, Past | None]]:
        """The records from the first on whose tallies touch at most DAYS_PER_WRITE days and members' pasts
        together (always one at least); and the pasts they leave (None: forgotten, the account was deleted)."""
        known = self.store.pasts({member for change in pending if (member := _past_to_read(change))})
        days: dict[date, Tally] = {}
        pasts: dict[str, Past | None] = {}
        taken: list[Change] = []
        for change in pending:
            tallies, past = self._tally(change, {**known, **pasts})
            touched = set(days) | set(tallies), set(pasts) | set(past)
            if taken and len(touched[0]) + len(touched[1]) > DAYS_PER_WRITE:
                break
            for day, tally in tallies.items():
                fold(days, day, tally)
            pasts.update(past)
            taken.append(change)
        return taken, days, pasts

    def _tally(self, change: Change, pasts: Mapping[str, Past | None]) -> tuple[dict[date, Tally],
                                                                                  dict[str, Past | None]]:
        try:
            if change.table == "ledger":
                return self._entry(change, pasts)
            return self._tallies[change.table](change), {}
        except (ValidationError, ValueError, TypeError, KeyError) as error:
            reason = f"{type(error).__name__}: {error}"
            logger.error("stream record not counted", extra={"table": change.table, "sequence": change.sequence,
                                                            "reason": reason[:500]})
            item = change.new or change.old or {}  # its key only: a member's item holds their phone
            self.parked.park(json.dumps({key: str(item.get(key)) for key in _KEYS[change.table]}), reason, None,
                             table=change.table, sequence=change.sequence)
            return {}, {}

    def _entry(self, change: Change, pasts: Mapping[str, Past | None]) -> tuple[dict[date, Tally],
                                                                                dict[str, Past | None]]:
        """A new ledger entry, with what its member's purchases so far tell (their Past): a purchase carries it (the
        ledger keeps it on the member: adapters/ledger.py), one written before it did has it from the figures table.
        Entries never change once written; an erased member's move under a pseudonym (`moved`) copies entries
        already counted and deletes them under the old key, which counts nothing. Deleting the account forgets the
        member's past."""
        if change.old is not None or change.new is None or change.new.get("moved"):
            return {}, {}
        entry = Entry.model_validate(change.new)
        carried = change.new.get("past")
        past = Past.model_validate_json(carried) if carried else pasts.get(entry.member_id)
        days = entry_days(self.program, entry, past)
        if entry.kind == Kind.ACCRUAL and not carried:
            return days, {entry.member_id: (past or NO_PAST).after(self.program, entry)}
        if entry.kind == Kind.FORFEIT:
            return days, {entry.member_id: None}
        return days, {}


def _past_to_read(change: Change) -> str | None:
    """The member whose past is read from the figures table for this record: a purchase's written before purchases
    carried their past (None: nobody's)."""
    new = change.new
    if (change.table == "ledger" and change.old is None and new is not None and "member_id" in new
            and new.get("kind") == Kind.ACCRUAL and "past" not in new and not new.get("moved")):
        return str(new["member_id"])
    return None


def _diff(tally: Callable[[Mapping[str, Any] | None], dict[date, Tally]]) -> Callable[[Change], dict[date, Tally]]:
    """An item's tallies after the change less its tallies before: what the change counts."""
    return lambda change: changed(tally(change.old), tally(change.new))
