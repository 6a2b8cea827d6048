"""What each event does to a member's wallet under the program's rules: the step a ledger entry records.

Purchases, bonuses and refunds come from the queue; holds, commits and releases from the brand's site;
activations, reminders, expiries, stale holds and level reviews are *due* at a time and are found by
`due_actions` when the schedule runs. Every step is computed from the wallet it is applied to, so a
writer that lost a race recomputes it on the fresh wallet.
"""


from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loyalty.domain import levels
from loyalty.domain import wallet as w
from loyalty.domain.birthday import Birthday, correctable_from, gift_due
from loyalty.domain.bot_program import words
from loyalty.domain.campaigns import Bonus, entered, member_of
from loyalty.domain.challenges import Event, Progress, advance
from loyalty.domain.details import Details, MovedLot
from loyalty.domain.draw import BOOST
from loyalty.domain.errors import BirthdayLocked, NoSpins
from loyalty.domain.facts import Facts, Good
from loyalty.domain.ledger import Cause, Entry, Kind, entry_id_of
from loyalty.domain.points import expiry_of, moscow_day
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.texts import RU
from loyalty.domain.wallet import Badge, Boost, Step, Wallet

if TYPE_CHECKING:
    from loyalty.domain.draw import Prize
    from loyalty.domain.earning import PurchaseCredit
    from loyalty.domain.program import Program


def purchase(program: "Program", wallet: Wallet, lot_id: str, credit: "PurchaseCredit", brand_sum_kopecks: int,
             store: str, channel: str = "other", purchased_at: datetime | None = None, held: bool = False) -> Step:
    """The ledger step of a purchase `earning.purchase_credit` computed on this wallet (made at `purchased_at`,
    when the receipt was issued: by default when it was credited). A held purchase's points stay pending until the
    staff decide."""
    now = credit.earned_at
    step = w.credit(wallet, lot_id, credit.points, now, credit.available_at, credit.expires_at, label=store,
                    held=held)
    after = w.record(step.wallet, moscow_day(now), receipts=1, spend_kopecks=brand_sum_kopecks, earned=credit.points)
    facts = after.facts.purchased(purchased_at or now, channel, brand_sum_kopecks,
                                  (line.category for line in credit.lines),
                                  [Good(name=line.name, gtin=line.gtin, sum_kopecks=line.sum_kopecks)
                                   for line in credit.lines])
    boosts = tuple(boost for boost in after.boosts if boost.until > now and boost.campaign != credit.boost)
    after = after.model_copy(update={"facts": facts, "boosts": boosts})  # a boost pays once; stale ones go
    leveled = _leveled(program, step, after, now, Details(
        percent=str(credit.percent), earned=credit.earned, capped=credit.capped,
        first_purchase=credit.first_purchase, pending=credit.pending, campaign=credit.boost,
        boost_points=credit.boost_points or None))
    entered = _entered(program, wallet, leveled.wallet, now)
    leveled = leveled.model_copy(update={"details": leveled.details | Details(entered=entered)}) if entered \
        else leveled
    if held or not credit.earned:  # held: the staff decide first, and an approval gives what this would have
        return leveled  # (held_decision); none of the brand's goods: no spin, and no challenge moves
    event = Event(at=purchased_at or now, kind="purchase", channel_kind=program.channel_kind(channel))
    return challenged(program, _with_spins(program, leveled), event, lot_id, now, credit.available_at)


def _with_spins(program: "Program", step: Step) -> Step:
    """An accepted purchase earns spins of the prize draw (more at some levels, `draw.level_spins`)."""
    spins = program.draw.spins_for(step.wallet.level) if program.draw is not None else 0
    if not spins:
        return step
    return step.model_copy(update={"wallet": step.wallet.model_copy(update={"spins": step.wallet.spins + spins}),
                                   "details": step.details | Details(spins=spins)})


def _entered(program: "Program", before: Wallet, after: Wallet, now: datetime) -> list[str]:
    """The triggered campaigns whose segment this change brought the member into."""
    triggered = [(campaign.name, program.segments[campaign.segment]) for campaign in program.campaigns
                 if campaign.kind == "triggered" and campaign.segment is not None]
    if not triggered:
        return []
    was, now_is = member_of(before, now), member_of(after, now)  # once per purchase, not once per campaign
    return [name for name, segment in triggered if entered(segment, was, now_is, now)]


