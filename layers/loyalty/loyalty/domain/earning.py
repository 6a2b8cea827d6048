"""What a purchase earns a member: the one computation behind both the ledger's credit and `receipt explain`.

From the brand's lines of a receipt, the program and the member's wallet: the member's level and its rate,
each line's goods rule (a multiplier of the rate, or fixed points per unit), the daily and monthly caps,
when the points become available (the channel's pending days) and when they expire, and the referral
bonuses a first purchase pays. `postings.purchase` turns it into the ledger step. Pure: no I/O.
"""


from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loyalty.domain import levels
from loyalty.domain.points import (
    Line,
    capped,
    expiry_of,
    floor_points,
    line_points,
    moscow_day,
    pending_days,
    purchase_points,
)

if TYPE_CHECKING:
    from loyalty.domain.details import Details
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)


class LineEarning(_Model):
    name: str
    sum_kopecks: int
    rule: str | None  # the goods rule applied, as a person reads it; None: the level's rate alone
    category: str | None = None  # the program's category of the goods (what campaigns remember was bought)
    gtin: str | None = None  # its marking code, when the receipt prints one (what campaigns remember was bought)
    points: Decimal  # before the purchase's fraction is dropped (once, for the whole purchase)


class Referral(_Model):
    inviter: str
    referred: int  # to the member, on their first purchase
    referrer: int  # to the inviter, on the same purchase


class PurchaseCredit(_Model):
    level: str | None  # the member's level when the purchase is credited: its rate applies
    percent: Decimal
    lines: tuple[LineEarning, ...]
    earned: int  # by the rules, before the caps
    points: int  # what is credited
    cap: str | None  # the cap that cut `earned` to `points`
    earned_at: datetime
    available_at: datetime  # after the channel's pending days
    expires_at: datetime | None
    first_purchase: bool
    referral: Referral | None
    boost: str | None = None  # the campaign whose multiplier this purchase earned at ...
    boost_points: int = 0  # ... and the points it added

    @property
    def capped(self) -> int:
        return self.earned - self.points

    @property
    def pending(self) -> bool:
        return self.available_at > self.earned_at


def purchase_credit(program: "Program", wallet: "Wallet", lines: Sequence[Line], channel: str, channel_kind: str,
                    now: datetime, referred_by: str | None = None) -> PurchaseCredit:
    """What a purchase of the brand's `lines` credits the member whose wallet this is, at `now`."""
    level = program.levels[levels.current_index(program, wallet)] if program.levels else None
    percent = level.percent if level is not None else program.earning.base_percent
    boost = wallet.boost_for(now, sum(line.sum_kopecks for line in lines))
    unboosted = _earned(_earnings(lines, program, percent)) if boost is not None else 0
    if boost is not None:  # a campaign's offer: this receipt earns at a multiple of the rate
        percent = percent * boost.multiplier
    earnings = _earnings(lines, program, percent)
    earned = _earned(earnings)
    if boost is not None and boost.cap_points is not None:  # the campaign's budget per member
        earned = min(earned, unboosted + boost.cap_points)
    today = moscow_day(now)
    points, cap = capped(earned, program, wallet.counted(today).earned, wallet.counted(f"{today[:7]}-01").earned)
    available_at = now + timedelta(days=pending_days(program, channel, channel_kind))
    first = wallet.counted().receipts == 0
    return PurchaseCredit(
        level=level.id if level else None, percent=percent, lines=earnings, earned=earned, points=points, cap=cap,
        earned_at=now, available_at=available_at,
        expires_at=expiry_of(program, available_at), first_purchase=first,
        referral=referral(program, referred_by) if first else None, boost=boost.campaign if boost else None,
        boost_points=max(0, points - unboosted) if boost is not None else 0,
    )


def _earnings(lines: Sequence[Line], program: "Program", percent: Decimal) -> tuple[LineEarning, ...]:
    return tuple(LineEarning(name=getattr(line, "name", ""), sum_kopecks=line.sum_kopecks, rule=rule, points=points,
                             category=line.category, gtin=getattr(line, "gtin", None))
                 for line, (points, rule) in zip(lines, line_points(lines, program, percent), strict=True))


def _earned(earnings: Sequence[LineEarning]) -> int:
    return floor_points(sum((line.points for line in earnings), Decimal(0)))


def referral(program: "Program", inviter: str | None) -> Referral | None:
    """The bonuses an invited member's first purchase pays: to them and to whoever invited them."""
    bonuses = program.bonuses
    if not inviter or not (bonuses.referred or bonuses.referrer):
        return None
    return Referral(inviter=inviter, referred=bonuses.referred, referrer=bonuses.referrer)


def refund_points(program: "Program", purchase: "Details", lines: Sequence[Line], refunded_kopecks: int,
                  purchase_kopecks: int) -> int:
    """What a refund takes back: what its lines earned in the purchase (`purchase`: that accrual entry's
    details), by the same rules at the purchase's rate (a face cream's multiplier comes back with it), scaled
    as the purchase was by a cap, never more than it credited. Without lines: in proportion to the money."""
    credited, earned = purchase.credited, purchase.earned
    if not lines or purchase.percent is None or earned == 0:
        return credited * refunded_kopecks // purchase_kopecks
    points = purchase_points(lines, program, Decimal(purchase.percent))
    return min(credited, points * credited // earned)
