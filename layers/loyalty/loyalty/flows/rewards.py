"""The rewards catalog as a member sees it (the bot's /rewards, the Mini App), and exchanging points for a reward.

The exchange (AccrualQueue): the points are held, then the hold is committed in
the same DynamoDB transaction that takes one of the reward's stock, so two members cannot both take the last one —
the loser's hold is released. The order goes to the brand's staff chat. Every step is a ledger entry keyed on the
order, so a redelivered request finishes the exchange exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loyalty.domain import levels, wallet
from loyalty.domain.bot_program import words
from loyalty.domain.conversation import Ticket
from loyalty.domain.details import Details
from loyalty.domain.errors import InsufficientPoints, ItemRefused
from loyalty.domain.ledger import Cause, Kind, entry_id_of
from loyalty.domain.messages import render
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.contracts import RewardRequested
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.ports import BotMemory, Ledger, RewardStock
    from loyalty.flows.replies import Replies


class RewardView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    points: int
    state: str  # available | too_few | locked (a higher level opens it) | gone (out of stock)
    from_level: str | None = None
    image: str | None = None  # its picture (the console sets it), in the Mini App


def catalog(program: Program, wallet: Wallet, available: int, table: RewardStock, language: str) -> list[RewardView]:
    """Every reward with what it is for this member now."""
    rank, views = levels.current_index(program, wallet), []
    for reward in program.bot.rewards:
        gate = program.level(reward.min_level)
        state = "available"
        if gate is not None and program.levels.index(gate) > rank:
            state = "locked"
        elif reward.stock is not None and table.stock_left(reward.id, reward.stock) <= 0:
            state = "gone"
        elif reward.points > available:
            state = "too_few"
        views.append(RewardView(id=reward.id, title=words(reward.title, language), points=reward.points, state=state,
                                from_level=words(gate.title, language) if gate else None, image=reward.image))
    return views


_HOLD_MINUTES = 10  # a hold the exchange did not finish goes back by itself (the schedule releases it)


class RewardExchange:
    def __init__(self, program: Program, ledger: Ledger, replies: Replies, table: BotMemory):
        self.program = program
        self.ledger = ledger
        self.replies = replies
        self.table = table

    def exchange(self, request: RewardRequested, now: datetime) -> str:
        """Returns what happened: ordered, out_of_stock, too_few, level_needed."""
        reward, shopper = self.program.bot.reward(request.reward_id), request.shopper
        if reward is None:
            return "unknown"
        member_id, hold_id = shopper.member_id, f"reward:{request.order_id}"
        language, title = shopper.language, words(reward.title, shopper.language)
        key = f"reward:{member_id}:{request.order_id}"
        committed = self.ledger.entry(member_id, entry_id_of(Cause.COMMIT, hold_id))
        if committed is None:
            current = self.ledger.read(member_id)[0]
            gate = self.program.level(reward.min_level)
            if gate is not None and levels.current_index(self.program, current) < self.program.levels.index(gate):
                self.replies.send(shopper, key, "reward_level_needed", title=title, level=words(gate.title, language))
                return "level_needed"
            if self.ledger.entry(member_id, entry_id_of(Cause.RELEASE, hold_id)) is not None or (
                    reward.stock is not None and self.table.stock_left(reward.id, reward.stock) <= 0):
                self.replies.send(shopper, key, "reward_out_of_stock", title=title)
                return "out_of_stock"
            details = Details(reward=reward.id, label=words(reward.title, "ru"), order_id=request.order_id)
            try:
                self.ledger.apply(member_id, entry_id_of(Cause.HOLD, hold_id), Kind.HOLD,
                                  lambda wal: wallet.hold(wal, hold_id, reward.points, now,
                                                          now + timedelta(minutes=_HOLD_MINUTES)),
                                  details=details, now=now)
            except InsufficientPoints as error:
                self.replies.send(shopper, key, "reward_too_few", title=title, points=reward.points,
                                  balance=error.available)
                return "too_few"
            stock = [] if reward.stock is None else [self.table.take_item(reward.id, request.order_id, reward.stock)]
            try:
                self.ledger.apply(member_id, entry_id_of(Cause.COMMIT, hold_id), Kind.COMMIT,
                                  lambda wal: wallet.commit(wal, hold_id, now, order_id=request.order_id),
                                  details=details, extra_items=stock, now=now)
            except ItemRefused:  # somebody took the last one between our check and our commit
                self.ledger.apply(member_id, entry_id_of(Cause.RELEASE, hold_id), Kind.RELEASE,
                                  lambda wal: wallet.release(wal, hold_id, now, reason="out of stock"),
                                  details=details, now=now)
                self.replies.send(shopper, key, "reward_out_of_stock", title=title)
                logger.info("reward ran out at the commit", extra={"member_id": member_id, "reward": reward.id})
                return "out_of_stock"
            logger.info("reward exchanged", extra={"member_id": member_id, "reward": reward.id})
        after = self.ledger.read(member_id)[0]
        self.replies.send(shopper, key, "reward_ordered", title=title, points=reward.points,
                          balance=after.spendable_points(now))
        staff = self.program.bot.staff_chat_id
        if staff is not None:  # a ticket, so a staff Reply to the order (where to deliver it) reaches the shopper
            self.table.open_ticket(Ticket(id=request.order_id, kind="reward", member_id=member_id))
            self.replies.to_chat(staff, f"{key}:staff", render(
                "staff_reward_order", "ru", order=request.order_id, title=words(reward.title, "ru"),
                points=reward.points, member=member_id, level=self.program.level_title(after.level, "ru")))
        logger.info("reward ordered", extra={"member_id": member_id, "reward": reward.id, "order": request.order_id})
        return "ordered"