def bonus(program: "Program", wallet: Wallet, lot_id: str, points: int, label: str, now: datetime,
          review: bool = False, held: bool = False) -> Step:
    """A bonus is available at once (unless `held` for the staff, with the purchase that paid it) and expires like
    any points."""
    step = w.credit(wallet, lot_id, points, now, now, expiry_of(program, now), label=label, held=held)
    after = w.record(step.wallet, moscow_day(now), reviews=1) if review else step.wallet
    leveled = _leveled(program, step, after, now)
    return challenged(program, leveled, Event(at=now, kind="review"), lot_id, now) if review else leveled


def challenged(program: "Program", step: Step, event: Event, lot_id: str, now: datetime,
               available_at: datetime | None = None) -> Step:
    """The step with every open challenge moved by `event`. A round it completes pays its reward in this same
    step, so once, with the entry that completed it: its points as a lot of their own (`<lot>~<challenge>`, expiring
    like any bonus), its badge and its spins. The points become available with the purchase that completed it
    (`available_at`: a marketplace's after its return window) and go as it goes: held with it, taken back with it
    (`challenge_lots`)."""
    wallet, completed = step.wallet, []
    progress = dict(wallet.challenges)
    for challenge in program.challenges:
        before = progress.get(challenge.id, Progress())
        moved, done = advance(challenge, before, event)
        if moved != before:
            progress[challenge.id] = moved
        if done:
            completed.append(challenge)
    if progress == wallet.challenges:
        return step
    change, points = step.change, 0
    wallet = wallet.model_copy(update={"challenges": progress})
    available = max(now, available_at or now)
    for challenge in completed:
        reward = challenge.reward
        if reward.points:
            credited = w.credit(wallet, f"{lot_id}~{challenge.id}", reward.points, now, available,
                                expiry_of(program, available), label=f"задание «{words(challenge.title, RU)}»")
            wallet, change, points = credited.wallet, change + credited.change, points + reward.points
        wallet = wallet.model_copy(update={
            "spins": wallet.spins + reward.spins,
            "badges": (*wallet.badges, Badge(challenge=challenge.id, earned_at=now)) if reward.badge
            else wallet.badges})
    details = Details(challenges=[challenge.id for challenge in completed], challenge_points=points) if completed \
        else Details()
    return step.model_copy(update={"wallet": wallet, "change": change, "details": step.details | details})


def spun(program: "Program", wallet: Wallet, number: int, prize: "Prize | None", now: datetime) -> Step:
    """The member's spin `number` of the prize draw, decided (domain/draw.py: spin): one spin used, and the prize
    given as any bonus: points (a lot of their own, available at once), a multiplier on the next receipt (a boost),
    or a reward from the catalog (the staff send it: no points move)."""
    if wallet.spins < 1 or wallet.spins_used + 1 != number:
        raise NoSpins()
    wallet = wallet.model_copy(update={"spins": wallet.spins - 1, "spins_used": number})
    details = Details(spin=number, prize=prize.id if prize else None)
    if prize is None or prize.kind == "reward":
        return Step(wallet=wallet, change=w.Balance(), details=details | Details(
            reward=prize.reward if prize else None))
    if prize.kind == "points":
        credited = w.credit(wallet, entry_id_of(Cause.DRAW, str(number)), prize.points, now, now,
                            expiry_of(program, now), label=f"приз: {words(prize.title, RU)}")
        return credited.model_copy(update={"details": credited.details | details})
    assert prize.multiplier is not None
    boost = Boost(campaign=f"{BOOST}{number}", multiplier=prize.multiplier, until=now + timedelta(days=prize.days))
    return Step(wallet=wallet.model_copy(update={"boosts": (*wallet.boosts, boost)}), change=w.Balance(),
                details=details)


def birthday_given(wallet: Wallet, month: int, day: int, now: datetime) -> Step:
    """The member's birthday, as they gave it: the first time at any moment, a correction a year after the last
    (BirthdayLocked before). The same date again changes nothing."""
    given = wallet.birthday
    if given is not None and (given.month, given.day) == (month, day):
        return Step(wallet=wallet, change=w.Balance())
    if given is not None and now < correctable_from(given):
        raise BirthdayLocked(correctable_from(given))
    birthday = Birthday(month=month, day=day, set_at=now, changes=given.changes + 1 if given else 1,
                        gifted=given.gifted if given else 0)
    return Step(wallet=wallet.model_copy(update={"birthday": birthday}), change=w.Balance())


