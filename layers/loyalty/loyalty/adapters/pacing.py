"""Paces: `Pace`, shared by every invocation through one DynamoDB item (at most `per_second` calls a second, however
many Lambdas run at once), and `LocalPace`, kept in one container, for a function whose event source caps its
containers.

Pace: each call takes the next free slot from one DynamoDB item (the generic cell rate algorithm: the item holds the
theoretical arrival time of the next call) and waits for it: one conditional write per call while the senders
keep the pace (`ADD` moves the item on by one interval), two when the bucket had fallen behind the clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from loyalty import deadline
from loyalty.adapters.dynamo import applied, conditional, from_item, to_item
from loyalty.domain.errors import Contended

_ATTEMPTS = 100
_LATE_ENOUGH = 0.025  # seconds


class Pace:
    def __init__(self, table_name: str, name: str, per_second: float, now: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.table_name = table_name
        self.key = to_item({"campaign": "_pacing", "key": name})
        self.interval = 1.0 / per_second
        # How late after its slot a call may still go: a third of an interval, but no less than a write's and a
        # wake-up's usual delay, or a fast pace would never find a slot it is on time for. Calls go within it of
        # their slots, so a second holds at most per_second * (1 + 2 * tolerance) + 1 of them (per_second + 1 up to
        # 13 calls a second), however late their senders wake.
        self.tolerance = max(self.interval / 3, _LATE_ENOUGH)
        self.now = now
        self.sleep = sleep

    def wait(self) -> float:
        """Return when this call's slot has come, with the moment it went (on this pace's clock): one write while
        senders are keeping up the pace.

        A caller that comes back to its slot late (a busy machine, a paused container, a slow write) does not go
        late: its send would crowd the slots after it, and Telegram answers a burst with 429. It takes the next
        free slot instead, and a pace never sends faster than its rate to catch up."""
        for _ in range(_ATTEMPTS):
            now = self.now()
            slot = self._next_in_line(now)
            if slot is None:
                slot = self._first_in_line(now)
            if slot is None:
                continue  # the bucket changed between the two: look again
            if slot > now:
                if not deadline.enough_for(slot - now):
                    raise Contended("no slot to send in before the invocation ends")
                self.sleep(slot - now)
            went = self.now()
            if went - slot <= self.tolerance:
                return went
        raise Contended("the sending pace kept being taken by other senders")

    def _next_in_line(self, now: float) -> float | None:
        """While the bucket is ahead of now (senders are busy), the next slot is the bucket's: take it."""
        response = conditional(
            "update_item", TableName=self.table_name, Key=self.key, UpdateExpression="ADD tat :interval",
            ConditionExpression="tat > :now", ReturnValues="UPDATED_NEW",
            ExpressionAttributeValues=to_item({":interval": _decimal(self.interval), ":now": _decimal(now)}))
        return None if response is None else float(from_item(response["Attributes"])["tat"]) - self.interval

    def _first_in_line(self, now: float) -> float | None:
        """The bucket has fallen behind now (nobody sent for a while): this call goes now."""
        took = applied(
            "update_item", TableName=self.table_name, Key=self.key, UpdateExpression="SET tat = :next",
            ConditionExpression="attribute_not_exists(tat) OR tat <= :now",
            ExpressionAttributeValues=to_item({":next": _decimal(now + self.interval), ":now": _decimal(now)}))
        return now if took else None


def _decimal(seconds: float) -> Decimal:
    return Decimal(str(round(seconds, 6)))


class LocalPace:
    """A pace kept in this container alone: at most `per_second` calls a second from it, at no request to AWS.

    Shared limits hold when the event source caps how many containers run at once (its MaximumConcurrency) and each
    is given its share of the rate: settings.py divides the function's rate by its CONCURRENCY. A container that
    replaces another starts a slot early at most, so a second holds at most one call more than the rate."""

    def __init__(self, per_second: float, now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self.now = now
        self.sleep = sleep
        self._next = float("-inf")  # the earliest moment the next call may go

    def wait(self) -> float:
        """Return when this call's slot has come, with the moment it went."""
        now = self.now()
        slot = max(now, self._next)
        if slot > now:
            if not deadline.enough_for(slot - now):
                raise Contended("no slot to send in before the invocation ends")
            self.sleep(slot - now)
        self._next = slot + self.interval
        return self.now()
