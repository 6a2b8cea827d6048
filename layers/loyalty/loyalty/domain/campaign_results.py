"""A campaign's results as its page shows them: what it reached, what came of it, and its true effect — the
conversion of those it was sent to against the holdout's, who were sent nothing (domain/campaigns.py: held_out).

The uplift is the difference of the two conversion rates, with its 95% confidence interval by the normal
approximation (Wald). It is stated only when each side has enough members for that approximation to hold; below
that the page says the campaign needs more members, rather than a number that means nothing. Pure: no I/O.
"""


import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from loyalty.domain.campaigns import HELD_OUT, Budget, TouchRecord
from loyalty.domain.messages import plural

Z95 = 1.959964  # the normal quantile of a two-sided 95% interval
MIN_SIDE = 30  # members on each side below which the normal approximation is not trusted
_CONVERTING = ("delivered", HELD_OUT)  # a touch whose member may convert: sent, or kept back


class Uplift(BaseModel):
    """Conversion of the sent minus the holdout's, in percentage points, with its 95% interval."""

    model_config = ConfigDict(defer_build=True)

    points: float
    low: float
    high: float


class Day(BaseModel):
    """Conversion by the end of day `day` after the touch (0: the day it came), in percent of each side."""

    model_config = ConfigDict(defer_build=True)

    day: int
    sent_percent: float
    holdout_percent: float | None


class VariantResult(BaseModel):
    """One variant's side of the comparison: its delivered members, who of them bought, and its uplift."""

    model_config = ConfigDict(defer_build=True)

    label: str
    delivered: int
    converted: int
    rate: float | None
    revenue_roubles: int
    uplift: Uplift | None  # against the holdout


class Results(BaseModel):
    model_config = ConfigDict(defer_build=True)

    audience: int  # everyone the campaign selected: sent to or kept back
    sent: int  # handed to Telegram: delivered or bounced
    delivered: int
    blocked: int
    clicked: int
    converted: int
    revenue_roubles: int
    points_given: int
    points_spent: int
    held_out: int
    holdout_converted: int
    sent_rate: float | None  # conversion of the delivered, percent
    holdout_rate: float | None  # conversion of the holdout, percent
    uplift: Uplift | None
    days: list[Day]
    verdict: str  # the effect in a marketer's words
    budget: str | None = None  # what its budget has paid, and whom it could not, in words
    variants: list[VariantResult] = []


def results(stats: Mapping[str, int], touches: Iterable[TouchRecord], goal_days: int,
            budget: Budget | None = None, variants: Sequence[str] = ()) -> Results:
    """The page's figures from the campaign's counters and its touches (each delivered or held-out one, for the chart
    of conversion over the `goal_days` after it; each variant's, by its step, for their comparison)."""
    touches = list(touches)
    delivered, held = stats.get("delivered", 0), stats.get("held_out", 0)
    converted, held_converted = stats.get("converted", 0), stats.get("holdout_converted", 0)
    sent_rate, holdout_rate = _rate(converted, delivered), _rate(held_converted, held)
    uplift = _uplift(converted, delivered, held_converted, held)
    return Results(
        audience=stats.get("audience", 0), sent=delivered + stats.get("blocked", 0), delivered=delivered,
        blocked=stats.get("blocked", 0), clicked=stats.get("clicks", 0), converted=converted,
        revenue_roubles=stats.get("revenue_kopecks", 0) // 100, points_given=stats.get("points_given", 0),
        points_spent=stats.get("points_spent", 0), held_out=held, holdout_converted=held_converted,
        sent_rate=sent_rate, holdout_rate=holdout_rate, uplift=uplift,
        days=_days(touches, goal_days, delivered, held), verdict=_verdict(uplift, delivered, held),
        budget=_budget(budget, stats.get("budget_used", 0), stats.get("over_budget", 0)),
        variants=[_variant(label, [t for t in touches if t.step == index and t.status == "delivered"],
                           held_converted, held) for index, label in enumerate(variants)])


def _variant(label: str, delivered: list[TouchRecord], held_converted: int, held: int) -> VariantResult:
    converted = [touch for touch in delivered if touch.converted_at is not None]
    return VariantResult(label=label, delivered=len(delivered), converted=len(converted),
                         rate=_rate(len(converted), len(delivered)),
                         revenue_roubles=sum(touch.revenue_kopecks for touch in converted) // 100,
                         uplift=_uplift(len(converted), len(delivered), held_converted, held))


def _budget(budget: Budget | None, used: int, refused: int) -> str | None:
    if budget is None:
        return None
    parts = []
    if budget.total_points is not None:
        parts.append(f"Бюджет: выдано {used} из {budget.total_points} баллов.")
    if budget.per_member_points is not None:
        parts.append(f"Не больше {budget.per_member_points} баллов одному участнику.")
    if refused:
        parts.append(f"Бюджет исчерпан: {refused} {plural(refused, 'участнику', 'участникам', 'участникам')} "
                     "бонус не выдан и сообщение с ним не отправлено.")
    return " ".join(parts)


def _rate(converted: int, members: int) -> float | None:
    return round(100 * converted / members, 1) if members else None


def _uplift(converted: int, delivered: int, held_converted: int, held: int) -> Uplift | None:
    if delivered < MIN_SIDE or held < MIN_SIDE:
        return None
    p1, p0 = converted / delivered, held_converted / held
    spread = Z95 * math.sqrt(p1 * (1 - p1) / delivered + p0 * (1 - p0) / held)
    return Uplift(points=round(100 * (p1 - p0), 1), low=round(100 * (p1 - p0 - spread), 1),
                  high=round(100 * (p1 - p0 + spread), 1))


def _days(touches: Iterable[TouchRecord], goal_days: int, delivered: int, held: int) -> list[Day]:
    """Cumulative conversion by day after the touch, for each side (the holdout's only when there is one)."""
    by_day = {"sent": [0] * (goal_days + 1), HELD_OUT: [0] * (goal_days + 1)}
    for touch in touches:
        if touch.status not in _CONVERTING or touch.converted_at is None or touch.delivered_at is None:
            continue
        after = (datetime.fromisoformat(touch.converted_at) - datetime.fromisoformat(touch.delivered_at)).days
        by_day[HELD_OUT if touch.status == HELD_OUT else "sent"][min(max(after, 0), goal_days)] += 1
    days, sent_total, held_total = [], 0, 0
    for day in range(goal_days + 1):
        sent_total += by_day["sent"][day]
        held_total += by_day[HELD_OUT][day]
        days.append(Day(day=day, sent_percent=_rate(sent_total, delivered) or 0.0,
                        holdout_percent=_rate(held_total, held) if held else None))
    return days


def _verdict(uplift: Uplift | None, delivered: int, held: int) -> str:
    if not held:
        return "Контрольной группы нет: истинный эффект кампании не измерить."
    if uplift is None:
        return (f"Пока мало данных: нужно хотя бы {MIN_SIDE} {plural(MIN_SIDE, 'участник', 'участника', 'участников')}"
                f" с каждой стороны (доставлено {delivered}, в контрольной группе {held}).")
    interval = f"95% доверительный интервал: от {_signed(uplift.low)} до {_signed(uplift.high)} п. п."
    if uplift.low > 0:
        return f"Кампания работает: конверсия выше контрольной на {_signed(uplift.points)} п. п. ({interval})."
    if uplift.high < 0:
        return f"Кампания вредит: конверсия ниже контрольной на {_signed(uplift.points)} п. п. ({interval})."
    return f"Разница с контрольной группой ({_signed(uplift.points)} п. п.) в пределах случайности ({interval})."


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace(".", ",").replace("-", "−")