def _birthday_gift(program: "Program", wallet: Wallet, year: int, now: datetime) -> Step:
    """The year's gift: points available now for `valid_days`, if the member's level has the perk (else the year
    passes with nothing, so it is not due again)."""
    gift, birthday = program.birthday, wallet.birthday
    assert gift is not None and birthday is not None
    gifted = wallet.model_copy(update={"birthday": birthday.model_copy(update={"gifted": year})})
    gate = program.level(gift.min_level)
    if gate is not None and levels.current_index(program, wallet) < program.levels.index(gate):
        return Step(wallet=gifted, change=w.Balance(), details=Details(birthday=year, level=wallet.level))
    credited = w.credit(gifted, entry_id_of(Cause.BIRTHDAY, f"gift:{year}"), gift.points, now, now,
                        now + timedelta(days=gift.valid_days), label="подарок ко дню рождения")
    return credited.model_copy(update={"details": credited.details | Details(
        birthday=year, level=wallet.level, expires_at=now + timedelta(days=gift.valid_days))})


def _birthday_due(program: "Program", wallet: Wallet) -> tuple[int, datetime] | None:
    if program.birthday is None or wallet.birthday is None:
        return None
    return gift_due(program.birthday, wallet.birthday)


def challenge_lots(wallet: Wallet, lot_id: str) -> list[str]:
    """The lots of the challenge rewards the purchase `lot_id` completed."""
    return sorted(key for key in wallet.lots if key.startswith(f"{lot_id}~"))


def refund(wallet: Wallet, lot_id: str, points: int, refunded_kopecks: int, whole: bool, now: datetime,
           channel: str = "other") -> Step:
    """A refund takes back its purchase's points and its spend (and the receipt, when all was returned). A whole
    refund also takes back what is left of the challenge rewards the purchase completed (`challenge_lots`)."""
    step = w.reverse(wallet, lot_id, points, now)
    if whole:
        for challenge_lot in challenge_lots(step.wallet, lot_id):
            step = _also(step, w.reverse(step.wallet, challenge_lot, step.wallet.lots[challenge_lot].points, now))
    after = w.record(step.wallet, moscow_day(now), receipts=-1 if whole else 0, spend_kopecks=-refunded_kopecks)
    after = after.model_copy(update={"facts": after.facts.refunded(channel, refunded_kopecks, whole)})
    return step.model_copy(update={"wallet": after})


def _also(step: Step, then: Step) -> Step:
    """Two reversals as one step: the wallet after both, their change and what they took summed."""
    details = step.details.model_copy(update={
        "reversed": step.details.reversed + then.details.reversed,
        "shortfall": step.details.shortfall + then.details.shortfall,
        "lots": {**step.details.lots, **then.details.lots}})
    return Step(wallet=then.wallet, change=step.change + then.change, details=details)


def held_decision(program: "Program", wallet: Wallet, lot_id: str, approved: bool, brand_sum_kopecks: int,
                  channel: str, now: datetime, bonuses: Iterable[str] = (),
                  purchased_at: datetime | None = None) -> Step:
    """The staff's decision on a held purchase: approved, its points are released (available now, or when its
    return window ends); rejected, they are taken back and the purchase no longer counts. So are the `bonuses`
    (lots) it paid that were held with it (an invitation's, held later) and its challenge rewards. A purchase held
    from the start moved no challenge: approved, it moves them now (`purchased_at` says it was held from the start:
    when it was made)."""
    if approved:
        step = w.unhold(wallet, lot_id, now)
    else:
        lot = wallet.lots.get(lot_id)  # taken whole from its own lot, which goes with it (held flag and all)
        step = refund(wallet, lot_id, lot.points if lot else 0, brand_sum_kopecks, True, now, channel)
    for bonus in (*bonuses, *challenge_lots(wallet, lot_id)):
        settled = held_bonus(step.wallet, bonus, approved, now)
        step = step.model_copy(update={"wallet": settled.wallet, "change": step.change + settled.change})
    if approved and purchased_at is not None:
        released = step.wallet.lots.get(lot_id)
        event = Event(at=purchased_at, kind="purchase", channel_kind=program.channel_kind(channel))
        step = challenged(program, _with_spins(program, step), event, lot_id, now,
                          released.available_at if released else now)
    return step


