"""Campaign runs: find the members a campaign is for, pay the step's bonus, queue its message — once each.

- A win-back ladder reads, for each step, the members whose last purchase crossed that step's lapse since
  the previous run (the lapse index, `by_last_purchase`), so a run reads about as many members as it reaches.
- A broadcast goes out once its moment has come, to everyone in its segment.
- A triggered campaign is reached from the accrual flow, on the purchase that brings a member into its segment.

Reaching a member (`Touches.reach`) writes the step's bonus as a ledger entry keyed on the touch, queues the
message on CampaignQueue keyed on the touch, and only then records the touch: a run that dies in between is
repeated by the next one with no second bonus, and the sender drops the second message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from string import Formatter
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import CampaignMessage
from loyalty.domain import postings, wallet
from loyalty.domain.bot_program import words
from loyalty.domain.campaigns import (
    HELD_OUT,
    PERSONAL,
    Bonus,
    Campaign,
    LastTouch,
    Message,
    Personal,
    Step,
    Touch,
    held_out,
    lapse_window,
    member_of,
    touch_key,
    winback_touch,
)
from loyalty.domain.details import Details
from loyalty.domain.ledger import Cause, Holder, Kind, entry_id_of
from loyalty.domain.messages import day_month, with_words
from loyalty.domain.profile import PREFIX as INTEREST
from loyalty.domain.segments import Member, source_of
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.ports import Audience, CampaignRecords, Ledger, Members, Queue

_FIRST_RUN_LOOKBACK = timedelta(days=1)  # a campaign's first run reaches the lapses of the last day only


class Touches:
    """Reaching one member with one campaign step: its bonus and its message, once."""

    def __init__(self, program: Program, ledger: Ledger, store: CampaignRecords, queue: Queue,
                 members: Members | None = None):
        self.program = program
        self.ledger = ledger
        self.store = store
        self.queue = queue
        self.members = members  # a held-out member's touch becomes their last one, as a delivery would

    def reach(self, campaign: Campaign, touch: Touch, holder: Holder, now: datetime,
              values: dict[str, Any] | None = None) -> bool:
        """False when the member was reached by this touch already, or cannot be (blocked the bot). `values`:
        what the message's placeholders say, where the occasion knows better (the points about to expire)."""
        if not holder.subscribed or holder.chat_id is None or self.store.touched(touch):
            return False
        if held_out(campaign, touch.member_id):
            self.hold_out(campaign, touch, now)
            return False
        step = campaign.step(touch.step)
        bonus, entry_id = step.bonus, entry_id_of(Cause.CAMPAIGN, touch.key)
        points, balance, until = 0, None, None
        if bonus is not None and not self._affordable(campaign, bonus, touch.member_id):
            self.store.add(campaign.name, over_budget=1)
            logger.info("campaign budget spent: member not reached", extra={"campaign": campaign.name,
                                                                           "member_id": touch.member_id})
            return False
        if bonus is not None:
            cap = campaign.budget.per_member_points if campaign.budget else None
            posting = self.ledger.apply(
                touch.member_id, entry_id, Kind.BONUS if bonus.points else Kind.BOOST,
                lambda wal: postings.campaign_bonus(wal, entry_id, campaign.name, bonus, now, cap),
                Details(campaign=campaign.name), now=now)
            points, balance, until = max(posting.points, 0), posting.balance.available, posting.details.expires_at
        message = step.messages.get(holder.language) or step.messages["ru"]
        wallet = self.ledger.read(touch.member_id)[0] if balance is None or _personal(message) else None
        if balance is None:
            assert wallet is not None
            balance = wallet.spendable_points(now)
        values = {"balance": balance, "points": points, **(values or {})}
        text = written(step, holder.language, self.program.brand.name, values.pop("until", until), values,
                       personal(self.program, holder, wallet) if wallet is not None else None)
        return self.deliver(touch, holder, text, message.keyboard(), now,
                            points=points, image=message.image, goal_days=campaign.goal.within_days,
                            goal_channel=campaign.goal.channel)

    def _affordable(self, campaign: Campaign, bonus: Bonus, member_id: str) -> bool:
        """Whether the campaign's budget pays this member's bonus, taking a points bonus from it. A multiplier's
        points are taken as its receipts earn them (the accrual flow): it is given while any budget is left, and its
        boost adds at most the budget per member."""
        budget = campaign.budget
        if budget is None:
            return True
        if bonus.points is not None and budget.per_member_points is not None \
                and self.store.given_to(campaign.name, member_id) + bonus.points > budget.per_member_points:
            return False
        if budget.total_points is None:
            return True
        if bonus.points is not None:
            return self.store.reserve(campaign.name, bonus.points, budget.total_points)
        return self.store.spent(campaign.name) < budget.total_points

    def hold_out(self, campaign: Campaign, touch: Touch, now: datetime) -> None:
        """Keep the member back: no message, no bonus. The touch counts in the audience, settled at once as held out,
        and becomes the member's last touch, so a purchase within the goal converts it as it would a delivery."""
        if not self.store.record(touch, 0, now):
            return
        goal, key = campaign.goal, touch_key(touch)
        last = LastTouch(campaign=campaign.name, key=key, delivered_at=now, held_out=True, channel=goal.channel,
                         until=now + timedelta(days=goal.within_days))
        attributed = [self.members.touched_item(touch.member_id, last.model_dump(mode="json"))] if self.members else []
        self.store.settle(campaign.name, key, HELD_OUT, now, also=attributed)

    def deliver(self, touch: Touch, holder: Holder, text: str, reply_markup: dict[str, Any] | None, now: datetime,
                points: int = 0, image: str | None = None, goal_days: int = 7, goal_channel: str | None = None) -> bool:
        """Queue one message as a touch of its campaign (a program's campaign, or a follow-up after a receipt),
        then record the touch: False when it was recorded before (the sender drops the repeated message)."""
        assert holder.chat_id is not None
        self.queue.put(CampaignMessage(
            campaign=touch.campaign, touch=touch_key(touch), member_id=touch.member_id, chat_id=holder.chat_id,
            text=text, image=image, reply_markup=reply_markup, goal_days=goal_days, goal_channel=goal_channel,
            queued_at=now))
        return self.store.record(touch, points, now)


