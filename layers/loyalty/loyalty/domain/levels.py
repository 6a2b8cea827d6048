"""Levels: which one a member has earned, and when a level is re-checked and may go down.

A member moves up as soon as an entry condition of a higher level holds (checked on every ledger change).
A level with `downgrade_every_days: N` is re-checked every N days on the last N days' activity, and the
member keeps it only if it still holds; a level without it is never lost, so it is also the floor a
downgrade stops at.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from loyalty.domain.points import moscow_day

if TYPE_CHECKING:
    from loyalty.domain.program import Condition, Level, Program
    from loyalty.domain.wallet import Wallet

Move = Literal["up", "down", "kept"]


def holds(condition: Condition, wallet: Wallet, now: datetime, window_days: int | None = None) -> bool:
    days = [d for d in (condition.within_days, window_days) if d is not None]
    since = moscow_day(now - timedelta(days=min(days) - 1)) if days else ""
    done = wallet.counted(since)
    return (done.receipts >= condition.receipts and done.spend_kopecks >= condition.spend_roubles * 100
            and done.reviews >= condition.reviews)


def earned(program: Program, wallet: Wallet, now: datetime, window_days: int | None = None) -> int:
    """Index of the highest level whose entry holds (0, the first level, always does)."""
    best = 0
    for index, level in enumerate(program.levels[1:], start=1):
        if any(holds(condition, wallet, now, window_days) for condition in level.entry):
            best = index
    return best


def current_index(program: Program, wallet: Wallet) -> int:
    return next((i for i, level in enumerate(program.levels) if level.id == wallet.level), 0)


def review_due(program: Program, wallet: Wallet) -> datetime | None:
    """When the member's level is next re-checked (None: it is never lost)."""
    if not program.levels or wallet.level_since is None:
        return None
    level = program.levels[current_index(program, wallet)]
    if level.downgrade_every_days is None:
        return None
    return (wallet.level_checked_at or wallet.level_since) + timedelta(days=level.downgrade_every_days)


def evaluate(program: Program, wallet: Wallet, now: datetime) -> tuple[Level | None, Move]:
    """The level the member should have now, and how it moved. Downgrades happen only at a due review."""
    if not program.levels:
        return None, "kept"
    index = current_index(program, wallet)
    target = earned(program, wallet, now)
    if target > index or wallet.level is None:
        return program.levels[max(target, index)], "up" if target > index else "kept"
    due = review_due(program, wallet)
    if due is not None and due <= now:
        window = program.levels[index].downgrade_every_days
        ever = earned(program, wallet, now)
        # A level without a downgrade policy, once earned, is a floor: the member never drops below it.
        floor = max((i for i, level in enumerate(program.levels[:ever + 1]) if level.downgrade_every_days is None),
                    default=0)
        kept = max(earned(program, wallet, now, window), floor)
        if kept < index:
            return program.levels[kept], "down"
    return program.levels[index], "kept"


def with_level(wallet: Wallet, level: Level | None, move: Move, now: datetime, reviewed: bool) -> Wallet:
    if level is None:
        return wallet
    if move != "kept" or wallet.level is None:
        return wallet.model_copy(update={"level": level.id, "level_since": now, "level_checked_at": now})
    if reviewed:
        return wallet.model_copy(update={"level_checked_at": now})
    return wallet


class Gap(NamedTuple):
    """The level above the member's, what it still takes ({"receipts": 2, "reviews": 1}, spend as "roubles"), and
    the share of the way already done (0..1), by the entry condition closest to hold."""

    level: Level
    missing: dict[str, int]
    done: float


def next_level_gap(program: Program, wallet: Wallet, now: datetime) -> Gap | None:
    """None at the top level."""
    index = current_index(program, wallet)
    if index + 1 >= len(program.levels):
        return None
    level = program.levels[index + 1]
    gaps = []
    for condition in level.entry:
        since = moscow_day(now - timedelta(days=condition.within_days - 1)) if condition.within_days else ""
        done = wallet.counted(since)
        needed = {"receipts": condition.receipts, "reviews": condition.reviews, "roubles": condition.spend_roubles}
        gap = {"receipts": max(0, condition.receipts - done.receipts),
               "reviews": max(0, condition.reviews - done.reviews),
               "roubles": max(0, condition.spend_roubles - done.spend_kopecks // 100)}
        # The share of the way still to go; on a tie, the way that asks for receipts (what the bot can take).
        parts = [gap[what] / needed[what] for what in gap if needed[what]]
        gaps.append((sum(parts), gap["roubles"] > 0, gap, 1 - sum(parts) / len(parts) if parts else 1.0))
    _, _, closest, done_share = min(gaps, key=lambda found: (found[0], found[1]))
    return Gap(level, {what: count for what, count in closest.items() if count}, round(done_share, 3))
