"""Challenges: what a member can set out to do for a reward, and how far along they are. Pure: no I/O.

A challenge is data in the program file (`challenges:`): a goal, how many, the window it must fit in, the reward
and whether it repeats. A member's progress on each is kept in their wallet, beside their facts, and moved by the
same ledger entry as the purchase or review that moves it: a redelivered receipt moves nothing twice, and a
completion pays with the entry that completed it, once.

Goals:
- `receipts`: `target` accepted receipts within `window_days` of the first of them (a receipt past the window
  starts a new count with itself);
- `channels`: receipts from `target` kinds of channel (marketplace, retail, the brand's site) within the window;
- `site_purchase`: a purchase on the brand's own site;
- `review`: a review the staff approved;
- `monthly_streak`: a receipt in each of `target` calendar months in a row (Moscow time).
"""

import calendar
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.domain.bot_program import Words, words
from loyalty.domain.messages import days_word, joined, points_word, spins_word
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.texts import RU

Goal = Literal["receipts", "channels", "site_purchase", "review", "monthly_streak"]
SITE = "d2c"  # the channel kind of the brand's own site (domain/program.py: Program.channel_kind)
_ONCE: frozenset[Goal] = frozenset({"site_purchase", "review"})  # done by one event: their target is 1
_WINDOWED: frozenset[Goal] = frozenset({"receipts", "channels"})


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Reward(_Strict):
    """What completing a challenge gives: points (a bonus like any other), a badge on the member's profile, spins of
    the prize draw; at least one."""

    points: int = Field(default=0, ge=0, le=100_000)
    badge: Words | None = Field(default=None, description="the badge's name as the member sees it")
    spins: int = Field(default=0, ge=0, le=10)

    @model_validator(mode="after")
    def _something(self) -> "Reward":
        if not (self.points or self.badge or self.spins):
            raise ValueError("a reward gives points, a badge or spins")
        return self


