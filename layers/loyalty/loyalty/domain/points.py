"""Points arithmetic. 1 point = 1 rouble; money is integer kopecks; fractions are rounded down per receipt."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal


def accrual_points(brand_sum_kopecks: int, percent: Decimal) -> int:
    """Points for a purchase of `brand_sum_kopecks` at `percent` (10 means 10%)."""
    if brand_sum_kopecks <= 0 or percent <= 0:
        return 0
    roubles = Decimal(brand_sum_kopecks) * percent / Decimal(10_000)
    return int(roubles.to_integral_value(rounding=ROUND_FLOOR))
