"""Members by RFM group (recency, frequency, money) and how they move between groups, as day tallies.

A member's group on a day follows from their purchases up to it: days since the last one (recency), the days they
bought on in the last year (frequency) and what they spent on the brand's goods in it (money). Between purchases
it only changes as time passes, on days known in advance (the last purchase 31 and 91 days old, a purchase a year
old). So a purchase tallies the member's whole future: the moves its arrival brings, less the moves the member
would have made without it. Summed over every purchase, the tallies are the moves members made, and summed up to a
day they are each group's size that day (`rfm:<group>`); a move is `rfm_move:<from>:<to>` on the day it happens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

# The groups, best first, as the dashboard names them
GROUPS = ("champions", "loyal", "new", "promising", "at_risk", "lost")
ACTIVE_DAYS, COOLING_DAYS, YEAR_DAYS = 30, 90, 365
MANY_DAYS = 4  # bought on this many days of the year, or more: frequent
BIG_KOPECKS = 1_000_000  # spent this much in a year, or more (10 000 ₽): a big spender
NOWHERE = "-"  # before the first purchase


def group(purchases: Iterable[tuple[date, int]], on: date) -> str:
    """The group on a day, from the purchases (day, kopecks) made up to it."""
    recent = [(day, kopecks) for day, kopecks in purchases if on - timedelta(days=YEAR_DAYS) < day <= on]
    last = max((day for day, _ in recent), default=None)
    if last is None:
        return "lost"  # no purchase in a year
    idle, days = (on - last).days, len({day for day, _ in recent})
    if idle > COOLING_DAYS:
        return "at_risk" if days >= 2 else "lost"
    if days >= MANY_DAYS:
        return "champions" if idle <= ACTIVE_DAYS and sum(k for _, k in recent) >= BIG_KOPECKS else "loyal"
    if days >= 2:
        return "loyal"
    return "new" if idle <= ACTIVE_DAYS else "promising"


def moves(purchases: list[tuple[date, int]]) -> list[tuple[date, str, str]]:
    """Every move the member makes with these purchases and none after: (day, from, to), the first from nowhere."""
    if not purchases:
        return []
    critical = sorted({day + timedelta(days=shift) for day, _ in purchases
                       for shift in (0, ACTIVE_DAYS + 1, COOLING_DAYS + 1, YEAR_DAYS)})
    found, current = [], NOWHERE
    for day in critical:
        now = group(purchases, day)
        if now != current:
            found.append((day, current, now))
            current = now
    return found


def tally(before: list[tuple[date, int]], after: list[tuple[date, int]]) -> dict[date, Counter[str]]:
    """What a purchase changes, day by day: the moves with it (`after`) less the moves without it (`before`)."""
    days: dict[date, Counter[str]] = {}
    for sign, purchases in ((-1, before), (1, after)):
        for day, source, target in moves(purchases):
            counts = days.setdefault(day, Counter())
            counts[f"rfm_move:{source}:{target}"] += sign
            counts[f"rfm:{target}"] += sign
            if source != NOWHERE:
                counts[f"rfm:{source}"] -= sign
    return {day: kept for day, counts in days.items() if (kept := Counter({k: v for k, v in counts.items() if v}))}
