"""The prize draw as a member plays it (the Mini App) and as anyone checks it (`loyalty draw verify`).

A spin is decided before anything is paid: the outcome is recorded with the counts it moved (adapters/draw_store.py),
then the ledger writes the spin's entry (`draw#<number>`), which uses the spin and gives the prize. Both are keyed on
the member's own number of the spin, so a spin asked twice, or retried after a failure between the two writes, finds
its outcome recorded and pays it once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loyalty.domain import postings
from loyalty.domain.bot_program import words
from loyalty.domain.conversation import Ticket
from loyalty.domain.daily import day_of
from loyalty.domain.details import Details
from loyalty.domain.draw import Mismatch, Spin, spin, verify
from loyalty.domain.errors import NoSpins
from loyalty.domain.ledger import Cause, Kind, entry_id_of
from loyalty.domain.messages import render
from loyalty.flows.draw_seeds import publish
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.contracts import Shopper
    from loyalty.domain.draw import Draw, Prize
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program
    from loyalty.flows.ports import BotMemory, DrawStore, Ledger
    from loyalty.flows.replies import Replies

_ATTEMPTS = 20  # spins raced on the draw's counts: each retry reads them again


class PrizeView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    title: str
    chance_percent: str


class SeedView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    day: str
    hash: str
    seed: str | None  # revealed once the day is over


class Board(BaseModel):
    """GET /miniapp/api/draw: the wheel, the member's spins, and what makes it checkable."""

    model_config = ConfigDict(defer_build=True)

    title: str
    spins: int
    next_number: int  # the number of the member's next spin: the page sends it, so a retried request spins once
    prizes: list[PrizeView]
    player: str  # the member's keyed marker, the name their spins are published under
    seeds: list[SeedView]  # yesterday's (revealed), today's and tomorrow's


class Outcome(BaseModel):
    """POST /miniapp/api/draw/spin."""

    model_config = ConfigDict(defer_build=True)

    number: int
    day: str
    prize: str | None  # its id; None: no prize this time
    title: str  # «+50 баллов», «в этот раз без приза»
    withheld: str | None  # the roll landed on a prize that was out of stock or over the budget
    spins: int  # left
    available: int


