"""The prize draw's rules (domain/draw.py): a roll's prize, the budget and stock that withhold one, and a replay that
catches any spin recorded otherwise than the seed decides."""

import secrets
from collections import Counter
from datetime import date
from fractions import Fraction

import pytest
from pydantic import ValidationError

from loyalty.domain.draw import Counts, Draw, Spin, landed, roll, seed_hash, spin, verify

DRAW = Draw.model_validate({
    "budget": {"per_day_points": 1000, "per_month_points": 1500},
    "prizes": [{"id": "fifty", "title": "+50", "points": 50, "chance_percent": 30},
               {"id": "big", "title": "+500", "points": 500, "chance_percent": 10, "stock": 2},
               {"id": "double", "title": "x2", "multiplier": 2, "value_points": 100, "chance_percent": 10}]})
DAY = date(2026, 12, 7)


def spins_of(seed: bytes, players: int, draw: Draw = DRAW, counts: Counts | None = None,
             day: date = DAY) -> tuple[list[Spin], Counts]:
    counts, made = counts or Counts(), []
    for seq in range(1, players + 1):
        outcome, counts = spin(draw, seed, counts, day, seq, f"player{seq}", 1, {})
        made.append(outcome)
    return made, counts


def test_a_roll_is_fixed_by_the_seed_the_player_and_the_spin_and_lands_in_the_prizes_shares() -> None:
    seed = bytes(32)
    assert roll(seed, "p", 1) == roll(seed, "p", 1) != roll(seed, "p", 2) != roll(bytes([1]) * 32, "p", 1)
    def at(point: Fraction) -> str | None:
        return getattr(landed(DRAW, point), "id", None)

    assert at(Fraction(0)) == at(Fraction(299, 1000)) == "fifty"
    assert (at(Fraction(3, 10)), at(Fraction(49, 100)), at(Fraction(1, 2))) == ("big", "double", None)
    # over many players the shares come out as the program says (±3 points at 4,000 rolls)
    shares = Counter(getattr(landed(DRAW, roll(seed, f"p{n}", 1)), "id", None) for n in range(4000))
    assert abs(shares["fifty"] / 4000 - 0.30) < 0.03 and abs(shares[None] / 4000 - 0.50) < 0.03


def test_the_budget_and_the_stock_withhold_a_prize_and_never_overspend() -> None:
    spins, counts = spins_of(secrets.token_bytes(32), 300)
    given = [one for one in spins if one.prize]
    assert counts.day_points == sum(one.value_points for one in given) <= DRAW.budget.per_day_points
    assert sum(one.prize == "big" for one in spins) <= 2
    assert {one.withheld for one in spins if one.landed and not one.prize} <= {"stock", "day_budget"}
    assert any(one.withheld == "day_budget" for one in spins)  # 300 spins would give far more than 1,000
    # the next day starts a new day's budget but not a new month's: 500 of the month's 1,500 are left
    tomorrow, after = spins_of(secrets.token_bytes(32), 300, counts=counts, day=date(2026, 12, 8))
    assert after.day_points <= 500 and after.month_points <= 1500
    assert tomorrow[0].before.day_points == 0 and tomorrow[0].before.month_points == counts.month_points


def test_a_replay_of_the_day_finds_every_recorded_spin_and_any_change_to_one() -> None:
    seed = secrets.token_bytes(32)
    spins, _ = spins_of(seed, 60)
    assert verify(DRAW, seed, seed_hash(seed), spins, {}) == []
    assert verify(DRAW, secrets.token_bytes(32), seed_hash(seed), spins, {})[0].problem.startswith("the seed")
    lost = next(one for one in spins if one.prize is None)
    forged = [one.model_copy(update={"prize": "big", "landed": "big", "value_points": 500}) if one is lost else one
              for one in spins]
    (problem,) = [mismatch for mismatch in verify(DRAW, seed, seed_hash(seed), forged, {}) if mismatch.seq == lost.seq]
    assert "recorded big" in problem.problem
    dropped = [one for one in spins if one.seq != 5]
    assert any("spin 5 of the day is missing" in mismatch.problem
               for mismatch in verify(DRAW, seed, seed_hash(seed), dropped, {}))


@pytest.mark.parametrize(("prizes", "complaint"), [
    ([{"id": "a", "title": "a", "points": 1, "chance_percent": 60},
      {"id": "b", "title": "b", "points": 1, "chance_percent": 50}], "more than 100%"),
    ([{"id": "a", "title": "a", "points": 1, "multiplier": 2, "chance_percent": 5}], "exactly one of"),
    ([{"id": "a", "title": "a", "multiplier": 2, "chance_percent": 5}], "needs value_points"),
])
def test_a_draw_that_cannot_work_is_refused_with_what_to_fix(prizes: list[dict[str, object]], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Draw.model_validate({"budget": {"per_day_points": 1, "per_month_points": 1}, "prizes": prizes})