def held_bonus(wallet: Wallet, lot_id: str, approved: bool, now: datetime) -> Step:
    """A bonus held with the purchase that paid it, as the staff decided on that purchase: released, or what is
    left of it taken back. A bonus not held (never paid, or not held with it) is left as it is."""
    lot = wallet.lots.get(lot_id)
    if lot is None or not lot.held:
        return Step(wallet=wallet, change=w.Balance())
    return w.unhold(wallet, lot_id, now) if approved else w.reverse(wallet, lot_id, lot.points, now)


def freeze(wallet: Wallet, lot_id: str, bonuses: Iterable[str] = ()) -> Step:
    """A purchase found suspicious after it was credited: what is left of its lot waits for the staff, and of the
    `bonuses` it paid (an invitation's) and the challenge rewards it completed."""
    step = w.freeze(wallet, lot_id)
    for bonus in (*bonuses, *challenge_lots(wallet, lot_id)):
        frozen = w.freeze(step.wallet, bonus)
        step = step.model_copy(update={"wallet": frozen.wallet, "change": step.change + frozen.change})
    return step


def campaign_bonus(wallet: Wallet, lot_id: str, campaign: str, bonus: Bonus, now: datetime,
                   cap_points: int | None = None) -> Step:
    """A campaign's bonus: points available at once with their own short life, or a boost for a while (adding at
    most `cap_points`)."""
    if bonus.points is not None:
        expires = now + timedelta(days=bonus.expires_in_days or 1)
        step = w.credit(wallet, lot_id, bonus.points, now, now, expires, label="бонус по акции")
        return step.model_copy(update={"details": step.details | Details(campaign=campaign)})
    assert bonus.multiplier is not None and bonus.days is not None  # the model allows nothing else
    boost = w.Boost(campaign=campaign, multiplier=bonus.multiplier, until=now + timedelta(days=bonus.days),
                    min_receipt_kopecks=(bonus.min_receipt_roubles or 0) * 100, cap_points=cap_points)
    kept = tuple(old for old in wallet.boosts if old.campaign != campaign)
    return Step(wallet=wallet.model_copy(update={"boosts": (*kept, boost)}), change=w.Balance(),
                details=Details(campaign=campaign, multiplier=f"{bonus.multiplier.normalize():f}",
                                expires_at=boost.until))


def campaign_withdrawal(wallet: Wallet, lot_id: str, campaign: str, now: datetime) -> Step:
    """Take back a campaign's bonus that its member never saw: what is left of its points (what they spent of it
    stays spent), or the campaign's boost."""
    boosts = tuple(boost for boost in wallet.boosts if boost.campaign != campaign)
    lot = wallet.lots.get(lot_id)
    step = w.reverse(wallet, lot_id, lot.points, now) if lot is not None and lot.points else \
        Step(wallet=wallet, change=w.Balance())
    return step.model_copy(update={"wallet": step.wallet.model_copy(update={"boosts": boosts}),
                                   "details": step.details | Details(campaign=campaign)})


def opening(program: "Program", wallet: Wallet, lot_id: str, points: int, expires_at: datetime | None,
            level: str | None, now: datetime) -> Step:
    """An imported member's opening balance (available at once, expiring when the old system said) and level
    (if higher than the member's; held until the program's next review of it, like one earned here)."""
    step = w.credit(wallet, lot_id, points, now, now, expires_at, label="прежняя программа")
    return _raised(program, step, wallet, level, now)


def _raised(program: "Program", step: Step, before: Wallet, level: str | None, now: datetime) -> Step:
    """`step` with the member's level raised to `level` (never lowered)."""
    brought = program.level(level)
    current = levels.current_index(program, before) if before.level is not None else -1
    if brought is None or program.levels.index(brought) <= current:
        return step
    after = levels.with_level(step.wallet, brought, "up", now, reviewed=False)
    return step.model_copy(update={"wallet": after, "details": step.details | Details(
        level_before=before.level, level=after.level, level_move="up")})


