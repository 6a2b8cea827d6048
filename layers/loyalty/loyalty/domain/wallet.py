"""A member's points: lots, holds and balances, changed only through ledger entries. Pure: no I/O.

- Every credit (a purchase, a bonus) is a *lot*: pending until its `available_at` (a marketplace's return
  window), then available until its `expires_at`.
- Spending (a hold) takes from the available lots that expire first, and remembers what it took, so a
  release gives back exactly that (what expired meanwhile expires then).
- A refund takes back the purchase's own lot first, then other points; what cannot be taken is *debt*,
  paid off by the next credits. No balance ever goes below zero.

Each operation returns a `Step`: the new wallet, the change to each balance (what the ledger entry
records, so the balances always equal the sum of the entries) and details for the entry.
"""


from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain.birthday import Birthday
from loyalty.domain.challenges import Progress
from loyalty.domain.details import Details
from loyalty.domain.errors import AlreadyRecorded, HoldExpired, HoldNotFound, InsufficientPoints
from loyalty.domain.facts import Facts


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)


class Balance(_Model):
    available: int = 0
    pending: int = 0
    held: int = 0
    debt: int = 0

    def __add__(self, other: "Balance") -> "Balance":
        return Balance(**{name: getattr(self, name) + getattr(other, name) for name in Balance.model_fields})

    @property
    def points(self) -> int:
        """What the member would call "my points" changing: available plus pending."""
        return self.available + self.pending


class Lot(_Model):
    points: int  # what is left of it
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    active: bool  # available (True) or still pending
    held: bool = False  # pending until the staff decide (a receipt a fraud rule held), whatever `available_at` says
    reminded: bool = False
    label: str = ""  # where it came from, for messages: "Wildberries", "бонус за отзыв"


class Allocation(_Model):
    lot: str
    points: int
    expires_at: datetime | None
    reminded: bool = False  # a lot spent to zero comes back from a release as it was, reminder included


class Hold(_Model):
    points: int
    allocations: tuple[Allocation, ...]
    expires_at: datetime
    order_id: str | None = None
    code: str | None = None
    request: str = ""  # fingerprint of the request that placed it: a replay must carry the same


class Activity(_Model):
    """What a member did on one day (Moscow): what levels and caps count."""

    day: str
    receipts: int = 0
    spend_kopecks: int = 0
    reviews: int = 0
    earned: int = 0  # points from receipts (the caps)


class Boost(_Model):
    """A campaign's higher rate: the member's next receipt of at least `min_receipt_kopecks` accepted before
    `until` earns `multiplier` times their rate (once)."""

    campaign: str
    multiplier: Decimal
    until: datetime
    min_receipt_kopecks: int = 0
    cap_points: int | None = None  # the most extra points it may add (the campaign's budget per member)


class Badge(_Model):
    """A badge a completed challenge gave: its name is the challenge's, as the program says it now."""

    challenge: str
    earned_at: datetime


class Wallet(_Model):
    balance: Balance = Field(default_factory=Balance)
    lots: dict[str, Lot] = {}
    holds: dict[str, Hold] = {}
    activity: tuple[Activity, ...] = ()
    level: str | None = None
    level_since: datetime | None = None
    level_checked_at: datetime | None = None
    facts: Facts = Field(default_factory=Facts)  # what campaigns target: purchases, spend, channels, categories
    boosts: tuple[Boost, ...] = ()
    challenges: dict[str, Progress] = {}  # by challenge id: how far along (domain/challenges.py)
    badges: tuple[Badge, ...] = ()
    spins: int = 0  # the prize draw's spins earned and not yet spun
    spins_used: int = 0  # spun so far: the next spin is the member's number spins_used + 1 (domain/draw.py)
    birthday: Birthday | None = None  # as the member gave it: the gift is due by it (domain/birthday.py)

    def spendable(self, now: datetime) -> list[tuple[str, Lot]]:
        """Available lots, the ones that expire first first (never-expiring last)."""
        lots = [(lot_id, lot) for lot_id, lot in self.lots.items()
                if lot.active and lot.points > 0 and (lot.expires_at is None or lot.expires_at > now)]
        return sorted(lots, key=lambda pair: (pair[1].expires_at is None, pair[1].expires_at or now,
                                              pair[1].earned_at, pair[0]))

    def boost_for(self, now: datetime, receipt_kopecks: int) -> Boost | None:
        """The boost this receipt earns at (the highest, if several apply)."""
        applying = [boost for boost in self.boosts
                    if boost.until > now and receipt_kopecks >= boost.min_receipt_kopecks]
        return max(applying, key=lambda boost: boost.multiplier, default=None)

    def spendable_points(self, now: datetime) -> int:
        return sum(lot.points for _, lot in self.spendable(now))

    def counted(self, since_day: str = "") -> Activity:
        """The activity since a day (inclusive), summed."""
        days = [day for day in self.activity if day.day >= since_day]
        return Activity(day=since_day, receipts=sum(d.receipts for d in days),
                        spend_kopecks=sum(d.spend_kopecks for d in days), reviews=sum(d.reviews for d in days),
                        earned=sum(d.earned for d in days))


