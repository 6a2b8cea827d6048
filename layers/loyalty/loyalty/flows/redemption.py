"""Paying with points on the brand's site: quote a basket, hold points for an order, commit or release the
hold; redeem a promo code the bot issued; report a published review (its bonus is paid by the queue).

A hold is keyed by the site's Idempotency-Key: the same key with the same request returns the same hold and
charges nothing more; the same key with another request is refused.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from loyalty import clock
from loyalty.contracts import BonusGranted, Shopper
from loyalty.domain import wallet
from loyalty.domain.bot_program import words
from loyalty.domain.codes import normalise_code
from loyalty.domain.details import Details
from loyalty.domain.errors import Conflict, HoldNotFound, InvalidRequest, MemberNotFound, OverQuote
from loyalty.domain.ledger import Cause, Kind, campaign_of, entry_id_of
from loyalty.domain.points import payable_points
from loyalty.domain.receipt import gtin14
from loyalty.domain.texts import RU
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.flows.ports import CampaignConversions, Ledger, MemberDirectory, PromoCodeStore, Queue, ReviewClaims


class _Body(BaseModel):
    # Strict: points given as "10", 2.0 or true are refused, naming the field, not read as numbers.
    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)


class BasketLine(_Body):
    name: str | None = Field(default=None, max_length=500)
    gtin: str | None = Field(default=None, pattern=r"^\d{8,14}$")
    category: str | None = Field(default=None, max_length=100)
    price_kopecks: int = Field(ge=0, le=10**10)
    quantity: int = Field(default=1, ge=1, le=10_000)

    @property
    def sum_kopecks(self) -> int:
        return self.price_kopecks * self.quantity

    @property
    def units(self) -> str:
        return str(self.quantity)


class QuoteRequest(_Body):
    member_id: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{10,15}$", description="E.164, as the shopper shared it")
    lines: list[BasketLine] = Field(min_length=1, max_length=200)


class LineQuote(_Body):
    index: int
    max_points: int


class LevelView(_Body):
    id: str = Field(description="the level's id in the program: what the site keys its perks on (samples, gifts)")
    title: str = Field(description="as the member sees it, in Russian")
    perks: list[str] = Field(description="what the level gives, in Russian, as the program promises it")


class Quote(_Body):
    member_id: str
    available: int = Field(description="points the member can spend now")
    max_points: int = Field(description="the most points this basket can take: min(available, Σ lines)")
    lines: list[LineQuote]
    level: LevelView | None = Field(default=None, description="the member's level, so the order can carry its perks "
                                    "(samples in every order); none in a program without levels")


class HoldRequest(_Body):
    order_id: str = Field(min_length=1, max_length=100)
    points: int = Field(gt=0, le=10**9)
    lines: list[BasketLine] | None = Field(default=None, max_length=200,
                                           description="the basket: when given, points may not exceed its quote")


class HoldView(_Body):
    hold_id: str
    member_id: str
    points: int
    status: str = Field(description="held | committed | released")
    expires_at: str | None = None
    order_id: str | None = None


class CommitRequest(_Body):
    order_id: str | None = Field(default=None, min_length=1, max_length=100)
    order_total_kopecks: int | None = Field(default=None, ge=0, le=10**11, description=(
        "the order's whole total, what the buyer paid in money and in points: the dashboard shows the totals of "
        "orders paid with points"))


class RedeemRequest(_Body):
    order_id: str = Field(min_length=1, max_length=100)
    order_total_kopecks: int | None = Field(default=None, ge=0, le=10**11, description="as for a commit")


class ReviewRequest(_Body):
    review_id: str = Field(min_length=1, max_length=200, description="the review's id where it is published")


class Redemption:
    def __init__(self, program: Program, ledger: Ledger, members: MemberDirectory, promo_codes: PromoCodeStore,
                 accrual_queue: Queue, campaigns: CampaignConversions | None = None,
                 reviews: ReviewClaims | None = None):
        self.program = program
        self.ledger = ledger
        self.members = members
        self.promo_codes = promo_codes
        self.reviews = reviews  # None: a review id is not checked across members (flow tests without the table)
        self.accrual_queue = accrual_queue
        self.campaigns = campaigns  # where points a campaign gave are counted as spent

    def quote(self, request: QuoteRequest, now: datetime | None = None) -> Quote:
        member_id = self._member_id(request.member_id, request.phone)
        return self._quote(member_id, request.lines, now or clock.now())

    def _quote(self, member_id: str, lines: list[BasketLine], now: datetime) -> Quote:
        current, _, _ = self.ledger.read(member_id)
        available = current.spendable_points(now)
        per_line = [payable_points(_Priced(line, self._category(line)), self.program) for line in lines]
        level = self.program.member_level(current.level)
        return Quote(member_id=member_id, available=available, max_points=min(available, sum(per_line)),
                     lines=[LineQuote(index=i, max_points=points) for i, points in enumerate(per_line)],
                     level=LevelView(id=level.id, title=words(level.title, RU),
                                     perks=[words(perk, RU) for perk in level.perks]) if level else None)

    def hold(self, member_id: str, key: str, request: HoldRequest, now: datetime | None = None) -> HoldView:
        now = now or clock.now()
        fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:16]
        replay = self.ledger.entry(member_id, entry_id_of(Cause.HOLD, key))
        if replay is None and request.lines is not None:
            allowed = self._quote(member_id, request.lines, now).max_points
            if request.points > allowed:
                raise OverQuote(f"{request.points} points asked; this basket takes at most {allowed}")
        expires = now + timedelta(minutes=self.program.redemption.hold_minutes)
        posting = self.ledger.apply(
            member_id, entry_id_of(Cause.HOLD, key), Kind.HOLD,
            lambda wal: wallet.hold(wal, key, request.points, now, expires, order_id=request.order_id,
                                    request=fingerprint),
            details=Details(request=fingerprint), now=now,
        )
        if posting.details.request != fingerprint:
            raise Conflict(f"Idempotency-Key {key} was used for another request")
        return HoldView(hold_id=key, member_id=member_id, points=-posting.points, status="held",
                        expires_at=_iso(posting.details.expires_at), order_id=posting.details.order_id)

    def commit(self, member_id: str, hold_id: str, request: CommitRequest, now: datetime | None = None) -> HoldView:
        """The site pays its own hold (one it placed through this API)."""
        return self._commit(member_id, _sites(hold_id), request, now)

    def _commit(self, member_id: str, hold_id: str, request: CommitRequest, now: datetime | None = None) -> HoldView:
        now = now or clock.now()
        self._not_settled_otherwise(member_id, hold_id, "release")
        posting = self.ledger.apply(member_id, entry_id_of(Cause.COMMIT, hold_id), Kind.COMMIT,
                                    lambda wal: wallet.commit(wal, hold_id, now, request.order_id,
                                                              request.order_total_kopecks), now=now)
        if posting.applied:
            self._count_campaign_points(posting.details.lots)
        return HoldView(hold_id=hold_id, member_id=member_id, points=posting.details.spent, status="committed",
                        order_id=posting.details.order_id)

    def release(self, member_id: str, hold_id: str, now: datetime | None = None) -> HoldView:
        """The site gives back its own hold; a bot promo code's or a reward's is not the site's to release."""
        hold_id = _sites(hold_id)
        now = now or clock.now()
        self._not_settled_otherwise(member_id, hold_id, "commit")
        posting = self.ledger.apply(member_id, entry_id_of(Cause.RELEASE, hold_id), Kind.RELEASE,
                                    lambda wal: wallet.release(wal, hold_id, now), now=now)
        return HoldView(hold_id=hold_id, member_id=member_id, points=posting.details.returned, status="released")

    def redeem(self, code: str, request: RedeemRequest, now: datetime | None = None) -> HoldView:
        """A promo code pays once: the same order may ask again (a retry), another order is refused."""
        found = self.promo_codes.find(code)
        if found is None:
            raise HoldNotFound(f"no promo code {normalise_code(code)}")
        now = now or clock.now()
        paid = CommitRequest(order_id=request.order_id, order_total_kopecks=request.order_total_kopecks)
        view = self._commit(found.member_id, found.hold_id, paid, now)
        if view.order_id != request.order_id:
            raise Conflict(f"promo code {found.code} was already used for another order")
        self._convert(found.member_id, now)
        return view

    def _convert(self, member_id: str, now: datetime) -> None:
        """A promo code spent on the brand's site is a purchase there: it converts the member's last campaign touch
        (a nudge to the site) within its goal, as the site's receipt would — once (the store counts a touch once,
        whichever comes first). The API is not told the order's total: no revenue is counted with it."""
        last = self.ledger.read(member_id)[2].last_touch
        if self.campaigns is not None and last is not None and last.converted_by(now, "d2c") \
                and self.campaigns.convert(last.campaign, last.key, 0, now, last.held_out):
            logger.info("campaign converted by a promo code", extra={"campaign": last.campaign,
                                                                     "member_id": member_id})

    def review(self, member_id: str, request: ReviewRequest) -> None:
        member = self.members.get(member_id)
        if member is None:
            raise MemberNotFound(member_id)
        if member.chat_id is None:  # imported, never talked to the bot: no one to tell of the bonus
            raise InvalidRequest(f"member {member_id} has not started the bot yet; the review bonus waits for that")
        owner = self.reviews.claim_review(request.review_id, member_id) if self.reviews is not None else member_id
        if owner != member_id:
            raise Conflict(f"review {request.review_id} was already reported for another member; it is paid once")
        self.accrual_queue.put(BonusGranted(
            shopper=Shopper(member_id=member_id, chat_id=member.chat_id, language=member.language),
            bonus="review", reference=request.review_id,
        ))

    def _count_campaign_points(self, spent: dict[str, int]) -> None:
        """Points a campaign gave, now spent on an order (`spent`: what the commit took from each lot): counted in
        that campaign's figures (once, with the commit that spent them; a crash in between loses the count, never
        a point)."""
        if self.campaigns is None:
            return
        for lot, points in spent.items():
            campaign = campaign_of(lot)
            if campaign is not None:
                self.campaigns.add(campaign, points_spent=points)

    def _not_settled_otherwise(self, member_id: str, hold_id: str, other: str) -> None:
        """A committed hold cannot be released, nor a released one committed (an expired one is released)."""
        settled = entry_id_of(Cause.COMMIT, hold_id) if other == "commit" else entry_id_of(Cause.RELEASE, hold_id)
        if self.ledger.entry(member_id, settled) is not None:
            done = "committed" if other == "commit" else "released"
            raise Conflict(f"hold {hold_id} is already {done}")

    def _member_id(self, member_id: str | None, phone: str | None) -> str:
        if (member_id is None) == (phone is None):
            raise InvalidRequest("give exactly one of member_id and phone")
        if member_id is not None:
            return member_id
        assert phone is not None
        found = self.members.find_by_phone("+" + phone.lstrip("+"))
        if found is None:
            raise MemberNotFound("no member with this phone")
        return found

    def _category(self, line: BasketLine) -> str | None:
        if line.category or not line.gtin:
            return line.category
        gtin = gtin14(line.gtin)
        return next((entry.category for entry in self.program.brand.catalog if entry.gtin == gtin), None)


class _Priced:
    """A basket line as the points rules see it."""

    def __init__(self, line: BasketLine, category: str | None):
        self.sum_kopecks, self.quantity = line.sum_kopecks, line.units
        self.gtin = gtin14(line.gtin)
        self.category = category


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _sites(hold_id: str) -> str:
    """A hold the site placed (its idempotency key: no colon), else not found: the bot's promo codes (`promo:…`) and
    rewards (`reward:…`) are settled only by the channel that made them."""
    if ":" in hold_id:
        raise HoldNotFound(f"no hold {hold_id} placed through this API")
    return hold_id
