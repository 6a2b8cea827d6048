"""What a campaign's bonus would cost if everyone it reaches used it, in points and roubles: what the composer shows
before launching, and what an owner's approval threshold is checked against. Pure: no I/O.

A points bonus costs its points. A multiplier costs the extra points one receipt earns at it: the member's rate
(their level's, else the base) times the multiplier less one, on a receipt of their average or the bonus's minimum,
whichever is more (the goods' own multipliers left out: an estimate, not a promise). The budget per member caps
each, the total budget caps the sum, and the holdout is given nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loyalty.domain.campaigns import Campaign, Step
    from loyalty.domain.program import Program
    from loyalty.domain.segments import Member

POINT_ROUBLES = 1  # a point pays a rouble of an order on the brand's site


def member_cost(program: Program, step: Step, member: Member, per_member: int | None = None) -> int:
    """The points `step`'s bonus would give `member` if they used it."""
    bonus = step.bonus
    if bonus is None:
        return 0
    if bonus.points is not None:
        cost = bonus.points
    else:
        assert bonus.multiplier is not None  # the model allows nothing else
        rate = next((level.percent for level in program.levels if level.id == member.level),
                    program.levels[0].percent if program.levels else program.earning.base_percent)
        receipt = max(Decimal(bonus.min_receipt_roubles or 0), Decimal(member.facts.average_receipt_kopecks) / 100)
        cost = int((bonus.multiplier - 1) * rate * receipt / 100)
    return min(cost, per_member) if per_member is not None else cost


def campaign_cost(campaign: Campaign, costs: int) -> int:
    """The sum of the members' costs (each in their variant), less the holdout's share, capped by the budget."""
    paid = costs * (100 - campaign.holdout_percent) // 100
    total = campaign.budget.total_points if campaign.budget else None
    return min(paid, total) if total is not None else paid