NOTHING = Balance.model_construct()  # constructed, not validated: importing the wallet builds no validator


class Step(_Model):
    wallet: Wallet
    change: Balance
    details: Details = Field(default_factory=Details)


def stored(item: dict[str, Any]) -> Wallet:
    """The wallet a member's stored record holds, as JSON under `wallet` (a member who never had a ledger entry has
    an empty one)."""
    return Wallet.model_validate_json(item["wallet"]) if "wallet" in item else Wallet()


def _with(wallet: Wallet, lots: dict[str, Lot] | None = None, holds: dict[str, Hold] | None = None,
          change: Balance = NOTHING, **fields: Any) -> Wallet:
    update: dict[str, Any] = {"balance": wallet.balance + change, **fields}
    if lots is not None:
        update["lots"] = {lot_id: lot for lot_id, lot in lots.items() if lot.points > 0}
    if holds is not None:
        update["holds"] = holds
    return wallet.model_copy(update=update)


def credit(wallet: Wallet, lot_id: str, points: int, now: datetime, available_at: datetime,
           expires_at: datetime | None, label: str = "", held: bool = False) -> Step:
    """A new lot of `points`; debt left by refunds is paid off first. A held lot stays pending until released."""
    if points < 0:
        raise ValueError("a credit cannot be negative")
    if lot_id in wallet.lots:
        raise AlreadyRecorded(f"lot {lot_id} exists")
    offset = min(points, wallet.balance.debt)
    kept = points - offset
    active = available_at <= now and not held
    lot = Lot(points=kept, earned_at=now, available_at=available_at, expires_at=expires_at, active=active,
              label=label, held=held)
    change = Balance(available=kept if active else 0, pending=0 if active else kept, debt=-offset)
    details = Details(lot=lot_id, credited=points, debt_paid=offset, available_at=available_at, expires_at=expires_at)
    return Step(wallet=_with(wallet, {**wallet.lots, lot_id: lot}, change=change), change=change, details=details)


def freeze(wallet: Wallet, lot_id: str) -> Step:
    """A purchase found suspicious after it was credited: what is left of its lot waits for the staff (pending,
    held), whether it was available or not yet."""
    lot = wallet.lots.get(lot_id)
    if lot is None or lot.held:
        return Step(wallet=wallet, change=Balance(), details=Details(lot=lot_id))
    change = Balance(available=-lot.points, pending=lot.points) if lot.active else Balance()
    lots = {**wallet.lots, lot_id: lot.model_copy(update={"held": True, "active": False})}
    return Step(wallet=_with(wallet, lots, change=change), change=change, details=Details(lot=lot_id))


def is_held(wallet: Wallet, lot_id: str | None) -> bool:
    """Whether the lot waits for the staff (False for no lot)."""
    lot = wallet.lots.get(lot_id) if lot_id else None
    return lot is not None and lot.held


def unhold(wallet: Wallet, lot_id: str, now: datetime) -> Step:
    """A held lot the staff approved: available now if its time has come, else pending until then."""
    lot = _lot(wallet, lot_id)
    lots = {**wallet.lots, lot_id: lot.model_copy(update={"held": False})}
    released = _with(wallet, lots)
    if lot.active or lot.available_at > now:
        return Step(wallet=released, change=Balance(), details=Details(lot=lot_id, available_at=lot.available_at))
    return activate(released, lot_id)


def activate(wallet: Wallet, lot_id: str) -> Step:
    lot = _lot(wallet, lot_id)
    if lot.active:
        raise AlreadyRecorded(f"lot {lot_id} is already available")
    change = Balance(available=lot.points, pending=-lot.points)
    lots = {**wallet.lots, lot_id: lot.model_copy(update={"active": True})}
    return Step(wallet=_with(wallet, lots, change=change), change=change,
                details=Details(lot=lot_id, label=lot.label, activated=lot.points))


