"""Points arithmetic. 1 point = 1 rouble; money is integer kopecks; fractions are rounded down.

How many points a purchase earns (the level's rate, per-category and per-GTIN multipliers or fixed points,
the member's daily and monthly caps), when they become available and when they expire, and how much of a
basket points may pay.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from loyalty.domain.receipt import MOSCOW

if TYPE_CHECKING:
    from loyalty.domain.program import Program


class Line(Protocol):
    """A basket or receipt line: what the rules look at."""

    @property
    def sum_kopecks(self) -> int: ...
    @property
    def quantity(self) -> str: ...
    @property
    def gtin(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...


def purchase_points(lines: Sequence[Line], program: Program, percent: Decimal) -> int:
    """Each line at the rate, times its goods rule's multiplier, or its rule's fixed points per unit. The
    fraction is dropped once, for the whole purchase, not per line."""
    return floor_points(sum((points for points, _ in line_points(lines, program, percent)), Decimal(0)))


def line_points(lines: Sequence[Line], program: Program, percent: Decimal) -> list[tuple[Decimal, str | None]]:
    """What each line earns before the purchase's fraction is dropped, and the goods rule applied to it (as a
    person reads it; None: the rate alone). Fixed points are whole per line."""
    earned: list[tuple[Decimal, str | None]] = []
    for line in lines:
        at_rate = Decimal(max(line.sum_kopecks, 0)) * percent / Decimal(10_000)
        rule = program.goods_rule(line.gtin, line.category)
        target = "" if rule is None else f"GTIN {rule.gtin}" if rule.gtin else f"category {rule.category}"
        if rule is not None and rule.accrual_points is not None:
            earned.append((Decimal(floor_points(rule.accrual_points * _units(line.quantity))),
                           f"{target}: {rule.accrual_points} points per unit"))
        elif rule is not None and rule.accrual_multiplier is not None and rule.accrual_multiplier != 1:
            earned.append((at_rate * rule.accrual_multiplier, f"{target}: ×{rule.accrual_multiplier} the rate"))
        else:
            earned.append((at_rate, None))
    return earned


def payable_points(line: Line, program: Program) -> int:
    """The most points may pay of one basket line: its rule's share or points per unit, else the program's
    share. Never more than the line costs."""
    rule = program.goods_rule(line.gtin, line.category)
    cost = max(line.sum_kopecks, 0) // 100
    if rule is not None and rule.pay_points is not None:
        return min(cost, floor_points(rule.pay_points * _units(line.quantity)))
    share = rule.pay_share_percent if rule is not None and rule.pay_share_percent is not None \
        else program.redemption.max_share_percent
    return min(cost, floor_points(Decimal(max(line.sum_kopecks, 0)) * share / Decimal(10_000)))


def capped(points: int, program: Program, earned_today: int, earned_this_month: int) -> tuple[int, str | None]:
    """What is left of `points` under the member's daily and monthly caps, and the cap that cut it."""
    caps, cut = program.earning.caps, None
    if caps.per_day is not None and points > max(caps.per_day - earned_today, 0):
        points, cut = max(caps.per_day - earned_today, 0), f"{caps.per_day} points a day"
    if caps.per_month is not None and points > max(caps.per_month - earned_this_month, 0):
        points, cut = max(caps.per_month - earned_this_month, 0), f"{caps.per_month} points a month"
    return points, cut


def pending_days(program: Program, channel: str, kind: str) -> int:
    """Days before a channel's points become available: by channel name, then kind, then `default`."""
    days = program.earning.pending_days
    return days.get(channel, days.get(kind, days.get("default", 0)))


def expiry_of(program: Program, available_at: datetime) -> datetime | None:
    """When points that became available at `available_at` expire (None: never)."""
    rule = program.earning.expiry
    if rule.after_days is None and rule.end_of is None:
        return None
    moment = available_at + timedelta(days=rule.after_days or 0)
    if rule.end_of is None:
        return moment
    local = moment.astimezone(MOSCOW)
    last_month = 12 if rule.end_of == "year" else local.month
    last_day = calendar.monthrange(local.year, last_month)[1]
    end = datetime.combine(local.date().replace(month=last_month, day=last_day), time.max, MOSCOW)
    return end.replace(microsecond=0) + timedelta(seconds=1)  # midnight after the last day


def moscow_day(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).date().isoformat()


def _units(quantity: str) -> Decimal:
    try:
        return max(Decimal(quantity), Decimal(0))
    except InvalidOperation:
        return Decimal(1)


def floor_points(value: Decimal | int) -> int:
    return int(Decimal(value).to_integral_value(rounding=ROUND_FLOOR))
