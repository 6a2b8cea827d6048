"""The member's Mini App (`webapp_api`): at a glance, how much they have, what it buys and how close the next level
is. Read-only but for two requests the bot already knows how to fulfil: exchanging a reward and a promo code,
both queued on AccrualQueue exactly as the bot's buttons queue them (the answer comes in the chat as well)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from loyalty.contracts import PromoRequested, RewardRequested, Shopper
from loyalty.domain import levels
from loyalty.domain.bot_program import words
from loyalty.domain.challenges import badge_titles, reward_words, shown
from loyalty.domain.history import history_lines
from loyalty.domain.messages import how_many, joined
from loyalty.domain.receipt import MOSCOW
from loyalty.flows.rewards import RewardView, catalog

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program
    from loyalty.flows.ports import BotMemory, Ledger, MemberDirectory, Queue

HISTORY_LENGTH = 20


class NotAMember(Exception):
    """The Telegram user has not joined the program (no phone shared yet)."""


class PendingPoints(BaseModel):
    model_config = ConfigDict(defer_build=True)

    points: int
    available_on: str  # YYYY-MM-DD, Moscow


class NextLevel(BaseModel):
    model_config = ConfigDict(defer_build=True)

    title: str
    percent: str
    missing: str  # «4 чека и 1 отзыв»
    done: float  # 0..1, for the progress bar


class LevelView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str | None
    title: str
    percent: str
    perks: list[str]
    next: NextLevel | None


class PromoView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    points: int
    until: str


class ChallengeView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    standing: str  # «1 из 3 чеков, осталось 23 дня»
    reward: str  # «+100 баллов и значок «Три чека»»


class Me(BaseModel):
    """GET /miniapp/api/me."""

    model_config = ConfigDict(defer_build=True)

    language: str
    brand: str
    available: int
    pending: int
    held: int
    pending_lots: list[PendingPoints]
    level: LevelView
    history: list[str]
    rewards: list[RewardView]
    challenges: list[ChallengeView]
    badges: list[str]
    promo_codes: list[PromoView]
    promo_min_points: int
    invite_link: str
    site_url: str | None


class MiniApp:
    def __init__(self, program: Program, members: MemberDirectory, ledger: Ledger, table: BotMemory,
                 accrual_queue: Queue, keyed: Keyed):
        self.program = program
        self.keyed = keyed
        self.members = members
        self.ledger = ledger
        self.table = table
        self.accrual_queue = accrual_queue

    def me(self, member_id: str, now: datetime) -> Me:
        program, language = self.program, self.shopper(member_id).language
        wallet = self.ledger.read(member_id)[0]
        available = wallet.spendable_points(now)
        pending = sorted(((lot.available_at, lot.points) for lot in wallet.lots.values()
                          if not lot.active and lot.points > 0), key=lambda pair: pair[0])
        return Me(
            language=language, brand=program.brand.name, available=available, pending=wallet.balance.pending,
            held=wallet.balance.held,
            pending_lots=[PendingPoints(points=points, available_on=_day(when)) for when, points in pending],
            level=self._level(wallet, language, now),
            history=history_lines(self.ledger.history(member_id, HISTORY_LENGTH), language, program),
            rewards=catalog(program, wallet, available, self.table, language),
            challenges=[ChallengeView(id=challenge.id, title=words(challenge.title, language), standing=standing,
                                      reward=reward_words(challenge.reward, language))
                        for challenge, standing in shown(program.challenges, wallet.challenges, now, language)],
            badges=badge_titles(program.challenges, (badge.challenge for badge in wallet.badges), language),
            promo_codes=[PromoView(code=hold.code, points=hold.points, until=_day(hold.expires_at))
                         for hold in wallet.holds.values() if hold.code],
            promo_min_points=program.redemption.promo_min_points,
            invite_link=f"https://t.me/{program.brand.bot_username or 'bot'}?start=ref_"
                        f"{self.table.invite_code(member_id)}",
            site_url=program.bot.site_url,
        )

    def exchange(self, member_id: str, reward_id: str, request_key: str) -> dict[str, Any]:
        """Queue the exchange as the bot's confirmation does; `request_key` (the page's own id for this tap) makes
        a repeated request order nothing more."""
        shopper = self.shopper(member_id)
        if self.program.bot.reward(reward_id) is None:
            raise KeyError(reward_id)
        order = self.keyed.id("order", member_id, reward_id, "miniapp", request_key)
        self.accrual_queue.put(RewardRequested(shopper=shopper, reward_id=reward_id, order_id=order))
        return {"order": order, "status": "queued"}

    def promo(self, member_id: str, points: int | None, request_key: str) -> dict[str, Any]:
        shopper = self.shopper(member_id)
        self.accrual_queue.put(PromoRequested(request_id=f"miniapp:{self.keyed.id('promo', member_id, request_key)}",
                                              shopper=shopper, points=points))
        return {"status": "queued"}

    # ------------------------------------------------------------------ parts
    def shopper(self, member_id: str) -> Shopper:
        """The member as the bot addresses them; NotAMember until they shared their phone."""
        member = self.members.get(member_id)
        if member is None or not member.phone or member.chat_id is None:
            raise NotAMember(member_id)
        return Shopper(member_id=member_id, chat_id=member.chat_id, language=member.language)

    def _level(self, wallet: Any, language: str, now: datetime) -> LevelView:
        program = self.program
        level = program.member_level(wallet.level)
        if level is None:
            return LevelView(id=None, title=program.brand.name, percent=f"{program.earning.base_percent.normalize():f}",
                             perks=[], next=None)
        gap = levels.next_level_gap(program, wallet, now)
        upper = None if gap is None else NextLevel(
            title=words(gap.level.title, language), percent=f"{gap.level.percent.normalize():f}",
            missing=joined([how_many(count, what, language) for what, count in gap.missing.items()], language),
            done=gap.done)
        return LevelView(id=level.id, title=words(level.title, language), percent=f"{level.percent.normalize():f}",
                         perks=[words(perk, language) for perk in level.perks], next=upper)


def _day(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).date().isoformat()
