"""The prize draw: spins earned by receipts and challenges, outcomes the server decides and anyone can check.
Pure: no I/O.

Provably fair, by commit and reveal:
- each Moscow day has a random seed; its SHA-256 is published before the day begins (the Mini App shows today's and
  tomorrow's), and the seed itself only once the day is over;
- a spin's roll is HMAC-SHA256(seed, "<player>:<spin>"), the player being the member's keyed marker and the spin
  their own count (1, 2, …): neither the member nor the brand can pick it once the hash is out;
- the roll's first 8 bytes, as a fraction of 2^64, fall into a prize's share (`chance_percent`, in the program's
  order) or past them all (no prize);
- a prize out of stock, or worth more than is left of the day's or the month's budget, is not given: the spin
  records why. Each spin records the counts before it, so `loyalty draw verify DAY` replays the day in order and
  must arrive at every recorded outcome.
"""

import hashlib
import hmac
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.bot_program import Words

Withheld = Literal["stock", "day_budget", "month_budget"]
BOOST = "draw:"  # a multiplier won is a boost named draw:<spin number>, not any campaign's
_SCALE = 2 ** 64


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Prize(_Strict):
    """One thing a spin may win: points, a multiplier on the next receipt, or a reward from the catalog, free."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: Words
    chance_percent: Decimal = Field(gt=0, le=100, description="the share of spins that land on it")
    points: int = Field(default=0, ge=0, le=100_000)
    multiplier: Decimal | None = Field(default=None, gt=1, le=10, description="the next receipt earns this many "
                                       "times the member's rate")
    days: int = Field(default=7, ge=1, le=90, description="multiplier: how long it waits for a receipt")
    reward: str | None = Field(default=None, description="a bot.rewards id, given without points")
    value_points: int | None = Field(default=None, ge=0, le=100_000, description="what it costs the budget: points "
                                     "by default; required for a multiplier")
    stock: int | None = Field(default=None, ge=0, description="how many may ever be won; none: no limit")

    @model_validator(mode="after")
    def _one_kind(self) -> "Prize":
        kinds = [bool(self.points), self.multiplier is not None, self.reward is not None]
        if sum(kinds) != 1:
            raise ValueError(f"prize {self.id}: give exactly one of points, multiplier or reward")
        if self.multiplier is not None and self.value_points is None:
            raise ValueError(f"prize {self.id}: a multiplier needs value_points, what it costs the budget")
        return self

    @property
    def kind(self) -> Literal["points", "multiplier", "reward"]:
        return "points" if self.points else "multiplier" if self.multiplier is not None else "reward"


class Budget(_Strict):
    per_day_points: int = Field(ge=0, description="the most the draw gives away in one Moscow day")
    per_month_points: int = Field(ge=0, description="... and in one calendar month")


class Draw(_Strict):
    title: Words = Field(default_factory=lambda: {"ru": "Колесо призов", "en": "Prize wheel"})
    spins_per_receipt: int = Field(default=1, ge=0, le=5, description="spins an accepted receipt earns")
    level_spins: dict[str, int] = Field(default_factory=dict, description="spins per receipt at these levels")
    budget: Budget
    prizes: list[Prize] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares(self) -> "Draw":
        if sum(prize.chance_percent for prize in self.prizes) > 100:
            raise ValueError("draw.prizes: the chances add up to more than 100%")
        if len({prize.id for prize in self.prizes}) != len(self.prizes):
            raise ValueError("draw.prizes: ids must be unique")
        return self

    def prize(self, prize_id: str | None) -> Prize | None:
        return next((prize for prize in self.prizes if prize.id == prize_id), None)

    def spins_for(self, level: str | None) -> int:
        """Spins one accepted receipt earns at `level`."""
        return self.level_spins.get(level or "", self.spins_per_receipt)


class Counts(_Strict):
    """What the draw has given before a spin: the basis of its budget and stock checks."""

    day: str = ""  # 2026-12-07 (Moscow)
    day_points: int = 0
    month: str = ""  # 2026-12
    month_points: int = 0
    won: dict[str, int] = Field(default_factory=dict)  # prize id: how many were ever won

    def on(self, day: date) -> "Counts":
        """The counts as they stand on `day`: a new day's points start at 0, and a new month's."""
        month = day.strftime("%Y-%m")
        return self.model_copy(update={
            "day": day.isoformat(), "day_points": self.day_points if self.day == day.isoformat() else 0,
            "month": month, "month_points": self.month_points if self.month == month else 0})


class Spin(_Strict):
    """One spin as it is recorded and published: whose (the keyed marker), which of theirs, the counts before it,
    the prize landed on and whether it was given."""

    day: str
    seq: int = Field(ge=1, description="its place in the day's order")
    player: str
    number: int = Field(ge=1, description="the member's own count of spins")
    before: Counts
    landed: str | None = None  # the prize the roll fell on; None: past every prize's share
    prize: str | None = None  # the prize given: landed, unless withheld
    withheld: Withheld | None = None
    value_points: int = 0


def seed_hash(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def roll(seed: bytes, player: str, number: int) -> Fraction:
    """The spin's roll in [0, 1): HMAC-SHA256(seed, "<player>:<number>"), its first 8 bytes over 2^64."""
    digest = hmac.new(seed, f"{player}:{number}".encode(), hashlib.sha256).digest()
    return Fraction(int.from_bytes(digest[:8], "big"), _SCALE)