def expire(wallet: Wallet, lot_id: str) -> Step:
    lot = _lot(wallet, lot_id)
    change = Balance(available=-lot.points) if lot.active else Balance(pending=-lot.points)
    lots = {**wallet.lots, lot_id: lot.model_copy(update={"points": 0})}
    return Step(wallet=_with(wallet, lots, change=change), change=change,
                details=Details(lot=lot_id, expired=lot.points))


def remind(wallet: Wallet, lot_ids: list[str]) -> Step:
    lots = {**wallet.lots, **{lot_id: wallet.lots[lot_id].model_copy(update={"reminded": True})
                              for lot_id in lot_ids}}
    return Step(wallet=_with(wallet, lots), change=NOTHING,
                details=Details(reminded=lot_ids, points=sum(wallet.lots[lot_id].points for lot_id in lot_ids)))


def _take(lots: dict[str, Lot], order: list[str], points: int) -> tuple[dict[str, Lot], list[Allocation]]:
    """Take `points` from the lots in `order`; returns the lots left and what was taken from each."""
    lots, taken = dict(lots), []
    for lot_id in order:
        if points == 0:
            break
        lot = lots[lot_id]
        part = min(lot.points, points)
        if part:
            lots[lot_id] = lot.model_copy(update={"points": lot.points - part})
            taken.append(Allocation(lot=lot_id, points=part, expires_at=lot.expires_at, reminded=lot.reminded))
            points -= part
    return lots, taken


def hold(wallet: Wallet, hold_id: str, points: int, now: datetime, expires_at: datetime,
         order_id: str | None = None, code: str | None = None, request: str = "") -> Step:
    """Reserve `points` of the available balance for an order, from the lots that expire first."""
    if points <= 0:
        raise ValueError("a hold needs a positive number of points")
    if hold_id in wallet.holds:
        raise AlreadyRecorded(f"hold {hold_id} exists")
    available = wallet.spendable_points(now)
    if points > available:
        raise InsufficientPoints(points, available)
    lots, taken = _take(wallet.lots, [lot_id for lot_id, _ in wallet.spendable(now)], points)
    placed = Hold(points=points, allocations=tuple(taken), expires_at=expires_at, order_id=order_id, code=code,
                  request=request)
    change = Balance(available=-points, held=points)
    return Step(wallet=_with(wallet, lots, {**wallet.holds, hold_id: placed}, change), change=change,
                details=Details(hold=hold_id, order_id=order_id, expires_at=expires_at,
                                 lots={a.lot: a.points for a in taken}))


def commit(wallet: Wallet, hold_id: str, now: datetime, order_id: str | None = None,
           order_kopecks: int | None = None) -> Step:
    """The order is paid: the held points are spent (`order_kopecks`: the whole order's total, when told)."""
    placed = _open_hold(wallet, hold_id)
    if placed.expires_at <= now:
        raise HoldExpired(f"hold {hold_id} expired at {placed.expires_at.isoformat()}")
    holds = {key: value for key, value in wallet.holds.items() if key != hold_id}
    change = Balance(held=-placed.points)
    return Step(wallet=_with(wallet, holds=holds, change=change), change=change,
                details=Details(hold=hold_id, spent=placed.points, order_id=order_id or placed.order_id,
                                lots={part.lot: part.points for part in placed.allocations},
                                **({"order_kopecks": order_kopecks} if order_kopecks is not None else {})))


def release(wallet: Wallet, hold_id: str, now: datetime, reason: str = "released") -> Step:
    """Give the held points back to the lots they came from; what has expired meanwhile expires now."""
    placed = _open_hold(wallet, hold_id)
    lots, returned, expired = dict(wallet.lots), 0, 0
    for part in placed.allocations:
        if part.expires_at is not None and part.expires_at <= now:
            expired += part.points
            continue
        lot = lots.get(part.lot)
        if lot is None:  # spent to zero since: it comes back as it was when held
            lot = Lot(points=0, earned_at=now, available_at=now, expires_at=part.expires_at, active=True,
                      reminded=part.reminded)
        lots[part.lot] = lot.model_copy(update={"points": lot.points + part.points})
        returned += part.points
    holds = {key: value for key, value in wallet.holds.items() if key != hold_id}
    change = Balance(available=returned, held=-placed.points)
    return Step(wallet=_with(wallet, lots, holds, change), change=change,
                details=Details(hold=hold_id, returned=returned, expired=expired, reason=reason, code=placed.code))


