"""The birthday's rules (domain/birthday.py): the dates people type, and when the gift is due."""

from datetime import UTC, datetime

import pytest

from loyalty.domain.birthday import Birthday, BirthdayGift, Unreadable, gift_due, parse
from loyalty.domain.receipt import MOSCOW

GIFT = BirthdayGift(points=300, days_before=3, valid_days=14)


@pytest.mark.parametrize(("text", "month_day"), [
    ("14.05", (5, 14)), ("14.05.1990", (5, 14)), ("4/5", (5, 4)), ("14-05-90", (5, 14)), ("14 мая", (5, 14)),
    ("1 Января", (1, 1)), ("29 февраля", (2, 29)), ("14 May", (5, 14)), ("3 mar", (3, 3)), ("14 мая 1990 г.", (5, 14)),
    (" 31.12 ", (12, 31)),
])
def test_a_date_is_read_as_people_type_it(text: str, month_day: tuple[int, int]) -> None:
    assert parse(text) == month_day


@pytest.mark.parametrize("text", ["31.02", "14.13", "мая", "завтра", "", "14 марта апреля", "0.05", "1990"])
def test_what_is_not_a_day_and_a_month_is_unreadable(text: str) -> None:
    with pytest.raises(Unreadable):
        parse(text)


def test_the_gift_is_due_at_noon_moscow_days_before_and_never_for_a_moment_before_the_date_was_given() -> None:
    may = Birthday(month=5, day=14, set_at=datetime(2026, 12, 7, 9, tzinfo=UTC))
    assert gift_due(GIFT, may) == (2027, datetime(2027, 5, 11, 12, tzinfo=MOSCOW))
    assert gift_due(GIFT, may.model_copy(update={"gifted": 2027})) == (2028, datetime(2028, 5, 11, 12, tzinfo=MOSCOW))
    # given on 8 December for 10 December: the 7th's moment had passed, so the first gift is next year's
    soon = Birthday(month=12, day=10, set_at=datetime(2026, 12, 8, 9, tzinfo=UTC))
    assert gift_due(GIFT, soon) == (2027, datetime(2027, 12, 7, 12, tzinfo=MOSCOW))
    leap = Birthday(month=2, day=29, set_at=datetime(2026, 12, 7, tzinfo=UTC))
    assert gift_due(GIFT, leap) == (2027, datetime(2027, 2, 25, 12, tzinfo=MOSCOW))  # kept on the 28th