class Campaigns:
    def __init__(self, program: Program, audience: Audience, store: CampaignRecords, touches: Touches,
                 live: Callable[[datetime], Program] | None = None):
        self.program = program
        self.audience = audience
        self.store = store
        self.touches = touches
        # The program with the console's live campaigns (flows/console_read.py: ConsoleRead.program): a launch or a stop
        # in the console counts from the next run on.
        self.live = live

    def run(self, now: datetime, only: str | None = None) -> dict[str, int]:
        """Run every win-back and due broadcast (or only `only`), the program file's and the console's live ones;
        returns how many members each reached."""
        program = self.live(now) if self.live is not None else self.program
        return {campaign.name: self.reach(campaign, self.select(campaign, now, program), now)
                for campaign in self._due(program, now, only)}

    def reach(self, campaign: Campaign, selected: Iterable[tuple[Touch, Holder]], now: datetime,
              progress: Callable[[], None] = lambda: None) -> int:
        """Reach the members `select` found, then move the campaign's cursor to `now`."""
        count = 0
        for touch, holder in selected:
            count += self.touches.reach(campaign, touch, holder, now)
            progress()
        self.store.advance(campaign.name, now)
        logger.info("campaign run", extra={"campaign": campaign.name, "reached": count, "at": now.isoformat()})
        return count

    def select(self, campaign: Campaign, now: datetime, program: Program | None = None
               ) -> Iterator[tuple[Touch, Holder]]:
        """Who this run of `campaign` is for (sending nothing: the dry run's answer too)."""
        since = self.store.cursor(campaign.name) or now - _FIRST_RUN_LOOKBACK
        segments = (program or self.program).segments
        segment = segments.get(campaign.segment) if campaign.segment else None
        if campaign.kind == "winback":
            for index in range(len(campaign.steps)):
                start, end = lapse_window(campaign, index, since, now)
                for item in self.audience.lapsed(clock.stamp(start), clock.stamp(end)):
                    holder, member = audience_member(item, now)
                    touch = winback_touch(campaign, holder.member_id, member.facts, now)
                    if touch is not None and touch.step == index and (segment is None or segment.matches(member, now)):
                        yield touch, holder
        elif campaign.kind == "broadcast" and campaign.at is not None:
            occasion = campaign.at.isoformat()
            for item in self.audience.everyone():
                holder, member = audience_member(item, now)
                if segment is None or segment.matches(member, now):
                    yield campaign.touch(holder.member_id, occasion), holder

    def _due(self, program: Program, now: datetime, only: str | None) -> Iterator[Campaign]:
        for campaign in program.campaigns:
            if only is not None and campaign.name != only:
                continue
            if campaign.kind == "winback" and campaign.sends_at(now):
                yield campaign  # a win-back's cursor stays put at night: the morning's run takes the night's lapses
            elif campaign.kind == "broadcast" and campaign.at is not None and campaign.at <= now:
                done = self.store.cursor(campaign.name)
                if done is None or done < campaign.at:  # once: a run that died half-way is finished by the next
                    yield campaign