def transfer_out(wallet: Wallet, to_member: str) -> Step:
    """Every lot with points left leaves this wallet (an imported member's, for the member who proved the phone),
    each taken whole as an expiry takes it; the entry keeps them, so the receiving side is written from it."""
    moved = [MovedLot(lot=lot_id, points=lot.points, available_at=lot.available_at, expires_at=lot.expires_at,
                      label=lot.label) for lot_id, lot in wallet.lots.items() if lot.points > 0]
    step = Step(wallet=wallet, change=w.Balance())
    for lot in moved:
        taken = w.expire(step.wallet, lot.lot)
        step = Step(wallet=taken.wallet, change=step.change + taken.change)
    return step.model_copy(update={"details": Details(moved=moved, transfer=to_member)})


def forfeit(wallet: Wallet, now: datetime) -> Step:
    """/delete: what the member had is written off — every hold released (a promo code given out no longer pays),
    then every lot left, available or pending, taken as a transfer takes it but to nobody. Their birthday is
    forgotten (personal data), and no gift falls due."""
    step = Step(wallet=wallet.model_copy(update={"birthday": None}), change=w.Balance())
    for hold_id in list(wallet.holds):
        released = w.release(step.wallet, hold_id, now, reason="account deleted")
        step = Step(wallet=released.wallet, change=step.change + released.change)
    out = transfer_out(step.wallet, "")
    return Step(wallet=out.wallet, change=step.change + out.change,
                details=Details(reason="account deleted", moved=out.details.moved))


def transfer_in(program: "Program", wallet: Wallet, from_member: str, moved: list[MovedLot], level: str | None,
                now: datetime) -> Step:
    """The lots another member's transfer_out took, credited as they were (same points, availability and
    expiry; debt is paid first, as from any credit), and their level if it is higher."""
    step = Step(wallet=wallet, change=w.Balance())
    for lot in moved:
        credited = w.credit(step.wallet, f"{from_member}/{lot.lot}", lot.points, now, lot.available_at,
                            lot.expires_at, label=lot.label)
        step = Step(wallet=credited.wallet, change=step.change + credited.change)
    step = step.model_copy(update={"details": Details(moved=moved, transfer=from_member,
                                                      debt_paid=-step.change.debt)})
    return _raised(program, step, wallet, level, now)


def facts_of(entries: Iterable[Entry]) -> Facts:
    """A member's facts rebuilt from their purchase and refund entries, oldest first (the backfill)."""
    facts = Facts()
    for entry in sorted(entries, key=lambda entry: entry.created_at):
        details = entry.details
        if entry.kind == Kind.ACCRUAL:
            facts = facts.purchased(details.purchased_at or entry.created_at, details.channel or "other",
                                    details.brand_sum_kopecks, details.categories,
                                    [Good(name=line.name, gtin=line.gtin, sum_kopecks=line.sum_kopecks)
                                     for line in details.lines])
        elif entry.kind == Kind.REFUND:
            facts = facts.refunded(details.channel or "other", details.brand_sum_kopecks, details.whole)
    return facts


def adjustment(program: "Program", wallet: Wallet, lot_id: str, points: int, now: datetime) -> Step:
    """An operator's correction: a credit is available at once and expires like any points; a debit takes
    the points that expire first and never more than are available."""
    if points >= 0:
        return w.credit(wallet, lot_id, points, now, now, expiry_of(program, now), label="корректировка")
    return w.deduct(wallet, -points, now)


def _leveled(program: "Program", step: Step, wallet: Wallet, now: datetime, details: Details | None = None) -> Step:
    before = wallet.level
    level, move = levels.evaluate(program, wallet, now)
    wallet = levels.with_level(wallet, level, move, now, reviewed=False)
    leveled = Details(level_before=before, level=wallet.level, level_move=move)
    return step.model_copy(update={"wallet": wallet, "details": step.details | (details or Details()) | leveled})


class Action(BaseModel):
    """Something due on a wallet: the entry to write and the step it writes."""

    model_config = ConfigDict(defer_build=True, frozen=True, arbitrary_types_allowed=True)

    entry_id: str
    kind: Kind
    apply: Callable[[Wallet], Step]


