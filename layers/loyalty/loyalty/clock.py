"""What time it is, for every rule that depends on it (return windows, expiry, levels, receipt age).

In Lambda it is the system clock, always. The embedded local stack runs the functions in its own process
and moves this clock to show weeks passing in a minute (`LocalStack.travel`); nothing in the cloud can.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def stamp(moment: datetime | None = None) -> str:
    """How the tables keep a moment (now by default): ISO 8601 in UTC, to the millisecond, so stamps sort as
    text in the order they happened."""
    return (moment or now()).astimezone(UTC).isoformat(timespec="milliseconds")


def travel(to: datetime) -> None:
    """Local stack only: from now on this process's clock reads `to`, and runs on from there."""
    global _offset
    _offset = to - datetime.now(UTC)