class Challenge(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: Words
    goal: Goal
    target: int = Field(default=1, ge=1, le=100, description="receipts, kinds of channel or months in a row")
    window_days: int | None = Field(default=None, ge=1, le=366,
                                    description="receipts, channels: counted within this many days of the first")
    starts: date | None = Field(default=None, description="open from this day (Moscow); none: since ever")
    ends: date | None = Field(default=None, description="open until this day, included; none: for good")
    reward: Reward
    repeats: bool = Field(default=False, description="completed, it starts again")

    @model_validator(mode="after")
    def _shape(self) -> "Challenge":
        if self.goal in _ONCE and self.target != 1:
            raise ValueError(f"{self.goal}: one is the whole goal; leave target out")
        if self.goal in _WINDOWED and self.window_days is None:
            raise ValueError(f"{self.goal}: give window_days, the days the receipts must fit in")
        if self.goal not in _WINDOWED and self.window_days is not None:
            raise ValueError(f"{self.goal}: window_days is for receipts and channels only")
        if self.goal == "channels" and self.target > 3:
            raise ValueError("channels: there are three kinds of channel (marketplace, retail, the brand's site)")
        if self.starts and self.ends and self.starts > self.ends:
            raise ValueError("starts comes before ends")
        return self

    def open_on(self, moment: datetime) -> bool:
        day = moment.astimezone(MOSCOW).date()
        return (self.starts is None or self.starts <= day) and (self.ends is None or day <= self.ends)


class Progress(_Strict):
    """A member's way through one challenge since it last started."""

    since: datetime | None = None  # the first event counted in this round
    receipts: int = 0
    kinds: tuple[str, ...] = ()  # kinds of channel bought in, this round
    months: tuple[str, ...] = ()  # "2026-12": the months in a row with a receipt, this round, latest last
    completed: int = 0  # rounds completed (a challenge that does not repeat completes once)


class Event(_Strict):
    """What moves a challenge: an accepted purchase (its channel's kind) or an approved review."""

    at: datetime
    kind: Literal["purchase", "review"]
    channel_kind: str | None = None


def advance(challenge: Challenge, progress: Progress, event: Event) -> tuple[Progress, bool]:
    """The progress after `event`, and whether the event completed a round (whose reward is then due)."""
    if (progress.completed and not challenge.repeats) or not challenge.open_on(event.at):
        return progress, False
    moved = _moved(challenge, progress, event)
    if moved is progress or not _done(challenge, moved):
        return moved, False
    return Progress(completed=progress.completed + 1), True


def _moved(challenge: Challenge, progress: Progress, event: Event) -> Progress:
    goal = challenge.goal
    if goal == "review":
        return Progress(since=event.at, completed=progress.completed) if event.kind == "review" else progress
    if event.kind != "purchase":
        return progress
    if goal == "site_purchase":
        return Progress(since=event.at, completed=progress.completed) if event.channel_kind == SITE else progress
    if goal == "monthly_streak":
        return _streak(progress, event.at)
    fresh = progress.since is None or _expired(challenge, progress, event.at)
    base = Progress(since=event.at, completed=progress.completed) if fresh else progress
    kinds = tuple(sorted({*base.kinds, event.channel_kind or "other"}))
    return base.model_copy(update={"receipts": base.receipts + 1, "kinds": kinds})


def _expired(challenge: Challenge, progress: Progress, now: datetime) -> bool:
    return progress.since is not None and challenge.window_days is not None \
        and now - progress.since > timedelta(days=challenge.window_days)


def _streak(progress: Progress, at: datetime) -> Progress:
    month = at.astimezone(MOSCOW).strftime("%Y-%m")
    if progress.months and progress.months[-1] >= month:
        return progress  # this month counted already (or a receipt from an earlier month, come late)
    in_a_row = bool(progress.months) and _shifted(progress.months[-1], 1) == month
    months = (*progress.months, month) if in_a_row else (month,)
    return progress.model_copy(update={"since": progress.since if in_a_row else at, "months": months})


def _shifted(month: str, by: int) -> str:
    """"2026-12" moved `by` months: +1 is "2027-01", -1 "2026-11"."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12}-{index % 12 + 1:02d}"


def _done(challenge: Challenge, progress: Progress) -> bool:
    if challenge.goal in _ONCE:
        return progress.since is not None
    return _reached(challenge, progress) >= challenge.target


def _reached(challenge: Challenge, progress: Progress) -> int:
    """How far this round has come toward the target: receipts, kinds of channel (`other` is none), months."""
    return {"receipts": progress.receipts, "channels": len(set(progress.kinds) - {"other"}),
            "monthly_streak": len(progress.months)}[challenge.goal]


def standing(challenge: Challenge, progress: Progress, now: datetime, language: str) -> str:
    """Where the member stands, in their words: «2 из 3 чеков, осталось 12 дней», «выполнено»."""
    if progress.completed and not challenge.repeats:
        return "выполнено" if language == RU else "done"
    if challenge.goal in _ONCE:
        return "ещё не выполнено" if language == RU else "not done yet"
    if challenge.goal == "monthly_streak":
        return _streak_standing(challenge, progress, now, language)
    window = challenge.window_days or 0
    if progress.since is None or _expired(challenge, progress, now):  # no round under way: a new one has it all
        return _of(0, challenge.target, challenge.goal, language) + _days_left(window, language)
    left = (progress.since + timedelta(days=window) - now).days
    return _of(_reached(challenge, progress), challenge.target, challenge.goal, language) + \
        _days_left(max(left, 0), language)


def _of(have: int, target: int, goal: Goal, language: str) -> str:
    """«2 из 3 чеков»: after «из» Russian takes the genitive, singular for one and plural for every other count."""
    if language != RU:
        return f"{have} of {target} " + ("receipts" if goal == "receipts" else "kinds of store")
    word = {"receipts": ("чека", "чеков"), "channels": ("вида магазинов", "видов магазинов")}[goal]
    return f"{have} из {target} {word[0] if target == 1 else word[1]}"


def _days_left(days: int, language: str) -> str:
    return f", осталось {days} {days_word(days)}" if language == RU else f", {days} days left"


def _streak_standing(challenge: Challenge, progress: Progress, now: datetime, language: str) -> str:
    month = now.astimezone(MOSCOW).strftime("%Y-%m")
    alive = bool(progress.months) and progress.months[-1] in (month, _shifted(month, -1))
    have = len(progress.months) if alive else 0
    text = (f"{have} из {challenge.target} {'месяца' if challenge.target == 1 else 'месяцев'} подряд"
            if language == RU else f"{have} of {challenge.target} months in a row")
    if alive and progress.months[-1] != month:
        local = now.astimezone(MOSCOW)
        days = calendar.monthrange(local.year, local.month)[1] - local.day + 1
        text += (f"; чек в этом месяце — до конца осталось {days} {days_word(days)}" if language == RU
                 else f"; a receipt this month keeps it: {days} days left")
    return text


def reward_words(reward: Reward, language: str) -> str:
    """«+100 баллов, значок «Три чека» и 1 вращение колеса призов»."""
    parts = []
    if reward.points:
        parts.append(f"+{reward.points} {points_word(reward.points)}" if language == RU
                     else f"+{reward.points} points")
    if reward.badge:
        parts.append(f"значок «{words(reward.badge, language)}»" if language == RU
                     else f"the “{words(reward.badge, language)}” badge")
    if reward.spins:
        parts.append(f"{reward.spins} {spins_word(reward.spins)} колеса призов"
                     if language == RU else f"{reward.spins} spin{'s' if reward.spins > 1 else ''} of the prize wheel")
    return joined(parts, language)


def shown(challenges: Sequence[Challenge], progress: Mapping[str, Progress], now: datetime,
          language: str, finished: bool = True) -> list[tuple[Challenge, str]]:
    """The challenges open now, each with where the member stands (the bot's /level and the Mini App both).
    `finished`: also those the member completed for good («выполнено»); /level lists only what is left to do."""
    return [(challenge, standing(challenge, progress.get(challenge.id, Progress()), now, language))
            for challenge in challenges if challenge.open_on(now) and (
                finished or challenge.repeats or not progress.get(challenge.id, Progress()).completed)]


def badge_titles(challenges: Sequence[Challenge], earned: Iterable[str], language: str) -> list[str]:
    """The badges of the challenges `earned` names, as the program calls them now."""
    by_id = {challenge.id: challenge for challenge in challenges}
    return [words(badge, language) for challenge_id in earned
            if challenge_id in by_id and (badge := by_id[challenge_id].reward.badge) is not None]