def due_actions(program: "Program", wallet: Wallet, now: datetime) -> list[Action]:
    """What is due at `now`, in the order it must happen: stale holds go back before points expire."""
    actions = [Action(entry_id=entry_id_of(Cause.RELEASE, hold_id), kind=Kind.RELEASE,
                      apply=partial(w.release, hold_id=hold_id, now=now, reason="expired"))
               for hold_id, placed in sorted(wallet.holds.items()) if placed.expires_at <= now]
    for lot_id, lot in sorted(wallet.lots.items()):
        if not lot.active and not lot.held and lot.available_at <= now and (lot.expires_at is None
                                                                            or lot.expires_at > now):
            actions.append(Action(entry_id=entry_id_of(Cause.ACTIVATION, lot_id), kind=Kind.ACTIVATION,
                                  apply=partial(w.activate, lot_id=lot_id)))
    reminder = timedelta(days=program.earning.expiry.reminder_days)
    soon: dict[datetime, list[str]] = {}
    for lot_id, lot in sorted(wallet.lots.items()):
        if lot.expires_at is None or lot.points == 0:
            continue
        if lot.expires_at <= now:
            actions.append(Action(entry_id=entry_id_of(Cause.EXPIRY, lot_id), kind=Kind.EXPIRY,
                                  apply=partial(w.expire, lot_id=lot_id)))
        elif reminder and not lot.reminded and reminder_at(lot.expires_at, reminder) <= now:
            soon.setdefault(lot.expires_at, []).append(lot_id)
    for expires_at, lot_ids in sorted(soon.items()):  # one reminder per expiry moment, named by its first lot
        actions.append(Action(entry_id=entry_id_of(Cause.REMINDER, lot_ids[0]), kind=Kind.REMINDER,
                              apply=partial(_remind, lot_ids=lot_ids, expires_at=expires_at)))
    review = levels.review_due(program, wallet)
    if review is not None and review <= now:
        actions.append(Action(entry_id=entry_id_of(Cause.LEVEL_REVIEW, moscow_day(review)), kind=Kind.LEVEL_REVIEW,
                              apply=lambda wal: _review(program, wal, now)))
    birthday = _birthday_due(program, wallet)
    if birthday is not None and birthday[1] <= now:
        actions.append(Action(entry_id=entry_id_of(Cause.BIRTHDAY, f"gift:{birthday[0]}"), kind=Kind.BONUS,
                              apply=partial(_birthday_gift, program, year=birthday[0], now=now)))
    return actions


def next_due(program: "Program", wallet: Wallet) -> datetime | None:
    """The earliest moment something becomes due on this wallet (the schedule's index)."""
    reminder = timedelta(days=program.earning.expiry.reminder_days)
    moments = [placed.expires_at for placed in wallet.holds.values()]
    for lot in wallet.lots.values():
        if not lot.active and not lot.held:
            moments.append(lot.available_at)
        if lot.expires_at is not None and lot.points > 0:
            moments.append(lot.expires_at if lot.reminded or not reminder else reminder_at(lot.expires_at, reminder))
    review = levels.review_due(program, wallet)
    if review is not None:
        moments.append(review)
    birthday = _birthday_due(program, wallet)
    if birthday is not None:
        moments.append(birthday[1])
    return min(moments, default=None)


def reminder_at(expires_at: datetime, ahead: timedelta) -> datetime:
    """Noon (Moscow) on the day `ahead` of expiry: nobody is woken by a reminder at midnight."""
    day = (expires_at - ahead).astimezone(MOSCOW).date()
    return datetime.combine(day, time(12), MOSCOW)


def _remind(wallet: Wallet, lot_ids: list[str], expires_at: datetime) -> Step:
    step = w.remind(wallet, [lot_id for lot_id in lot_ids if lot_id in wallet.lots])
    return step.model_copy(update={"details": step.details | Details(expires_at=expires_at)})


def _review(program: "Program", wallet: Wallet, now: datetime) -> Step:
    before = wallet.level
    level, move = levels.evaluate(program, wallet, now)
    after = levels.with_level(wallet, level, move, now, reviewed=True)
    return Step(wallet=after, change=w.Balance(),
                details=Details(level_before=before, level=after.level, level_move=move))