def reverse(wallet: Wallet, lot_id: str, points: int, now: datetime) -> Step:
    """Take back `points` of a refunded purchase: from its own lot, then other available points, then
    pending ones; what is left becomes debt."""
    if points < 0:
        raise ValueError("a reversal takes a non-negative number of points")
    own = [lot_id] if lot_id in wallet.lots else []
    others = [key for key, _ in wallet.spendable(now) if key != lot_id]
    pending = sorted(key for key, lot in wallet.lots.items() if not lot.active and key != lot_id)
    lots, taken = _take(wallet.lots, own + others + pending, points)
    from_available = sum(part.points for part in taken if wallet.lots[part.lot].active)
    from_pending = sum(part.points for part in taken) - from_available
    shortfall = points - from_available - from_pending
    change = Balance(available=-from_available, pending=-from_pending, debt=shortfall)
    return Step(wallet=_with(wallet, lots, change=change), change=change,
                details=Details(reversed=points, shortfall=shortfall, lots={a.lot: a.points for a in taken}))


def deduct(wallet: Wallet, points: int, now: datetime) -> Step:
    """An operator takes points away: from the available lots that expire first; never below zero."""
    available = wallet.spendable_points(now)
    if points > available:
        raise InsufficientPoints(points, available)
    lots, taken = _take(wallet.lots, [lot_id for lot_id, _ in wallet.spendable(now)], points)
    change = Balance(available=-points)
    return Step(wallet=_with(wallet, lots, change=change), change=change,
                details=Details(lots={a.lot: a.points for a in taken}))


def record(wallet: Wallet, day: str, receipts: int = 0, spend_kopecks: int = 0, reviews: int = 0,
           earned: int = 0) -> Wallet:
    """Add to a day's activity (one record per day, so the history grows by days, not by receipts)."""
    days = {activity.day: activity for activity in wallet.activity}
    old = days.get(day, Activity(day=day))
    days[day] = Activity(day=day, receipts=old.receipts + receipts, spend_kopecks=old.spend_kopecks + spend_kopecks,
                         reviews=old.reviews + reviews, earned=old.earned + earned)
    return wallet.model_copy(update={"activity": tuple(sorted(days.values(), key=lambda a: a.day))})


def _lot(wallet: Wallet, lot_id: str) -> Lot:
    """A lot still holding points; a spent or expired one is gone (so is a replay's)."""
    if lot_id not in wallet.lots:
        raise AlreadyRecorded(f"lot {lot_id} holds no points")
    return wallet.lots[lot_id]


def _open_hold(wallet: Wallet, hold_id: str) -> Hold:
    if hold_id not in wallet.holds:
        raise HoldNotFound(f"no open hold {hold_id}")
    return wallet.holds[hold_id]


def consistent(wallet: Wallet) -> list[str]:
    """What is wrong inside a wallet (empty when nothing): balances equal their lots and holds, none negative."""
    problems = []
    active = sum(lot.points for lot in wallet.lots.values() if lot.active)
    pending = sum(lot.points for lot in wallet.lots.values() if not lot.active)
    held = sum(placed.points for placed in wallet.holds.values())
    for name, expected in (("available", active), ("pending", pending), ("held", held)):
        if getattr(wallet.balance, name) != expected:
            problems.append(f"{name} {getattr(wallet.balance, name)} but its lots or holds sum to {expected}")
    for name, value in wallet.balance:
        if value < 0:
            problems.append(f"{name} is negative: {value}")
    return problems


def audit(stored: Balance, wallet: Wallet, changes: list[Balance]) -> list[str]:
    """Why a member's books do not balance (empty when they do): the stored balances must equal the sum of
    the member's ledger entries and the wallet's own, and the wallet must agree with its lots and holds."""
    problems = consistent(wallet)
    total = sum(changes, NOTHING)
    for name in Balance.model_fields:
        kept, ledger, own = getattr(stored, name), getattr(total, name), getattr(wallet.balance, name)
        if not kept == ledger == own:
            problems.append(f"{name}: stored {kept}, ledger entries sum to {ledger}, wallet says {own}")
    return problems
