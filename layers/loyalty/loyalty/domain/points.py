"""Points arithmetic. 1 point = 1 rouble; money is integer kopecks; fractions are rounded down.

How many points a purchase earns (the level's rate, per-category and per-GTIN multipliers or fixed points,
the member's daily and monthly caps), when they become available and when they expire, and how much of a
basket points may pay.
"""

from __future__ import annotations

import calendar
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Protocol

from loyalty.config import Program
from loyalty.domain.receipt import MOSCOW


def accrual_points(brand_sum_kopecks: int, percent: Decimal) -> int:
    """Points for a purchase of `brand_sum_kopecks` at `percent` (10 means 10%)."""
    if brand_sum_kopecks <= 0 or percent <= 0:
        return 0
    return _floor(Decimal(brand_sum_kopecks) * percent / Decimal(10_000))


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


def purchase_points(lines: list[Line], program: Program, percent: Decimal) -> int:
    """Each line at the rate, times its goods rule's multiplier, or its rule's fixed points per unit. The
    fraction is dropped once, for the whole purchase, not per line."""
    roubles, fixed = Decimal(0), 0
    for line in lines:
        rule = program.goods_rule(line.gtin, line.category)
        if rule is not None and rule.accrual_points is not None:
            fixed += _floor(rule.accrual_points * _units(line.quantity))
            continue
        multiplier = rule.accrual_multiplier if rule is not None and rule.accrual_multiplier is not None else 1
        roubles += Decimal(max(line.sum_kopecks, 0)) * percent * multiplier / Decimal(10_000)
    return fixed + _floor(roubles)


def payable_points(line: Line, program: Program) -> int:
    """The most points may pay of one basket line: its rule's share or points per unit, else the program's
    share. Never more than the line costs."""
    rule = program.goods_rule(line.gtin, line.category)
    cost = max(line.sum_kopecks, 0) // 100
    if rule is not None and rule.pay_points is not None:
        return min(cost, _floor(rule.pay_points * _units(line.quantity)))
    share = rule.pay_share_percent if rule is not None and rule.pay_share_percent is not None \
        else program.redemption.max_share_percent
    return min(cost, _floor(Decimal(max(line.sum_kopecks, 0)) * share / Decimal(10_000)))


def capped(points: int, program: Program, earned_today: int, earned_this_month: int) -> int:
    """What is left of `points` under the member's daily and monthly caps."""
    caps = program.earning.caps
    if caps.per_day is not None:
        points = min(points, max(caps.per_day - earned_today, 0))
    if caps.per_month is not None:
        points = min(points, max(caps.per_month - earned_this_month, 0))
    return points


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


def _floor(value: Decimal | int) -> int:
    return int(Decimal(value).to_integral_value(rounding=ROUND_FLOOR))
