"""The birthday gift: a date the member gives once (and may correct once a year), and points a few days before it,
valid for a fortnight. Pure: no I/O.

The date lives in the wallet, set by a ledger entry, so the gift is due like any other wallet change (the points
schedule finds it through the due index) and is paid by an entry keyed on its year: once a year, whatever reruns.
"""

import calendar
import re
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from loyalty.domain.messages import day_month
from loyalty.domain.receipt import MOSCOW

CORRECTION_DAYS = 365  # a date given may be corrected once this long after it was last given

_MONTHS = {"январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7, "август": 8, "сентябр": 9,
           "октябр": 10, "ноябр": 11, "декабр": 12}
_EN_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_EN_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}


class BirthdayGift(BaseModel):
    """The program's gift (`birthday:` in the program file)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    points: int = Field(ge=1, le=100_000)
    days_before: int = Field(default=3, ge=0, le=30, description="the gift comes this many days before the birthday")
    valid_days: int = Field(default=14, ge=1, le=90, description="the gift's points expire this long after it")
    min_level: str | None = Field(default=None, description="the level the gift is a perk of; none: everyone's")


class Birthday(BaseModel):
    """The member's birthday as they gave it (no year: it is not needed, and is personal data we do not keep)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    set_at: datetime  # when it was last given: a correction waits CORRECTION_DAYS from it
    changes: int = 1  # how many times it was given (the entry setting it is keyed on this)
    gifted: int = 0  # the last year a gift was due (given, or passed over below its level)

    def words(self, language: str) -> str:
        """«14 мая», "14 May"."""
        return day_month(datetime(2000, self.month, self.day, 12, tzinfo=MOSCOW), language)


class Unreadable(ValueError):
    """Not a day and a month («14.05», «14 мая»)."""


def parse(text: str) -> tuple[int, int]:
    """(month, day) of «14.05», «14.05.1990», «14/5», «14 мая», «14 May»; Unreadable otherwise. A year, if given, is
    dropped: the gift needs the day only."""
    cleaned = text.strip().lower()
    numeric = re.fullmatch(r"(\d{1,2})[./\-\s](\d{1,2})(?:[./\-\s](\d{2}|\d{4}))?", cleaned)
    if numeric:
        day, month = int(numeric[1]), int(numeric[2])
    else:
        worded = re.fullmatch(r"(\d{1,2})\s+([a-zа-яё]+)\.?(?:\s+(\d{4}))?(?:\s*г\.?)?", cleaned)
        if not worded:
            raise Unreadable(text)
        day, month = int(worded[1]), _month(worded[2])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:  # 2000: 29 February exists
        raise Unreadable(text)
    return month, day


def _month(word: str) -> int:
    for stem, number in _MONTHS.items():
        if word.startswith(stem) and (stem != "ма" or word in ("мая", "май")):
            return number
    if word in _EN_MONTHS:
        return _EN_MONTHS[word]
    raise Unreadable(word)


def correctable_from(birthday: Birthday) -> datetime:
    return birthday.set_at + timedelta(days=CORRECTION_DAYS)


def on(birthday: Birthday, year: int) -> date:
    """The birthday in `year`: 29 February is kept on the 28th in other years."""
    return date(year, birthday.month, min(birthday.day, calendar.monthrange(year, birthday.month)[1]))


def gift_due(gift: BirthdayGift, birthday: Birthday) -> tuple[int, datetime]:
    """The next gift: its year and when it is due (noon in Moscow, `days_before` the birthday). A year whose moment
    came before the date was given is skipped: a date given the day before cannot bring a gift the same day."""
    year = max(birthday.gifted + 1, birthday.set_at.astimezone(MOSCOW).year)
    while True:
        moment = datetime.combine(on(birthday, year) - timedelta(days=gift.days_before), time(12), MOSCOW)
        if moment >= birthday.set_at:
            return year, moment
        year += 1