def landed(draw: Draw, point: Fraction) -> Prize | None:
    """The prize whose share (in the program's order) holds `point`; None past them all."""
    edge = Fraction(0)
    for prize in draw.prizes:
        edge += Fraction(prize.chance_percent) / 100
        if point < edge:
            return prize
    return None


def value_of(draw: Draw, prize: Prize, reward_points: int = 0) -> int:
    """What a prize costs the budget: its value_points, else its points, else the reward's price in points."""
    if prize.value_points is not None:
        return prize.value_points
    return prize.points or reward_points


def spin(draw: Draw, seed: bytes, counts: Counts, day: date, seq: int, player: str, number: int,
         reward_points: dict[str, int]) -> tuple[Spin, Counts]:
    """The outcome of the member's spin `number`, the `seq`-th of `day`, and the counts after it. `reward_points`:
    the catalog's price of each reward, the value of a reward prize."""
    before = counts.on(day)
    prize = landed(draw, roll(seed, player, number))
    if prize is None:
        return Spin(day=before.day, seq=seq, player=player, number=number, before=before), before
    value = value_of(draw, prize, reward_points.get(prize.reward or "", 0))
    withheld: Withheld | None = None
    if prize.stock is not None and before.won.get(prize.id, 0) >= prize.stock:
        withheld = "stock"
    elif before.day_points + value > draw.budget.per_day_points:
        withheld = "day_budget"
    elif before.month_points + value > draw.budget.per_month_points:
        withheld = "month_budget"
    outcome = Spin(day=before.day, seq=seq, player=player, number=number, before=before, landed=prize.id,
                   prize=None if withheld else prize.id, withheld=withheld, value_points=0 if withheld else value)
    if withheld:
        return outcome, before
    return outcome, before.model_copy(update={
        "day_points": before.day_points + value, "month_points": before.month_points + value,
        "won": {**before.won, prize.id: before.won.get(prize.id, 0) + 1}})


class Mismatch(_Strict):
    seq: int
    problem: str


def verify(draw: Draw, seed: bytes, published_hash: str, spins: list[Spin],
           reward_points: dict[str, int]) -> list[Mismatch]:
    """Every way the recorded day departs from a replay of it: the seed against its published hash; each spin's
    outcome recomputed from the seed and the counts the spin before it left (the first spin's own `before` starts
    the day, and must start it at 0 points)."""
    problems: list[Mismatch] = []
    if seed_hash(seed) != published_hash:
        return [Mismatch(seq=0, problem="the seed does not match the hash published for the day")]
    ordered = sorted(spins, key=lambda one: one.seq)
    counts = ordered[0].before if ordered else Counts()
    if ordered and counts.day_points:
        problems.append(Mismatch(seq=ordered[0].seq, problem="the day's first spin does not start at 0 points"))
    for expected_seq, recorded in enumerate(ordered, start=1):
        if recorded.seq != expected_seq:
            problems.append(Mismatch(seq=recorded.seq, problem=f"spin {expected_seq} of the day is missing"))
        if recorded.before != counts.on(date.fromisoformat(recorded.day)):
            problems.append(Mismatch(seq=recorded.seq, problem="its counts before are not what the spin before "
                                                               "it left"))
        replayed, counts = spin(draw, seed, recorded.before, date.fromisoformat(recorded.day), recorded.seq,
                                recorded.player, recorded.number, reward_points)
        if replayed != recorded:
            problems.append(Mismatch(seq=recorded.seq, problem=f"recorded {recorded.prize or 'no prize'} "
                                     f"({recorded.withheld or 'given'}), the roll gives {replayed.prize or 'no prize'} "
                                     f"({replayed.withheld or 'given'})"))
    return problems


def paid_as_drawn(spins: list[Spin], paid: dict[tuple[str, int], str | None]) -> list[Mismatch]:
    """Each spin against the ledger: `paid` is every spin entry's (player, number) and the prize it gave. A spin
    recorded and not paid, or paid with another prize, is named."""
    problems = []
    for one in spins:
        key = (one.player, one.number)
        if key not in paid:
            problems.append(Mismatch(seq=one.seq, problem="recorded but not in the ledger"))
        elif paid[key] != one.prize:
            problems.append(Mismatch(seq=one.seq, problem=f"the ledger gave {paid[key] or 'no prize'}, the draw "
                                                          f"{one.prize or 'no prize'}"))
    return problems
