"""A campaign's results: its uplift against the holdout, with the interval, the verdict in words, and conversion by
day after the touch (no I/O)."""

from datetime import UTC, datetime, timedelta

from loyalty import clock
from loyalty.domain.campaign_results import results
from loyalty.domain.campaigns import HELD_OUT, Budget, TouchRecord

SENT_AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def touch(member: int, status: str, converted_after_days: int | None = None) -> TouchRecord:
    converted = None if converted_after_days is None else clock.stamp(SENT_AT + timedelta(days=converted_after_days,
                                                                                          hours=1))
    return TouchRecord(campaign="offer", key=f"touch#{member}#offer:0:x", member_id=str(member), step=0,
                       status=status, queued_at=clock.stamp(SENT_AT), delivered_at=clock.stamp(SENT_AT),
                       converted_at=converted)


def test_the_uplift_is_the_difference_of_conversions_with_its_95_percent_interval_and_says_it_works() -> None:
    stats = {"audience": 1_100, "delivered": 1_000, "blocked": 0, "converted": 200, "held_out": 100,
             "holdout_converted": 10, "revenue_kopecks": 30_000_000, "points_given": 5_000}
    figures = results(stats, [], 5)
    assert (figures.sent_rate, figures.holdout_rate) == (20.0, 10.0)
    assert figures.uplift is not None and figures.uplift.points == 10.0
    # sqrt(.2 * .8 / 1000 + .1 * .9 / 100) = 0.0324; x 1.96 = 6.35 points
    assert (figures.uplift.low, figures.uplift.high) == (3.6, 16.4)
    assert figures.verdict.startswith("Кампания работает: конверсия выше контрольной на +10,0 п. п.")
    assert figures.revenue_roubles == 300_000 and figures.sent == 1_000


def test_an_interval_across_zero_is_called_chance_and_too_few_members_are_called_too_few() -> None:
    even = results({"delivered": 400, "converted": 44, "held_out": 40, "holdout_converted": 4}, [], 5)
    assert even.uplift is not None and even.uplift.low < 0 < even.uplift.high
    assert even.verdict.startswith("Разница с контрольной группой (+1,0 п. п.) в пределах случайности")
    few = results({"delivered": 200, "converted": 44, "held_out": 12, "holdout_converted": 1}, [], 5)
    assert few.uplift is None and few.verdict.startswith("Пока мало данных: нужно хотя бы 30 участников")
    none = results({"delivered": 200, "converted": 44}, [], 5)
    assert none.uplift is None and none.holdout_rate is None and none.verdict.startswith("Контрольной группы нет")
    harm = results({"delivered": 1_000, "converted": 50, "held_out": 1_000, "holdout_converted": 100}, [], 5)
    assert harm.verdict.startswith("Кампания вредит: конверсия ниже контрольной на −5,0 п. п.")


def test_conversion_by_day_after_the_touch_adds_up_for_each_side() -> None:
    touches = [touch(1, "delivered", 0), touch(2, "delivered", 2), touch(3, "delivered"), touch(4, "delivered", 9),
               touch(5, HELD_OUT, 1), touch(6, HELD_OUT), touch(7, "blocked")]
    figures = results({"delivered": 4, "converted": 3, "held_out": 2, "holdout_converted": 1}, touches, 3)
    assert [(day.day, day.sent_percent, day.holdout_percent) for day in figures.days] == [
        (0, 25.0, 0.0), (1, 25.0, 50.0), (2, 50.0, 50.0), (3, 75.0, 50.0)]  # a late one counts on the last day


def test_the_budget_says_what_it_paid_and_whom_it_could_not() -> None:
    figures = results({"budget_used": 250, "over_budget": 3}, [], 5, Budget(total_points=250, per_member_points=100))
    assert figures.budget == ("Бюджет: выдано 250 из 250 баллов. Не больше 100 баллов одному участнику. "
                              "Бюджет исчерпан: 3 участникам бонус не выдан и сообщение с ним не отправлено.")
    assert results({}, [], 5).budget is None