def written(step: Step, language: str, brand: str, until: datetime | None, values: dict[str, Any],
            personal: dict[str, str | None] | None = None) -> str:
    """A campaign step's text in `language` (ru if it has none), its placeholders filled: `values` (the balance, the
    points given), the bonus's days and minimum receipt, the brand, the date the bonus ends, the words that agree
    with the numbers, and the member's own words (`personal`: first name, level, last product), or their fallbacks."""
    bonus = step.bonus
    message = step.messages.get(language) or step.messages["ru"]
    days = (bonus.expires_in_days or bonus.days or 0) if bonus else 0
    own = {name: Personal((personal or {}).get(name)) for name in PERSONAL}
    return message.text.format(**with_words(
        language, **{"days": days, **values}, brand=brand, until=day_month(until, language) if until else "",
        min_receipt=bonus.min_receipt_roubles or 0 if bonus else 0), **own)


def personal(program: Program, holder: Holder, wallet: Wallet) -> dict[str, str | None]:
    """The member's own words a text may use: first name, level (in their language), last product."""
    level = next((level for level in program.levels if level.id == wallet.level), None)
    return {"first_name": holder.name, "level": words(level.title, holder.language) if level else None,
            "last_product": wallet.facts.last_product, **program.profile.named(holder.interests, holder.language)}


def _personal(message: Message) -> bool:
    """Whether the text names the member's own words (their wallet is read for them)."""
    return any(name is not None and (name in PERSONAL or name.startswith(INTEREST))
               for _, name, _, _ in Formatter().parse(message.text))


def audience_member(item: dict[str, Any], now: datetime) -> tuple[Holder, Member]:
    """A member as the audience query returns them: who to write to, and what a segment reads."""
    stored = wallet.stored(item)
    source = source_of(item)
    subscribed = item.get("subscribed", True)
    holder = Holder(member_id=item["member_id"], chat_id=item.get("chat_id"), language=item.get("language", "ru"),
                    referred_by=item.get("referred_by"), subscribed=subscribed, name=item.get("name"),
                    time_zone=item.get("time_zone"), interests=item.get("interests") or {})
    return holder, member_of(stored, now, source=source, subscribed=subscribed, rating=item.get("survey_rating"),
                             recommends=item.get("survey_recommends"), interests=item.get("interests"))

