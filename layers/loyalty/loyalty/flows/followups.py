"""What follows an accepted receipt, on the program file's script: the onboarding branch of the channel the member
first bought in, the nudges (to the brand's site, or between marketplaces) and the post-purchase survey.

An accepted receipt schedules them (AccrualQueue, keyed on the receipt: a replay schedules nothing twice); the
campaigns run sends what is due through CampaignQueue, paced, as a touch the campaign report counts (delivered,
converted, revenue). Nothing reaches a member who said /stop or blocked the bot; a nudge waits `every_days` between
two sends and never comes again after "не интересно"; a survey comes at most once every `every_days`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loyalty.contracts import CampaignBonusWithdrawn, CampaignMessage, OutboundMessage, ReceiptAccepted
from loyalty.domain import contact, levels
from loyalty.domain.bot_program import Nudge, Scripted, When, words
from loyalty.domain.campaigns import Touch
from loyalty.domain.conversation import FollowUp
from loyalty.domain.messages import render
from loyalty.flows import keyboards
from loyalty.flows.letters import NOTICES, merged_text, tracked_link
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.ledger import Entry, Holder
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.campaigns import Touches
    from loyalty.flows.ports import FollowUpStore, Ledger, Outbox, Queue

SURVEY = "survey"
# (campaign name for the report, text, buttons, goal days, goal channel): a scripted letter as it would go now
Built = tuple[str, str, list[list[tuple[str, str]]], int, str | None]
_GOODS_SHOWN = 3  # a survey names at most this many of the receipt's goods


class FollowUps:
    def __init__(self, program: Program, table: FollowUpStore, ledger: Ledger, touches: Touches | None = None,
                 link_base: str = "", keyed: Keyed | None = None, outbox: Outbox | None = None,
                 accrual_queue: Queue | None = None):
        self.program = program
        self.outbox = outbox  # the postman's: merged notices go there
        self.accrual_queue = accrual_queue  # a dropped campaign letter's bonus is taken back through it
        self.keyed = keyed  # the ids of scheduled follow-ups (a nudge's link): None on the sending side
        self.table = table
        self.ledger = ledger
        self.touches = touches  # None: only scheduling (the accrual side)
        self.link_base = link_base  # the HTTP API's address (tracked links); empty: the brand's link as it is
        # Whether the console stopped a campaign (flows/console_read.py: ConsoleRead.stopped): its waiting letters go.
        self.stopped: Callable[[str, datetime], bool] | None = None

    # ------------------------------------------------------------------ scheduling, on an accepted receipt
    def writes(self, accepted: ReceiptAccepted, now: datetime) -> Callable[[Entry], list[Any]]:
        """The follow-ups a receipt's entry starts, as writes for the ledger's transaction (Ledger.apply's `also`):
        kept with the entry or not at all. One that is held for the staff, or earned nothing, starts none."""
        def writes(entry: Entry) -> list[Any]:
            details = entry.details
            if details.held_by or not details.earned:
                return []
            return self.table.scheduled_writes(self.planned(accepted, now, details.first_purchase))
        return writes

    def planned(self, accepted: ReceiptAccepted, now: datetime, first_purchase: bool) -> list[FollowUp]:
        """The follow-ups a receipt starts. Their ids are keyed (a replayed receipt makes the same ones; nobody can
        forge a nudge's link from what the receipt prints)."""
        assert self.keyed is not None, "scheduling follow-ups needs the stack's key"
        bot, member_id, short_id = self.program.bot, accepted.shopper.member_id, self.keyed.id
        kind = accepted.channel_kind
        scheduled: list[FollowUp] = []
        context: dict[str, Any] = {"member_id": member_id, "fiscal_key": accepted.fiscal_key,
                                   "channel": accepted.channel, "store": accepted.store,
                                   "goods": [line.name for line in accepted.lines if line.name][:_GOODS_SHOWN]}
        if first_purchase:
            branch = accepted.channel if accepted.channel in bot.onboarding else kind
            for step, message in enumerate(bot.onboarding.get(branch, [])):
                if not message.on:
                    continue
                scheduled.append(FollowUp(id=short_id(member_id, "onboarding", branch, str(step)), kind="onboarding",
                                          name=branch, step=step,
                                          due_at=now + timedelta(hours=message.after_hours), **context))
        for nudge in bot.nudges:
            if nudge.on and (accepted.channel in nudge.after_purchase_in or kind in nudge.after_purchase_in):
                scheduled.append(FollowUp(id=short_id(member_id, "nudge", nudge.name, accepted.fiscal_key),
                                          kind="nudge", name=nudge.name,
                                          due_at=now + timedelta(hours=nudge.after_hours), **context))
        if bot.survey is not None:
            scheduled.append(FollowUp(id=short_id(member_id, SURVEY, accepted.fiscal_key), kind=SURVEY, name=SURVEY,
                                      due_at=now + timedelta(hours=bot.survey.after_hours), **context))
        return scheduled

    # ------------------------------------------------------------------ the postman, from the campaigns run
    def run(self, now: datetime) -> dict[str, int]:
        """Every member's due letters, as the contact policy lets them go now: at most one message each (the due
        notices merged), the rest moved to their next slot, what waited too long dropped."""
        counts: Counter[str] = Counter()
        by_member: dict[str, list[FollowUp]] = {}
        for letter in self.table.due(now):
            by_member.setdefault(letter.member_id, []).append(letter)
        for member_id, letters in by_member.items():
            try:
                counts.update(self.deliver(member_id, letters, now))
            except Exception:  # one member's trouble must not hold the others back; the next run retries it
                logger.exception("letters not sent", extra={"member_id": member_id, "letters": len(letters)})
                counts["failed"] += 1
        if counts:
            logger.info("letters run", extra={"at": now.isoformat(), **counts})
        return dict(counts)

    def send(self, letter: FollowUp, now: datetime) -> str:
        """One due letter alone: sent, skipped, held or dropped."""
        outcome = self.deliver(letter.member_id, [letter], now)
        return next(iter(outcome)) if outcome else "held"

    def deliver(self, member_id: str, letters: list[FollowUp], now: datetime) -> Counter[str]:
        """One member's due letters now (domain/contact.py: plan)."""
        assert self.touches is not None, "sending needs the campaign touches"
        outcome: Counter[str] = Counter()
        wallet, _, holder = self.ledger.read(member_id)  # read once: what every letter is checked against
        built: dict[str, Built] = {}
        alive: dict[str, FollowUp] = {}
        for letter in letters:
            message = self._still_true(letter, holder, wallet, now)
            if message is None:
                self.table.settle(letter.id, "skipped")
                self._unsent(letter, "stopped" if self._stopped(letter, now) else "skipped", now)
                outcome["skipped"] += 1
                continue
            alive[letter.id], built[letter.id] = letter, message
        policy = self.program.contact
        decided = contact.plan(policy, policy.zone(holder.language, holder.time_zone), [
            contact.Due(id=letter.id, kind=letter.kind, scheduled_for=letter.first_due) for letter in alive.values()],
            self.table.contacts(member_id, now - timedelta(days=7)), now)
        for letter_id in decided.drop:
            self._drop(alive[letter_id], now)
            outcome["dropped"] += 1
        if decided.send:
            chosen = [alive[letter_id] for letter_id in decided.send]
            self._send(chosen, built, holder, wallet, now)
            self.table.contacted(member_id, contact.Sent(at=now, marketing=contact.marketing(chosen[0].kind)))
            outcome["sent"] += 1
            if len(chosen) > 1:
                outcome["merged"] += len(chosen) - 1
        for letter_id, slot in decided.postpone.items():
            if self.table.postpone(letter_id, slot):
                self.touches.store.add(_counted_as(alive[letter_id]), held=1)
                outcome["held"] += 1
        return outcome

    def _still_true(self, letter: FollowUp, holder: Holder, wallet: Wallet, now: datetime) -> Built | None:
        """What the letter would say now, or None when it should not go at all: its member blocked the bot or said
        /stop (marketing), or what it assumes is no longer so."""
        if holder.chat_id is None or (contact.marketing(letter.kind) and not holder.subscribed):
            return None
        if letter.kind == contact.Kind.CAMPAIGN and self._bought_since(letter, wallet):
            return None  # a win-back's "we miss you" to someone who has bought since it was written
        if self._stopped(letter, now):
            return None  # the console stopped its campaign while the letter waited for its slot
        if letter.kind == contact.Kind.REMINDER and not self._still_expiring(letter, wallet):
            return None  # "N points expire on …" after they were spent or have expired
        if letter.kind in _PREPARED:
            return ("", "", [], 0, None)  # prepared when posted: sent as it is
        return self._message(letter, holder, wallet, now)

    def _stopped(self, letter: FollowUp, now: datetime) -> bool:
        return letter.kind == contact.Kind.CAMPAIGN and self.stopped is not None and self.stopped(letter.name, now)

    def _still_expiring(self, letter: FollowUp, wallet: Wallet) -> bool:
        """Whether the points the reminder counted are all still there, still to expire (its touch names the
        ledger's reminder entry, which names the lots)."""
        entry_id = str(letter.payload.get("touch", "")).split(":", 2)[-1]
        entry = self.ledger.entry(letter.member_id, entry_id)
        if entry is None or not entry.details.reminded:
            return True  # nothing to check it against: as it was written
        lots = [wallet.lots.get(lot_id) for lot_id in entry.details.reminded]
        left = sum(lot.points for lot in lots if lot is not None)
        return left > 0 and left == entry.details.points

    def _bought_since(self, letter: FollowUp, wallet: Wallet) -> bool:
        campaign = self.program.campaign(letter.name)
        if campaign is None or campaign.kind != "winback":
            return False
        last = wallet.facts.last_purchase_at
        return last is not None and last > letter.first_due

    def _send(self, chosen: list[FollowUp], built: dict[str, Built], holder: Holder, wallet: Wallet,
              now: datetime) -> None:
        assert self.touches is not None and holder.chat_id is not None
        first = chosen[0]
        if first.kind == contact.Kind.NOTICE:
            text = merged_text(chosen, holder.language, wallet.balance.available)
            assert self.outbox is not None, "sending notices needs the outbox"
            self.outbox.put(OutboundMessage(dedupe_key="letters:" + "+".join(sorted(one.id for one in chosen)),
                                            chat_id=holder.chat_id, text=text))
            for letter in chosen:
                self.table.settle(letter.id, "sent" if letter is first else "merged")
            if len(chosen) > 1:
                self.touches.store.add(NOTICES, merged=len(chosen) - 1)
            return
        if first.kind in (contact.Kind.CAMPAIGN, contact.Kind.REMINDER):
            self.touches.queue.put(CampaignMessage.model_validate(first.payload))
            self.table.settle(first.id, "sent")
            return
        campaign, text, buttons, goal_days, goal_channel = built[first.id]
        touch = Touch(campaign=campaign, step=first.step, member_id=first.member_id,
                      key=f"{campaign}:{first.step}:{first.id}")
        self.touches.deliver(touch, holder, text, keyboards.inline_keyboard(buttons) if buttons else None, now,
                             goal_days=goal_days, goal_channel=goal_channel)
        if first.kind != "onboarding":
            self.table.nudged(first.member_id, first.name, now)
        self.table.settle(first.id, "sent")

    def _drop(self, letter: FollowUp, now: datetime) -> None:
        """A letter that waited past its max delay: never sent late. A campaign's bonus goes back with it."""
        assert self.touches is not None
        self.table.settle(letter.id, "dropped")
        if not self._unsent(letter, "dropped", now):
            self.touches.store.add(_counted_as(letter), dropped=1)
        logger.info("letter dropped: waited past its max delay", extra={"letter": letter.id, "kind": letter.kind})

    def _unsent(self, letter: FollowUp, status: str, now: datetime) -> bool:
        """A campaign's letter that will never go (dropped, stopped, no longer true): its touch settled so, and the
        bonus it paid taken back (a bonus is for an offer the member saw). False: not a campaign's letter."""
        assert self.touches is not None
        if letter.kind not in (contact.Kind.CAMPAIGN, contact.Kind.REMINDER) or not letter.payload:
            return False
        message = CampaignMessage.model_validate(letter.payload)
        if self.touches.store.settle(message.campaign, message.touch, status, now) and self.accrual_queue is not None:
            self.accrual_queue.put(CampaignBonusWithdrawn(member_id=message.member_id, touch=message.touch))
        return True

    def _message(self, followup: FollowUp, holder: Holder, wallet: Wallet, now: datetime) -> Built | None:
        """(campaign name for the report, text, buttons, goal days, goal channel), or None: not to be sent. Only a
        nudge has a goal: an onboarding message or a survey never takes a purchase from the offer before it."""
        bot, language = self.program.bot, holder.language
        if followup.kind == "onboarding":
            steps = bot.onboarding.get(followup.name, [])
            if followup.step >= len(steps):
                return None
            step: Scripted = steps[followup.step]
            if not step.on or not self._holds(step.when, wallet, now):  # switched off in the console since
                return None
            buttons = [[(self._fill(words(button.text, language), wallet), button.url)] for button in step.buttons]
            return f"onboarding_{followup.name}", self._fill(words(step.text, language), wallet), buttons, 0, None
        if followup.kind == "nudge":
            nudge: Nudge | None = bot.nudge(followup.name)
            if nudge is None or not nudge.on \
                    or not self._may_nudge(followup.member_id, nudge.name, nudge.every_days, now) \
                    or not self._holds(nudge.when, wallet, now):
                return None
            link = tracked_link(self.link_base, followup.id) if self.link_base else nudge.link.url
            buttons = [[(words(nudge.link.text, language), link)],
                       [(render("button_not_interested", language), f"nudge_off:{nudge.name}")]]
            return nudge.name, self._fill(words(nudge.text, language), wallet), buttons, nudge.goal_days, \
                nudge.goal_channel
        survey = bot.survey
        if survey is None or not self._may_nudge(followup.member_id, SURVEY, survey.every_days, now):
            return None
        goods = ", ".join(followup.goods) or render("survey_goods_default", language)
        store = self.program.place(followup.channel, followup.store)
        text = render("survey_question", language, goods=goods, store=store)
        buttons = [[(str(rating), f"rate:{followup.id}:{rating}") for rating in range(1, 6)]]
        return SURVEY, text, buttons, 0, None

    def _holds(self, when: When | None, wallet: Wallet, now: datetime) -> bool:
        """Whether what a scripted message assumes is still so now, as the member's wallet says."""
        if when is None:
            return True
        ranks = {level.id: rank for rank, level in enumerate(self.program.levels)}
        return when.holds(wallet.balance.pending, wallet.spendable_points(now),
                          levels.current_index(self.program, wallet), lambda level_id: ranks.get(level_id, 0))

    def _may_nudge(self, member_id: str, name: str, every_days: int, now: datetime) -> bool:
        state = self.table.nudge_state(member_id, name)
        if state.get("stopped_at"):
            return False
        last = state.get("last_sent_at")
        return last is None or datetime.fromisoformat(str(last)) + timedelta(days=every_days) <= now

    def _fill(self, text: str, wallet: Wallet) -> str:
        """The program's own text, with {brand} (and {balance}) filled in."""
        text = text.replace("{brand}", self.program.brand.name)
        if "{balance}" in text:
            text = text.replace("{balance}", str(wallet.balance.available))
        return text


_PREPARED = (contact.Kind.NOTICE, contact.Kind.CAMPAIGN, contact.Kind.REMINDER)  # sent as written when posted


def _counted_as(letter: FollowUp) -> str:
    """The campaign name a letter's figures go under (`loyalty campaign stats NAME`)."""
    if letter.kind == contact.Kind.ONBOARDING:
        return f"onboarding_{letter.name}"
    return letter.name