class PrizeDraw:
    def __init__(self, program: Program, ledger: Ledger, store: DrawStore, keyed: Keyed, replies: Replies,
                 table: BotMemory):
        assert program.draw is not None, "the program has no draw"
        self.program = program
        self.draw: Draw = program.draw
        self.ledger = ledger
        self.store = store
        self.keyed = keyed
        self.replies = replies
        self.table = table

    def player(self, member_id: str) -> str:
        return self.keyed.marker("member", member_id)

    def board(self, shopper: Shopper, now: datetime) -> Board:
        today, language = day_of(now), shopper.language
        self.publish(now)
        wallet = self.ledger.read(shopper.member_id)[0]
        return Board(
            title=words(self.draw.title, language), spins=wallet.spins, next_number=wallet.spins_used + 1,
            prizes=[PrizeView(id=prize.id, title=words(prize.title, language),
                              chance_percent=f"{prize.chance_percent.normalize():f}") for prize in self.draw.prizes],
            player=self.player(shopper.member_id),
            seeds=[SeedView(day=seed["day"], hash=seed["hash"],
                            seed=seed["seed"] if seed["day"] < today.isoformat() else None)
                   for seed in self.store.seeds(today - timedelta(days=1), today + timedelta(days=1))])

    def publish(self, now: datetime) -> None:
        publish(self.store, now)

    def spin(self, shopper: Shopper, now: datetime, number: int | None = None) -> Outcome:
        """The member's spin `number` (by default their next): drawn (or found drawn), then paid once. A number
        already spun answers what it won; NoSpins when they have none left, or skip one."""
        member_id = shopper.member_id
        wallet = self.ledger.read(member_id)[0]
        number, player = number or wallet.spins_used + 1, self.player(member_id)
        if number > wallet.spins_used + 1:
            raise NoSpins()
        drawn = self.store.spin_of(player, number)
        if drawn is None:
            if wallet.spins < 1:
                raise NoSpins()
            drawn = self._drawn(player, number, now)
        prize = self.draw.prize(drawn.prize)
        posting = self.ledger.apply(
            member_id, entry_id_of(Cause.DRAW, str(number)), Kind.BONUS,
            lambda wal: postings.spun(self.program, wal, number, prize, now),
            details=Details(label=f"приз: {words(prize.title, 'ru')}" if prize else "колесо призов"), now=now)
        if prize is not None and prize.kind == "reward":
            self._order(shopper, prize, number)
        logger.info("prize draw spun", extra={"member_id": member_id, "number": number, "prize": drawn.prize,
                                              "withheld": drawn.withheld, "replayed": not posting.applied})
        after = posting.balance
        return Outcome(number=number, day=drawn.day, prize=drawn.prize, withheld=drawn.withheld,
                       title=words(prize.title, shopper.language) if prize else
                       render("draw_no_prize", shopper.language),
                       spins=self.ledger.read(member_id)[0].spins, available=after.available)

    def _drawn(self, player: str, number: int, now: datetime) -> Spin:
        """Decide the spin on the draw's counts as they are; a spin recorded meanwhile moves them, so read again."""
        today = day_of(now)
        seed = self.store.seed(today, now)
        self.store.seed(today + timedelta(days=1), now)
        prices = self.program.reward_prices()
        for _ in range(_ATTEMPTS):
            counts, seq, version = self.store.state()
            next_seq = seq + 1 if counts.day == today.isoformat() else 1
            outcome, after = spin(self.draw, seed, counts, today, next_seq, player, number, prices)
            if self.store.record(outcome, after, version):
                return outcome
            recorded = self.store.spin_of(player, number)  # the same spin, asked twice at once
            if recorded is not None:
                return recorded
        raise NoSpins()  # never seen: twenty spins of others between one read and its write

    def _order(self, shopper: Shopper, prize: Prize, number: int) -> None:
        """A reward won: the member is told, and the staff get an order to send it (a ticket: a Reply reaches the
        member), once."""
        order = self.keyed.id("prize", shopper.member_id, str(number))
        title = words(prize.title, shopper.language)
        self.replies.send(shopper, f"draw:{shopper.member_id}:{number}", "draw_prize_reward", title=title)
        staff = self.program.bot.staff_chat_id
        if staff is None:
            return
        self.table.open_ticket(Ticket(id=order, kind="reward", member_id=shopper.member_id))
        self.replies.to_chat(staff, f"draw:{shopper.member_id}:{number}:staff", render(
            "staff_draw_prize", "ru", order=order, title=words(prize.title, "ru"), member=shopper.member_id,
            level=self.program.level_title(self.ledger.read(shopper.member_id)[0].level, "ru")))

    def verify(self, day: date) -> list[Mismatch]:
        """Every way the day's recorded spins depart from a replay of them (empty: the day checks out)."""
        return verify_day(self.draw, self.program.reward_prices(), self.store, day)[1]


def verify_day(draw: Draw, reward_prices: dict[str, int], store: DrawStore, day: date) -> tuple[list[Spin],
                                                                                                list[Mismatch]]:
    """The day's recorded spins, and every way they depart from a replay from the day's seed. A seed made on its
    own day (its hash was not out the day before) is named too: its spins could not be checked in advance."""
    seeds, spins = store.seeds(day, day), store.day(day)
    if not seeds:
        return spins, [Mismatch(seq=0, problem="no seed was made for the day")] if spins else []
    seed = seeds[0]
    problems = verify(draw, bytes.fromhex(seed["seed"]), seed["hash"], spins, reward_prices)
    if spins and day_of(datetime.fromisoformat(str(seed["made_at"]))) >= day:
        problems.append(Mismatch(seq=0, problem=f"the seed was made on the day itself ({seed['made_at']}), not "
                                                "published the day before"))
    return spins, problems



